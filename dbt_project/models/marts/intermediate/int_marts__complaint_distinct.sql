-- Grain: one row per (period_month, window_kind, region_code, breakdown_type, breakdown_value);
-- CP_REPEAT_COMPLAINANTS: distinct complainant hashes (keyed pseudonyms, no
-- identities) with at least 2 received tickets (as in CP_RECEIVED) in the
-- window (the month, or the year to date; macro distinct_windows).
with tickets as (
    select * from {{ ref('fct_complaint') }}
    where is_accepted and complainant_hash is not null
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'complaints'
),

base as (
    select
        cast(date_trunc('month', received_date) as date) as activity_month,
        region_code,
        channel,
        ticket_type,
        category_group,
        category,
        complainant_hash
    from tickets
),

final as (
    {{ distinct_windows('base', 'periods', key='complainant_hash',
        breakdowns=['channel', 'ticket_type', 'category_group', 'category'],
        measures=[{'name': 'cp_repeat_complainants', 'min_rows': 2}]) }}
)

select * from final
