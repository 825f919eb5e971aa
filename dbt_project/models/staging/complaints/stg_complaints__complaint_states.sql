-- Every state a ticket (诉求) was delivered in: one row per ticket per
-- delivery day (the last row of the latest load of that day). No personal
-- data: the complainant appears only as the loader's keyed hash; name, phone,
-- ID number, free-text content and the respondent's name are never selected.
with source as (
    select
        _load_id,
        _business_date,
        _line_no,
        ticket_id,
        channel,
        ticket_type,
        received_at,
        accepted_date,
        closed_date,
        status,
        due_date,
        category,
        respondent_uscc,
        region_code,
        amount_involved,
        recovered_amount,
        outcome,
        complainant_hash
    from {{ source('complaints', 'complaints') }}
),

ranked as (
    select
        source.*,
        {{ latest_rank(['ticket_id', '_business_date']) }} as day_rank,
        {{ latest_rank(['ticket_id']) }} as latest_rank
    from source
),

final as (
    select
        ticket_id,
        channel,
        ticket_type,
        received_at,
        received_at::date as received_date,
        accepted_date,
        closed_date,
        status,
        due_date as work_order_due_date,
        category,
        respondent_uscc,
        region_code,
        amount_involved,
        recovered_amount,
        outcome,
        complainant_hash,
        latest_rank = 1 as is_latest,
        _business_date as business_date,
        _load_id as load_id,
        _line_no as line_no
    from ranked
    where day_rank = 1
)

select * from final
