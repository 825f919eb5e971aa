-- Grain: one row per sample (抽样单编号), its latest state.
with samples as (
    select * from {{ ref('stg_sampling__sampling_results') }}
),

final as (
    select
        sample_no,
        program,
        task_level,
        stage,
        product_category,
        region_code,
        sampled_uscc,
        sampled_date,
        report_date,
        verdict,
        is_qualified,
        failed_items,
        lab,
        disposal_status,
        disposal_date,
        is_disposal_completed,
        business_date
    from samples
)

select * from final
