-- Grain: one row per inspection (检验检查编号), latest delivery. Device
-- attributes are those of the dim_equipment version valid on the inspection
-- date (else the device's earliest version, e.g. an inspection before the
-- registry row's validity, or the inferred member).
with inspections as (
    select * from {{ ref('stg_equipment__equipment_inspections') }}
),

equipment as (
    select * from {{ ref('dim_equipment') }}
),

first_version as (
    select
        equipment_code,
        min(valid_from) as valid_from
    from equipment
    group by equipment_code
),

final as (
    select
        i.inspection_id,
        i.equipment_code,
        coalesce(at_date.equipment_key, earliest.equipment_key) as equipment_key,
        coalesce(at_date.equipment_version_key, earliest.equipment_version_key) as equipment_version_key,
        coalesce(at_date.user_uscc, earliest.user_uscc) as user_uscc,
        coalesce(at_date.kind_code, earliest.kind_code) as kind_code,
        coalesce(at_date.category_code, earliest.category_code) as category_code,
        coalesce(at_date.region_code, earliest.region_code) as region_code,
        coalesce(at_date.key_supervision, earliest.key_supervision) as key_supervision,
        i.inspection_type,
        i.inspection_date,
        i.conclusion,
        i.is_passed,
        i.hazards_found,
        i.directive_no,
        i.has_directive,
        i.is_case_opened,
        i.fine_amount,
        i.next_inspection_due,
        i.business_date
    from inspections as i
    left join equipment as at_date
        on
            i.equipment_code = at_date.equipment_code
            and i.inspection_date >= at_date.valid_from
            and i.inspection_date < at_date.valid_to
    left join first_version as fv on i.equipment_code = fv.equipment_code
    left join equipment as earliest
        on
            fv.equipment_code = earliest.equipment_code
            and fv.valid_from = earliest.valid_from
)

select * from final
