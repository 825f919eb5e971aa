-- Latest state of each hazard (隐患编号): rectification arrives as later rows.
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        hazard_id,
        inspection_id,
        equipment_code,
        severity,
        found_date,
        rectify_deadline,
        rectified_date
    from {{ source('equipment', 'equipment_hazards') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['hazard_id']) }} as latest_rank
    from source
),

final as (
    select
        hazard_id,
        inspection_id,
        equipment_code,
        severity,
        found_date,
        rectify_deadline,
        rectified_date,
        rectified_date is not null as is_rectified,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where latest_rank = 1
)

select * from final
