-- Grain: one row per (period_month, region_code): special-equipment indicators, 全部 breakdown.
{{ wide_domain_mart(
    counts=['EQ_IN_USE', 'EQ_PIPELINE_M', 'EQ_USERS', 'EQ_NEW_REG', 'EQ_INSPECTIONS', 'EQ_UNITS_CHECKED',
            'EQ_OVERDUE', 'EQ_HAZARDS_FOUND', 'EQ_HAZARDS_RECTIFIED', 'EQ_DIRECTIVES', 'EQ_CASES', 'EQ_FINES'],
    rates=['EQ_INSPECTION_RATE', 'EQ_OVERDUE_RATE', 'EQ_RECTIFY_RATE', 'EQ_HAZARD_RATE']
) }}
