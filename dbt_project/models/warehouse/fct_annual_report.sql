{{
    config(
        materialized='incremental',
        unique_key=['uscc', 'report_year'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(ref('stg_registration__annual_reports'), ['uscc', 'report_year']) }}"
    )
}}
-- Grain: one row per annual report (统一社会信用代码 × 年报年度), latest filing.
with reports as (
    -- the alias is used by the incremental filter below
    select * from {{ ref('stg_registration__annual_reports') }} as r  -- noqa: AL05
    {% if is_incremental() %}
        where true {{ changed_only('r', ['uscc', 'report_year']) }}
    {% endif %}
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
        cast('{{ var("msdw_run_id") }}' as text) as msdw_run_id
    from reports
)

select * from final
