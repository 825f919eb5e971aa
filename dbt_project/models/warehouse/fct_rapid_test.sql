{{
    config(
        materialized='incremental',
        unique_key='test_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ full_rebuild_on_replaced_pre_hook(['rapid_tests']) }}",
        post_hook="{{ index_columns(['load_id', 'msdw_run_id', 'test_id']) }}"
    )
}}
-- Grain: one row per rapid test (检测编号), latest delivery.
-- incremental: the keys with a row in a load after this table's watermark (macros/incremental.sql)
with tests as (
    {{ changed_keys_select(ref('stg_sampling__rapid_tests'), 'sampling', 'rapid_tests', 'test_id') }}
),

final as (
    select
        test_id,
        region_code,
        station,
        sample_name,
        test_item,
        test_date,
        result,
        is_positive,
        disposal,
        has_disposal,
        disposed_kg,
        business_date,
        load_id,
        line_no,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from tests
)

select * from final
