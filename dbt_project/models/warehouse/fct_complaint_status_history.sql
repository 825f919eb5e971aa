{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(ref('stg_complaints__complaint_states'), ['ticket_id']) }}"
    )
}}
-- Grain: one row per ticket per delivery day — every state a ticket passed
-- through. Incremental runs rebuild all states of every ticket that has a new
-- or re-delivered row (previous_status depends on the neighbouring states).
with states as (
    select * from {{ ref('stg_complaints__complaint_states') }}
    {% if is_incremental() %}
        where ticket_id in (
            select s.ticket_id
            from {{ ref('stg_complaints__complaint_states') }} as s
            where true {{ changed_only('s', ['ticket_id', 'business_date']) }}
        )
    {% endif %}
),

final as (
    select
        ticket_id,
        business_date,
        status,
        lag(status) over by_day as previous_status,
        coalesce(status is distinct from lag(status) over by_day, true) as is_status_change,
        row_number() over by_day as state_seq,
        accepted_date,
        closed_date,
        work_order_due_date,
        ticket_type,
        channel,
        region_code,
        is_latest,
        load_id,
        line_no
    from states
    window by_day as (partition by ticket_id order by business_date)
)

select * from final
