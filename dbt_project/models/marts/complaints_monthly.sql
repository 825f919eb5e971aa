-- Grain: one row per (period_month, region_code): complaint indicators, 全部 breakdown.
{{ wide_domain_mart(
    counts=['CP_RECEIVED', 'CP_CLOSED', 'CP_ONTIME', 'CP_OVERDUE_OPEN', 'CP_RECOVERED', 'CP_REPEAT_COMPLAINANTS'],
    rates=['CP_CLOSE_RATE', 'CP_ONTIME_RATE']
) }}
