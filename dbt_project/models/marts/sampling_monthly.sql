-- Grain: one row per (period_month, region_code): sampling and rapid-test indicators, 全部 breakdown.
{{ wide_domain_mart(
    counts=['SMP_BATCHES', 'SMP_QUALIFIED', 'SMP_UNQUALIFIED', 'RT_TESTS', 'RT_POSITIVE', 'RT_DISPOSED_KG'],
    rates=['SMP_PASS_RATE', 'SMP_FAIL_RATE', 'SMP_DISPOSAL_RATE', 'RT_PASS_RATE', 'RT_DISPOSAL_RATE']
) }}
