-- Grain: one row per (period_month, window_kind, region_code, breakdown_type, breakdown_value);
-- CP_REPEAT_COMPLAINANTS: distinct complainant hashes (keyed pseudonyms, no
-- identities) with at least 2 received tickets (as in CP_RECEIVED) in the
-- window (the month, or the year to date).
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

windowed as (
    {{ period_windows('base', 'periods') }}
),

per_complainant as (
    select
        w.period_month,
        w.window_kind,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        w.complainant_hash,
        count(*) as tickets
    from windowed as w
    {{ mart_region_join('w') }}
    {{ breakdown_rows('w', ['channel', 'ticket_type', 'category_group', 'category']) }}
    group by w.period_month, w.window_kind, rm.region_code, bd.breakdown_type, bd.breakdown_value, w.complainant_hash
),

final as (
    select
        {{ mart_grain() }},
        window_kind,
        count(*) filter (where tickets >= 2) as cp_repeat_complainants
    from per_complainant
    group by {{ mart_grain() }}, window_kind
)

select * from final
