{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ rebuild_when_loaded_pre_hook(['entity_snapshot']) }}",
        post_hook="{{ index_columns(['uscc', 'load_id', 'msdw_run_id']) }}"
    )
}}
-- The opening register (实有市场主体期初快照): one row per entity, latest
-- delivery wins. 主体名称 and 法定代表人 are not carried (personal data risk).
-- A table, rebuilt only when the register was (re)delivered: millions of rows
-- at province scale that change once or twice a year (macros/incremental.sql).
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        uscc,
        entity_type_code,
        industry_code,
        region_code,
        registration_authority,
        registered_capital,
        established_date,
        channel,
        registration_status
    from {{ source('registration', 'entity_snapshot') }}
    where {{ rebuild_when_loaded_filter(['entity_snapshot']) }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['uscc']) }} as latest_rank
    from source
),

final as (
    select
        uscc,
        entity_type_code,
        {{ industry_code('industry_code') }} as industry_code,
        {{ industry_section('industry_code') }} as industry_section,
        region_code,
        registration_authority,
        registered_capital as registered_capital_10k_cny,
        established_date,
        channel,
        registration_status,
        {{ entity_category('uscc', 'entity_type_code') }} as entity_category,
        {{ is_active_stock('registration_status') }} as is_active_stock,
        _business_date as snapshot_date,
        _load_id as load_id,
        _line_no as line_no,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from ranked
    where latest_rank = 1
)

select * from final
