{{
    config(
        materialized='incremental',
        unique_key='test_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(ref('stg_sampling__rapid_tests'), ['test_id']) }}"
    )
}}
-- Grain: one row per rapid test (检测编号), latest delivery.
with tests as (
    -- the alias is used by the incremental filter below
    select * from {{ ref('stg_sampling__rapid_tests') }} as t  -- noqa: AL05
    {% if is_incremental() %}
        where true {{ changed_only('t', ['test_id']) }}
    {% endif %}
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
        line_no
    from tests
)

select * from final
