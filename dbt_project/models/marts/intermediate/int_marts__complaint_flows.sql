-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- additive complaint measures from the latest state of each ticket.
-- CP_RECEIVED and its sub-counts by the month of received_at (不予受理
-- excluded); state "by as_of_date" = the latest delivered state; CP_RECOVERED
-- by the month of closed_date of 已办结 tickets.
with tickets as (
    select * from {{ ref('fct_complaint') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'complaints'
),

activity as (
    select
        'received' as activity,
        received_date as activity_date,
        ticket_id,
        channel,
        ticket_type,
        category_group,
        category,
        region_code,
        status,
        is_closed,
        is_ontime,
        due_date,
        recovered_amount
    from tickets
    where is_accepted
    union all
    select
        'closed' as activity,
        closed_date as activity_date,
        ticket_id,
        channel,
        ticket_type,
        category_group,
        category,
        region_code,
        status,
        is_closed,
        is_ontime,
        due_date,
        recovered_amount
    from tickets
    where is_closed
),

base as (
    select
        p.period_month,
        p.as_of_date,
        a.*
    from activity as a
    inner join periods as p on cast(date_trunc('month', a.activity_date) as date) = p.period_month
),

exploded as (
    select
        b.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        b.as_of_date,
        b.activity,
        b.status,
        b.is_closed,
        b.is_ontime,
        b.due_date,
        b.recovered_amount
    from base as b
    {{ mart_region_join('b') }}
    {{ breakdown_rows('b', ['channel', 'ticket_type', 'category_group', 'category']) }}
),

final as (
    select
        {{ mart_grain() }},
        count(*) filter (where activity = 'received') as cp_received,
        count(*) filter (where activity = 'received' and is_closed) as cp_closed,
        count(*) filter (where activity = 'received' and is_closed and is_ontime) as cp_ontime,
        count(*) filter (
            where activity = 'received' and status in ('待受理', '已受理') and due_date < as_of_date
        ) as cp_overdue_open,
        coalesce(sum(recovered_amount) filter (where activity = 'closed'), 0) as cp_recovered
    from exploded
    group by {{ mart_grain() }}
)

select * from final
