{{
    config(
        materialized='incremental',
        unique_key=['uscc', 'report_year'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ full_rebuild_on_replaced_pre_hook(['annual_reports']) }}",
        post_hook="{{ index_columns(['load_id', 'msdw_run_id', 'uscc']) }}"
    )
}}
-- Grain: one row per annual report (统一社会信用代码 × 年报年度), latest filing.
-- incremental: the keys with a row in a load after this table's watermark (macros/incremental.sql)
with reports as (
    {{ changed_keys_select(ref('stg_registration__annual_reports'), 'registration', 'annual_reports', 'uscc') }}
),

final as (
    select
        uscc,
        report_year,
        {{ surrogate_key(['uscc']) }} as entity_key,
        submitted_date,
        submitted_date <= make_date(report_year + 1, 6, 30) as is_on_time,
        entity_type_code,
        entity_category,
        region_code,
        business_date,
        load_id,
        line_no,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from reports
)

select * from final
