{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ rebuild_when_loaded_pre_hook(['entity_snapshot']) }}",
        post_hook="{{ index_columns(['load_id', 'msdw_run_id']) }}"
    )
}}
-- Grain: one row per market entity in the opening register (期初快照) at go-live.
-- Rebuilt only when the register was (re)delivered (macros/incremental.sql).
with snapshot as (
    select * from {{ ref('stg_registration__entity_snapshot') }}
    where {{ rebuild_when_loaded_filter(['entity_snapshot']) }}
),

final as (
    select
        uscc,
        {{ surrogate_key(['uscc']) }} as entity_key,
        region_code,
        entity_category,
        entity_type_code,
        industry_code,
        industry_section,
        registration_status,
        is_active_stock,
        established_date,
        snapshot_date,
        load_id,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from snapshot
)

select * from final
