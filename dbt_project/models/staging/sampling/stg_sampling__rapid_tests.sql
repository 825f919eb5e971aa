-- Latest state of each rapid test (检测编号).
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        test_id,
        station,
        region_code,
        sample_name,
        test_item,
        test_date,
        result,
        disposal,
        disposed_kg
    from {{ source('sampling', 'rapid_tests') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['test_id']) }} as latest_rank
    from source
),

final as (
    select
        test_id,
        station,
        region_code,
        sample_name,
        test_item,
        test_date,
        result,
        result = '阳性' as is_positive,
        disposal,
        disposal is not null as has_disposal,
        disposed_kg,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where latest_rank = 1
)

select * from final
