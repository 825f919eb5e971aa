-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- additive special-equipment measures. Periods: inspection_date (inspections),
-- found_date (hazards), registered_date (use registrations, pipelines excluded:
-- they are counted in metres). Breakdown category_code = the 种类 (kind_code,
-- e.g. 3000 电梯).
with inspections as (
    select * from {{ ref('fct_equipment_inspection') }}
),

hazards as (
    select * from {{ ref('fct_equipment_hazard') }}
),

devices as (
    select * from {{ ref('dim_equipment') }}
    where is_current and not is_inferred
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'equipment'
),

activity as (
    select
        'inspection' as activity,
        inspection_date as activity_date,
        region_code,
        kind_code as category_code,
        case when key_supervision then '是' when not key_supervision then '否' end as key_supervision,
        inspection_type,
        user_uscc,
        has_directive,
        is_case_opened,
        fine_amount,
        cast(null as boolean) as is_rectified,
        cast(null as boolean) as is_pipeline
    from inspections
    union all
    select
        'hazard' as activity,
        found_date as activity_date,
        region_code,
        kind_code as category_code,
        cast(null as text) as key_supervision,
        cast(null as text) as inspection_type,
        cast(null as text) as user_uscc,
        cast(null as boolean) as has_directive,
        cast(null as boolean) as is_case_opened,
        cast(null as numeric) as fine_amount,
        is_rectified,
        cast(null as boolean) as is_pipeline
    from hazards
    union all
    select
        'registration' as activity,
        registered_date as activity_date,
        region_code,
        kind_code as category_code,
        case when key_supervision then '是' else '否' end as key_supervision,
        cast(null as text) as inspection_type,
        user_uscc,
        cast(null as boolean) as has_directive,
        cast(null as boolean) as is_case_opened,
        cast(null as numeric) as fine_amount,
        cast(null as boolean) as is_rectified,
        is_pipeline
    from devices
),

base as (
    select
        p.period_month,
        a.*
    from activity as a
    inner join periods as p on cast(date_trunc('month', a.activity_date) as date) = p.period_month
),

exploded as (
    select
        b.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        b.activity,
        b.activity_date,
        b.inspection_type,
        b.user_uscc,
        b.has_directive,
        b.is_case_opened,
        b.fine_amount,
        b.is_rectified,
        b.is_pipeline
    from base as b
    {{ mart_region_join('b') }}
    {{ breakdown_rows('b', ['category_code', 'key_supervision']) }}
),

final as (
    select
        {{ mart_grain() }},
        count(*) filter (where activity = 'registration' and not is_pipeline) as eq_new_reg,
        count(*) filter (where activity = 'inspection' and inspection_type = '监督检查') as eq_inspections,
        -- (user, date) pairs lie within one month, so the monthly counts add up over the year
        count(distinct user_uscc || '|' || cast(activity_date as text))
        filter (where activity = 'inspection' and inspection_type = '监督检查') as eq_units_checked,
        count(*) filter (where activity = 'inspection' and has_directive) as eq_directives,
        count(*) filter (where activity = 'inspection' and is_case_opened) as eq_cases,
        coalesce(sum(fine_amount) filter (where activity = 'inspection'), 0) as eq_fines,
        count(*) filter (where activity = 'hazard') as eq_hazards_found,
        count(*) filter (where activity = 'hazard' and is_rectified) as eq_hazards_rectified
    from exploded
    group by {{ mart_grain() }}
)

select * from final
