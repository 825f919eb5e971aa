-- Grain: one row per hazard (隐患编号), its latest state. Region and 种类
-- come from the device's current dim_equipment row.
with hazards as (
    select * from {{ ref('stg_equipment__equipment_hazards') }}
),

equipment as (
    select * from {{ ref('dim_equipment') }}
    where is_current
),

final as (
    select
        h.hazard_id,
        h.inspection_id,
        h.equipment_code,
        e.equipment_key,
        h.severity,
        h.found_date,
        h.rectify_deadline,
        h.rectified_date,
        h.is_rectified,
        h.rectified_date is not null and h.rectified_date <= h.rectify_deadline as is_rectified_on_time,
        e.region_code,
        e.kind_code,
        e.category_code,
        h.business_date
    from hazards as h
    left join equipment as e on h.equipment_code = e.equipment_code
)

select * from final
