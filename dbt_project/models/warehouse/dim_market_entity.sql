{{
    config(
        materialized='incremental',
        unique_key='uscc',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ market_entity_full_rebuild_pre_hook() }}",
        post_hook="{{ index_columns(['uscc', 'source_load_id', 'msdw_run_id', 'entity_key']) }}"
    )
}}
-- Market entities (市场主体), SCD2 over entity type, industry, region and
-- registration status. Versions come from the opening register (snapshot
-- date) and every registration event (approved date); an event that leaves
-- an attribute empty keeps its previous value. Several events of one entity
-- on one day collapse into that day's last state.
-- entity_key is the durable key (one per USCC, shared by all versions);
-- entity_version_key identifies a version. Entity-level dates are repeated on
-- every version; filter is_current for one row per entity.
-- Incremental: a daily run rebuilds the history of the entities with a
-- registration event loaded since the table's watermark (source_load_id);
-- a (re)delivered opening register or a corrected (replaced) day of events
-- rebuilds every entity (macro market_entity_affected).
with
{% if is_incremental() %}
    affected as (
        {{ market_entity_affected() }}
    ),
{% endif %}

snapshot as (
    select
        uscc,
        load_id,
        snapshot_date as valid_from,
        0 as source_order,
        cast(null as text) as event_id,
        cast(null as text) as event_type,
        entity_type_code,
        industry_code,
        region_code,
        registration_status as status,
        established_date
    from {{ ref('stg_registration__entity_snapshot') }}
    {% if is_incremental() %}
        where uscc in (select affected.uscc from affected)
    {% endif %}
),

events as (
    select
        uscc,
        load_id,
        approved_date as valid_from,
        1 as source_order,
        event_id,
        event_type,
        entity_type_code,
        industry_code,
        region_code,
        status_after_event as status,
        established_date
    from {{ ref('stg_registration__registration_events') }}
    {% if is_incremental() %}
        where uscc is not null and uscc in (select affected.uscc from affected)
    {% else %}
        where uscc is not null
    {% endif %}
),

changes as (
    select * from snapshot
    union all
    select * from events
),

sequenced as (
    select
        *,
        row_number() over (partition by uscc order by valid_from, source_order, event_id) as change_seq
    from changes
),

filled as (
    -- One pass over sequenced's order (the same window: no second sort of the
    -- history): every attribute carried forward from the last change that set
    -- it, and the date of the entity's next change. A change that is not the
    -- last of its day (the next change has the same date) is superseded by it.
    select
        uscc,
        valid_from,
        lead(valid_from) over by_seq as next_change_from,
        {{ carry_forward('entity_type_code', 'change_seq', 'by_seq') }} as entity_type_code,
        {{ carry_forward('industry_code', 'change_seq', 'by_seq') }} as industry_code,
        {{ carry_forward('region_code', 'change_seq', 'by_seq') }} as region_code,
        coalesce({{ carry_forward('status', 'change_seq', 'by_seq') }}, '存续') as status
    from sequenced
    window by_seq as (
        partition by uscc order by valid_from, source_order, event_id
        rows between unbounded preceding and current row
    )
),

entity_dates as (
    select
        uscc,
        min(established_date) as established_date,
        max(case when event_type in ('注销', '简易注销') then valid_from end) as cancelled_date,
        max(case when event_type = '吊销' then valid_from end) as revoked_date,
        max(case when event_type = '迁出' then valid_from end) as moved_out_date,
        max(case when event_type = '迁入' then valid_from end) as moved_in_date,
        bool_or(source_order = 0) as in_opening_register,
        max(load_id) as source_load_id
    from changes
    group by uscc
),

versions as (
    select
        uscc,
        valid_from,
        coalesce(next_change_from, {{ end_of_time() }}) as valid_to,
        entity_type_code,
        industry_code,
        region_code,
        status
    from filled
    where next_change_from is null or next_change_from > valid_from
),

final as (
    select
        {{ surrogate_key(['v.uscc', 'v.valid_from']) }} as entity_version_key,
        {{ surrogate_key(['v.uscc']) }} as entity_key,
        v.uscc,
        v.entity_type_code,
        {{ entity_category('v.uscc', 'v.entity_type_code') }} as entity_category,
        v.industry_code,
        {{ industry_section('v.industry_code') }} as industry_section,
        v.region_code,
        v.status as registration_status,
        {{ is_active_stock('v.status') }} as is_active_stock,
        d.established_date,
        d.cancelled_date,
        d.revoked_date,
        d.moved_out_date,
        d.moved_in_date,
        d.in_opening_register,
        v.valid_from,
        v.valid_to,
        v.valid_to = {{ end_of_time() }} as is_current,
        d.source_load_id,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from versions as v
    inner join entity_dates as d on v.uscc = d.uscc
)

select * from final
