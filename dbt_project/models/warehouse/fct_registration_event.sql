{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(ref('stg_registration__registration_events'), ['event_id']) }}"
    )
}}
-- Grain: one row per approved registration business (业务流水号), latest delivery.
with events as (
    -- the alias is used by the incremental filter below
    select * from {{ ref('stg_registration__registration_events') }} as e  -- noqa: AL05
    {% if is_incremental() %}
        where true {{ changed_only('e', ['event_id']) }}
    {% endif %}
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
        cast('{{ var("msdw_run_id") }}' as text) as msdw_run_id
    from events
)

select * from final
