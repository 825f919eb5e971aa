-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- REG_STOCK (实有) at period end = opening register (存续/在业 in the entity
-- snapshot) + the cumulative net growth of every event approved up to the
-- period end, each counted by its own region / entity_category /
-- industry_section (macro net_growth_sign).
with opening as (
    select * from {{ ref('fct_entity_opening') }}
    where is_active_stock
),

events as (
    select * from {{ ref('fct_registration_event') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'registration'
),

opening_counts as (
    select
        cast(null as date) as change_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        count(*) as delta
    from opening as o
    {{ mart_region_join('o') }}
    {{ breakdown_rows('o', ['entity_category', 'industry_section']) }}
    group by rm.region_code, bd.breakdown_type, bd.breakdown_value
),

event_counts as (
    select
        cast(date_trunc('month', e.approved_date) as date) as change_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        sum({{ net_growth_sign('e.event_type') }}) as delta
    from events as e
    {{ mart_region_join('e') }}
    {{ breakdown_rows('e', ['entity_category', 'industry_section']) }}
    group by 1, rm.region_code, bd.breakdown_type, bd.breakdown_value
),

changes as (
    select * from opening_counts
    union all
    select * from event_counts
),

final as (
    select
        p.period_month,
        c.region_code,
        c.breakdown_type,
        c.breakdown_value,
        sum(c.delta) as reg_stock
    from periods as p
    inner join changes as c on c.change_month is null or p.period_month >= c.change_month
    group by p.period_month, c.region_code, c.breakdown_type, c.breakdown_value
)

select * from final
