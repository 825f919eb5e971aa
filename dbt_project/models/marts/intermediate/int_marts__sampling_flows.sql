-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- sampling (抽检) measures. Period = calendar month of report_date; every
-- sample counted once, in its latest delivered state (fct_sampling_result).
with samples as (
    select * from {{ ref('fct_sampling_result') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'sampling'
),

base as (
    select
        p.period_month,
        s.region_code,
        s.program,
        s.task_level,
        s.stage,
        s.product_category,
        s.verdict,
        s.is_disposal_completed
    from samples as s
    inner join periods as p on cast(date_trunc('month', s.report_date) as date) = p.period_month
),

exploded as (
    select
        b.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        b.verdict,
        b.is_disposal_completed
    from base as b
    {{ mart_region_join('b') }}
    {{ breakdown_rows('b', ['program', 'task_level', 'stage', 'product_category']) }}
),

final as (
    select
        {{ mart_grain() }},
        count(*) as smp_batches,
        count(*) filter (where verdict = '合格') as smp_qualified,
        count(*) filter (where verdict = '不合格') as smp_unqualified,
        count(*) filter (where verdict = '不合格' and is_disposal_completed) as smp_disposed
    from exploded
    group by {{ mart_grain() }}
)

select * from final
