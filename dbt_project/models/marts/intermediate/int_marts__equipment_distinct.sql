-- Grain: one row per (period_month, window_kind, region_code, breakdown_type, breakdown_value);
-- distinct devices inspected (any inspection type) and those of them with an
-- inspection reporting at least one hazard, for the month and the year to date.
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
        hazards_found
    from inspections
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
        w.equipment_code,
        w.hazards_found
    from windowed as w
    {{ mart_region_join('w') }}
    {{ breakdown_rows('w', ['category_code']) }}
),

final as (
    select
        {{ mart_grain() }},
        window_kind,
        count(distinct equipment_code) as eq_devices_inspected,
        count(distinct equipment_code) filter (where hazards_found >= 1) as eq_devices_with_hazard
    from exploded
    group by {{ mart_grain() }}, window_kind
)

select * from final
