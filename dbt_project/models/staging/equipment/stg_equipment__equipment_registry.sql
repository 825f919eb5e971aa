-- Registry state of each device per delivery day (the last row of the latest
-- load of that day): the history dim_equipment builds its SCD2 versions from.
-- 使用单位名称 is not carried (the USCC identifies the user).
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        equipment_code,
        category_code,
        variety,
        user_uscc,
        region_code,
        use_certificate_no,
        registered_date,
        status,
        next_inspection_due,
        key_supervision,
        pipeline_length_m
    from {{ source('equipment', 'equipment_registry') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['equipment_code', '_business_date']) }} as day_rank,
        {{ latest_rank(['equipment_code']) }} as latest_rank
    from source
),

final as (
    select
        equipment_code,
        category_code,
        variety,
        user_uscc,
        region_code,
        use_certificate_no,
        registered_date,
        status,
        next_inspection_due,
        key_supervision,
        pipeline_length_m,
        latest_rank = 1 as is_latest,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where day_rank = 1
)

select * from final
