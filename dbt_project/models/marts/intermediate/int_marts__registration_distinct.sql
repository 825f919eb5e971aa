-- Grain: one row per (period_month, window_kind, region_code, breakdown_type, breakdown_value);
-- distinct-entity registration measures for the month and the year to date
-- (macro distinct_windows: linear in the events, whatever the number of months).
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
        entity_key
    from events
    where event_type = '变更'
),

final as (
    {{ distinct_windows('base', 'periods', key='entity_key',
        breakdowns=['entity_category', 'industry_section'],
        measures=[{'name': 'reg_change'}]) }}
)

select * from final
