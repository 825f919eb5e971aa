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
-- Grain: one row per ticket (诉求), its latest state.
-- due_date: the work order's 办理期限 when present (extensions included), else
-- derived in working days (dim_date.workday_seq) from seed ticket_time_limits:
-- the 办结 limit counted from receipt, or from 受理 for 投诉 (when not yet
-- accepted: receipt + the 受理 limit). Dates outside the calendar seed give
-- due_date_source = 'outside_calendar' and no derived date, never an error.
-- incremental: the keys with a row in a load after this table's watermark (macros/incremental.sql)
with tickets as (
    {{ changed_keys_select(ref('stg_complaints__complaints'), 'complaints', 'complaints', 'ticket_id') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

workdays as (
    select
        workday_seq,
        date_day
    from calendar
    where is_workday
),

limits as (
    select
        ticket_type,
        max(case when stage = '受理' then working_days end) as accept_workdays,
        max(case when stage = '办结' then working_days end) as close_workdays,
        max(case when stage = '办结' then counted_from end) as close_counted_from
    from {{ ref('ticket_time_limits') }}
    group by ticket_type
),

categories as (
    select * from {{ ref('complaint_categories') }}
),

sequenced as (
    select
        t.*,
        received.workday_seq as received_seq,
        accepted.workday_seq as accepted_seq,
        closed.workday_seq as closed_seq,
        l.close_workdays,
        case
            when l.close_workdays is null then null
            when l.close_counted_from = 'accepted'
                then coalesce(accepted.workday_seq, received.workday_seq + coalesce(l.accept_workdays, 0))
            else received.workday_seq
        end + l.close_workdays as due_seq
    from tickets as t
    left join calendar as received on t.received_date = received.date_day
    left join calendar as accepted on t.accepted_date = accepted.date_day
    left join calendar as closed on t.closed_date = closed.date_day
    left join limits as l on t.ticket_type = l.ticket_type
),

derived as (
    select
        s.*,
        w.date_day as derived_due_date
    from sequenced as s
    left join workdays as w on s.due_seq = w.workday_seq
),

final as (
    select
        d.ticket_id,
        d.channel,
        d.ticket_type,
        d.category,
        c.category_group,
        c.report_bucket,
        d.region_code,
        d.received_at,
        d.received_date,
        d.accepted_date,
        d.closed_date,
        d.status,
        d.status <> '不予受理' as is_accepted,
        d.status = '已办结' as is_closed,
        d.outcome,
        coalesce(d.work_order_due_date, d.derived_due_date) as due_date,
        case
            when d.work_order_due_date is not null then 'work_order'
            when d.derived_due_date is not null then 'derived'
            when d.close_workdays is null then 'no_limit_configured'
            else 'outside_calendar'
        end as due_date_source,
        d.derived_due_date,
        case
            when d.status = '已办结' and d.closed_date is not null
                then d.closed_date <= coalesce(d.work_order_due_date, d.derived_due_date)
        end as is_ontime,
        d.closed_seq - d.received_seq as handling_workdays,
        d.amount_involved,
        d.recovered_amount,
        d.respondent_uscc,
        d.complainant_hash,
        d.business_date,
        d.load_id,
        d.line_no,
        cast('{{ run_id() }}' as text) as msdw_run_id
    from derived as d
    left join categories as c on d.category = c.category
)

select * from final
