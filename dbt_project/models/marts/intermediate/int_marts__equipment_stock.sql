-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- special-equipment stock at period end (month end, or as_of_date for the
-- current month): the dim_equipment version valid at the end of that day.
-- Unit counts exclude 压力管道 (measured in metres: EQ_PIPELINE_M).
with versions as (
    select * from {{ ref('dim_equipment') }}
    where not is_inferred and is_in_use
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'equipment'
),

at_period_end as (
    select
        p.period_month,
        p.period_end,
        v.region_code,
        v.kind_code as category_code,
        case when v.key_supervision then '是' else '否' end as key_supervision,
        v.is_pipeline,
        v.next_inspection_due,
        v.pipeline_length_m,
        v.user_uscc
    from periods as p
    inner join versions as v on p.period_end >= v.valid_from and p.period_end < v.valid_to
),

exploded as (
    select
        a.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        a.period_end,
        a.is_pipeline,
        a.next_inspection_due,
        a.pipeline_length_m,
        a.user_uscc
    from at_period_end as a
    {{ mart_region_join('a') }}
    {{ breakdown_rows('a', ['category_code', 'key_supervision']) }}
),

final as (
    select
        {{ mart_grain() }},
        count(*) filter (where not is_pipeline) as eq_in_use,
        count(*) filter (where not is_pipeline and next_inspection_due >= period_end) as eq_in_use_inspected,
        count(*) filter (
            where not is_pipeline and (next_inspection_due is null or next_inspection_due < period_end)
        ) as eq_overdue,
        coalesce(sum(pipeline_length_m) filter (where is_pipeline), 0) as eq_pipeline_m,
        count(distinct user_uscc) as eq_users
    from exploded
    group by {{ mart_grain() }}
)

select * from final
