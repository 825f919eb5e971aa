-- Grain: one row per (period_month, region_code): registration indicators, 全部 breakdown.
{{ wide_domain_mart(
    counts=['REG_NEW', 'REG_MOVE_IN', 'REG_MOVE_OUT', 'REG_CHANGE', 'REG_CANCEL', 'REG_CANCEL_SIMPLE',
            'REG_REVOKE', 'REG_NET_GROWTH', 'REG_STOCK', 'REG_IND_TO_ENT'],
    rates=['REG_ONLINE_RATE', 'AR_RATE']
) }}
