-- Latest state of each inspection (检验检查编号).
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        inspection_id,
        equipment_code,
        inspection_type,
        inspection_date,
        conclusion,
        hazards_found,
        directive_no,
        case_opened,
        fine_amount,
        next_inspection_due
    from {{ source('equipment', 'equipment_inspections') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['inspection_id']) }} as latest_rank
    from source
),

final as (
    select
        inspection_id,
        equipment_code,
        inspection_type,
        inspection_date,
        conclusion,
        conclusion in ('合格', '复检合格', '整改后合格') as is_passed,
        coalesce(hazards_found, 0) as hazards_found,
        directive_no,
        directive_no is not null as has_directive,
        coalesce(case_opened, false) as is_case_opened,
        coalesce(fine_amount, 0) as fine_amount,
        next_inspection_due,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where latest_rank = 1
)

select * from final
