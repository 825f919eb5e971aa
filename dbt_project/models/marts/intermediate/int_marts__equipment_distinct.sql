-- Grain: one row per (period_month, window_kind, region_code, breakdown_type, breakdown_value);
-- distinct devices inspected (any inspection type) and those of them with an
-- inspection reporting at least one hazard, for the month and the year to date
-- (macro distinct_windows).
with inspections as (
    select * from {{ ref('fct_equipment_inspection') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'equipment'
),

base as (
    select
        cast(date_trunc('month', inspection_date) as date) as activity_month,
        region_code,
        kind_code as category_code,
        equipment_code,
        coalesce(hazards_found >= 1, false) as has_hazard
    from inspections
),

final as (
    {{ distinct_windows('base', 'periods', key='equipment_code',
        breakdowns=['category_code'],
        measures=[{'name': 'eq_devices_inspected'}, {'name': 'eq_devices_with_hazard', 'flag': 'has_hazard'}]) }}
)

select * from final
