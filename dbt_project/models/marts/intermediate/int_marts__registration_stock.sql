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

-- counted at the finest grain (county × entity_category × industry_section)
-- first, then per region and breakdown row: the opening register is millions
-- of rows at province scale
opening_finest as (
    select
        region_code,
        entity_category,
        industry_section,
        count(*) as delta
    from opening
    group by region_code, entity_category, industry_section
),

opening_counts as (
    select
        cast(null as date) as change_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        sum(o.delta) as delta
    from opening_finest as o
    {{ mart_region_join('o') }}
    {{ breakdown_rows('o', ['entity_category', 'industry_section']) }}
    group by rm.region_code, bd.breakdown_type, bd.breakdown_value
),

event_finest as (
    select
        cast(date_trunc('month', approved_date) as date) as change_month,
        region_code,
        entity_category,
        industry_section,
        sum({{ net_growth_sign('event_type') }}) as delta
    from events
    group by 1, region_code, entity_category, industry_section
),

event_counts as (
    select
        e.change_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        sum(e.delta) as delta
    from event_finest as e
    {{ mart_region_join('e') }}
    {{ breakdown_rows('e', ['entity_category', 'industry_section']) }}
    group by e.change_month, rm.region_code, bd.breakdown_type, bd.breakdown_value
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
