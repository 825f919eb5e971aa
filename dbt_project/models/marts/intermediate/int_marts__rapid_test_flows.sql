-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- rapid-test (快检) measures. Period = calendar month of test_date.
with tests as (
    select * from {{ ref('fct_rapid_test') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'sampling'
),

base as (
    select
        p.period_month,
        t.region_code,
        t.test_item,
        t.is_positive,
        t.has_disposal,
        t.disposed_kg
    from tests as t
    inner join periods as p on cast(date_trunc('month', t.test_date) as date) = p.period_month
),

exploded as (
    select
        b.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        b.is_positive,
        b.has_disposal,
        b.disposed_kg
    from base as b
    {{ mart_region_join('b') }}
    {{ breakdown_rows('b', ['test_item']) }}
),

final as (
    select
        {{ mart_grain() }},
        count(*) as rt_tests,
        count(*) filter (where is_positive) as rt_positive,
        count(*) filter (where not is_positive) as rt_negative,
        count(*) filter (where is_positive and has_disposal) as rt_positive_disposed,
        coalesce(sum(disposed_kg), 0) as rt_disposed_kg
    from exploded
    group by {{ mart_grain() }}
)

select * from final
