-- Latest filing of each annual report (统一社会信用代码 × 年报年度).
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        uscc,
        report_year,
        submitted_date,
        entity_type_code,
        region_code
    from {{ source('registration', 'annual_reports') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['uscc', 'report_year']) }} as latest_rank
    from source
),

final as (
    select
        uscc,
        report_year,
        submitted_date,
        entity_type_code,
        region_code,
        {{ entity_category('uscc', 'entity_type_code') }} as entity_category,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where latest_rank = 1
)

select * from final
