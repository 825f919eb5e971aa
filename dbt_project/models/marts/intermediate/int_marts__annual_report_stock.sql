-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- 年报率 components for report year Y = year(period_month) − 1 (docs/contracts/
-- domain.md#annual-reports):
--   AR_DUE: entities 存续/在业 on 31 December Y (state from the SCD2
--     dim_market_entity; for dates before the register's first version the
--     opening register stands for the state), established on or before that
--     day, and not cancelled (注销/简易注销) on or before 30 June Y+1;
--   AR_REPORTED: those of them with an annual report for Y submitted by the
--     period end. Region and entity_category are the entity's on 31 December Y.
with entities as (
    select
        *,
        min(valid_from) over (partition by uscc) as first_valid_from
    from {{ ref('dim_market_entity') }}
),

reports as (
    select
        uscc,
        report_year,
        min(submitted_date) as submitted_date
    from {{ ref('fct_annual_report') }}
    group by uscc, report_year
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'registration'
),

report_years as (
    select distinct period_year - 1 as report_year
    from periods
),

due as (
    select
        y.report_year,
        e.uscc,
        e.region_code,
        e.entity_category
    from report_years as y
    inner join entities as e
        on
            make_date(y.report_year, 12, 31) < e.valid_to
            and (
                make_date(y.report_year, 12, 31) >= e.valid_from
                or (e.valid_from = e.first_valid_from and e.in_opening_register)
            )
    where
        e.is_active_stock
        and coalesce(e.established_date <= make_date(y.report_year, 12, 31), true)
        and not coalesce(e.cancelled_date <= make_date(y.report_year + 1, 6, 30), false)
),

due_finest as (
    -- entities per (report year, submit month, county, entity_category) before
    -- the region and breakdown rows are added (additive: a count)
    select
        d.report_year,
        cast(date_trunc('month', r.submitted_date) as date) as submit_month,
        d.region_code,
        d.entity_category,
        count(*) as entities
    from due as d
    left join reports as r on d.uscc = r.uscc and d.report_year = r.report_year
    group by d.report_year, 2, d.region_code, d.entity_category
),

due_by_submit_month as (
    select
        d.report_year,
        d.submit_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        sum(d.entities) as entities
    from due_finest as d
    {{ mart_region_join('d') }}
    {{ breakdown_rows('d', ['entity_category']) }}
    group by d.report_year, d.submit_month, rm.region_code, bd.breakdown_type, bd.breakdown_value
),

final as (
    select
        p.period_month,
        d.region_code,
        d.breakdown_type,
        d.breakdown_value,
        sum(d.entities) as ar_due,
        coalesce(sum(d.entities) filter (where d.submit_month <= p.period_month), 0) as ar_reported
    from periods as p
    inner join due_by_submit_month as d on p.period_year - 1 = d.report_year
    group by p.period_month, d.region_code, d.breakdown_type, d.breakdown_value
)

select * from final
