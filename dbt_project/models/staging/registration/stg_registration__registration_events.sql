-- Latest state of each approved registration business (业务流水号), typed,
-- English names, no personal data (法定代表人 dropped; 主体名称 dropped too:
-- 个体工商户 names are often personal names and no mart needs them).
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        _warnings,
        event_id,
        uscc,
        entity_type_code,
        industry_code,
        region_code,
        registration_authority,
        registered_capital,
        established_date,
        event_type,
        approved_date,
        previous_entity_type_code,
        channel
    from {{ source('registration', 'registration_events') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['event_id']) }} as latest_rank
    from source
),

final as (
    select
        event_id,
        uscc,
        entity_type_code,
        {{ industry_code('industry_code') }} as industry_code,
        {{ industry_section('industry_code') }} as industry_section,
        region_code,
        registration_authority,
        registered_capital as registered_capital_10k_cny,
        established_date,
        event_type,
        approved_date,
        previous_entity_type_code,
        channel,
        {{ entity_category('uscc', 'entity_type_code') }} as entity_category,
        {{ status_after_event('event_type') }} as status_after_event,
        _warnings as dq_warnings,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where latest_rank = 1
)

select * from final
