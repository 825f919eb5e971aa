-- Grain: one row per (domain, period_month) the marts publish.
-- Months run from the month of the domain's first delivery to the month of its
-- as_of_date, the last business date loaded for the domain's source
-- (audit.load_files through stg_audit__load_files; the facts' business dates when no load is recorded, e.g.
-- a warehouse filled by fixtures). The current month is month-to-date:
-- period_end = as_of_date.
with loads as (
    select
        source as domain,
        min(business_date) as first_date,
        max(business_date) as last_date
    from {{ ref('stg_audit__load_files') }}
    where status in ('loaded', 'replaced', 'noop')
    group by source
),

fact_dates as (
    select
        'registration' as domain,
        business_date
    from {{ ref('fct_registration_event') }}
    union all
    select
        'registration' as domain,
        snapshot_date
    from {{ ref('fct_entity_opening') }}
    union all
    select
        'registration' as domain,
        business_date
    from {{ ref('fct_annual_report') }}
    union all
    select
        'sampling' as domain,
        business_date
    from {{ ref('fct_sampling_result') }}
    union all
    select
        'sampling' as domain,
        business_date
    from {{ ref('fct_rapid_test') }}
    union all
    select
        'equipment' as domain,
        business_date
    from {{ ref('fct_equipment_inspection') }}
    union all
    select
        'equipment' as domain,
        business_date
    from {{ ref('fct_equipment_hazard') }}
    union all
    select
        'complaints' as domain,
        business_date
    from {{ ref('fct_complaint_status_history') }}
),

fact_bounds as (
    select
        domain,
        min(business_date) as first_date,
        max(business_date) as last_date
    from fact_dates
    group by domain
),

domains as (
    select
        d.domain,
        coalesce(l.first_date, f.first_date) as first_date,
        coalesce(l.last_date, f.last_date) as as_of_date
    from (values ('registration'), ('sampling'), ('equipment'), ('complaints')) as d (domain)
    left join loads as l on d.domain = l.domain
    left join fact_bounds as f on d.domain = f.domain
    where coalesce(l.last_date, f.last_date) is not null
),

months as (
    select
        d.domain,
        cast(m.month_start as date) as period_month,
        d.as_of_date,
        cast(date_trunc('month', d.first_date) as date) as first_month
    from domains as d
    cross join lateral generate_series(
        date_trunc('month', d.first_date), date_trunc('month', d.as_of_date), interval '1 month'
    ) as m (month_start)
),

final as (
    select
        domain,
        period_month,
        cast(extract(year from period_month) as integer) as period_year,
        least(cast(period_month + interval '1 month' - interval '1 day' as date), as_of_date) as period_end,
        as_of_date,
        first_month
    from months
)

select * from final
