{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ full_rebuild_on_replaced_pre_hook(['registration_events']) }}",
        post_hook="{{ index_columns(['load_id', 'msdw_run_id', 'event_id']) }}"
    )
}}
-- Grain: one row per approved registration business (业务流水号), latest delivery.
-- incremental: the keys with a row in a load after this table's watermark (macros/incremental.sql)
with events as (
    {{ changed_keys_select(
        ref('stg_registration__registration_events'), 'registration', 'registration_events', 'event_id'
    ) }}
),

final as (
    select
        event_id,
        case when uscc is not null then {{ surrogate_key(['uscc']) }} end as entity_key,
        uscc,
        event_type,
        approved_date,
        established_date,
        region_code,
        entity_category,
        entity_type_code,
        previous_entity_type_code,
        {{ is_individual_to_enterprise('event_type', 'previous_entity_type_code', 'entity_type_code') }}
            as is_individual_to_enterprise,
        industry_code,
        industry_section,
        channel,
        registered_capital_10k_cny,
        business_date,
        load_id,
        line_no,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from events
)

select * from final
