{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ full_rebuild_on_replaced_pre_hook(['complaints']) }}",
        post_hook="{{ index_columns(['load_id', 'msdw_run_id', 'ticket_id']) }}"
    )
}}
-- Grain: one row per ticket per delivery day — every state a ticket passed
-- through. Incremental runs rebuild all states of every ticket with a row in
-- a new load (previous_status depends on the neighbouring states); a
-- corrected day rebuilds every ticket (macros/incremental.sql).
-- incremental: the keys with a row in a load after this table's watermark (macros/incremental.sql)
with states as (
    {{ changed_keys_select(ref('stg_complaints__complaint_states'), 'complaints', 'complaints', 'ticket_id') }}
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
        line_no,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from states
    window by_day as (partition by ticket_id order by business_date)
)

select * from final
