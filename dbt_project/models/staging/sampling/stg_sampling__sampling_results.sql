-- Latest state of each sample (抽样单编号): result corrections and disposal
-- progress arrive as later deliveries. Sampled entity names are not carried.
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        sample_no,
        program,
        task_level,
        product_category,
        sample_name,
        stage,
        sampled_uscc,
        region_code,
        sampled_date,
        report_date,
        verdict,
        failed_items,
        lab,
        disposal_status,
        disposal_date
    from {{ source('sampling', 'sampling_results') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['sample_no']) }} as latest_rank
    from source
),

final as (
    select
        sample_no,
        program,
        task_level,
        product_category,
        sample_name,
        stage,
        sampled_uscc,
        region_code,
        sampled_date,
        report_date,
        verdict,
        verdict = '合格' as is_qualified,
        failed_items,
        lab,
        disposal_status,
        disposal_date,
        coalesce(disposal_status = '已完成', false) as is_disposal_completed,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where latest_rank = 1
)

select * from final
