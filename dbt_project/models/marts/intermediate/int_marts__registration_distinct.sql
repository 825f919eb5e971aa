-- Grain: one row per (period_month, window_kind, region_code, breakdown_type, breakdown_value);
-- distinct-entity registration measures for the month and the year to date.
with events as (
    select * from {{ ref('fct_registration_event') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'registration'
),

base as (
    select
        cast(date_trunc('month', approved_date) as date) as activity_month,
        region_code,
        entity_category,
        industry_section,
        event_type,
        entity_key
    from events
    where event_type = '变更'
),

windowed as (
    {{ period_windows('base', 'periods') }}
),

exploded as (
    select
        w.period_month,
        w.window_kind,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        w.event_type,
        w.entity_key
    from windowed as w
    {{ mart_region_join('w') }}
    {{ breakdown_rows('w', ['entity_category', 'industry_section']) }}
),

final as (
    select
        {{ mart_grain() }},
        window_kind,
        count(distinct entity_key) filter (where event_type = '变更') as reg_change
    from exploded
    group by {{ mart_grain() }}, window_kind
)

select * from final
