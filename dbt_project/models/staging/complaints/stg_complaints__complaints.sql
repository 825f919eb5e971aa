-- Latest state of each ticket (诉求): the latest delivery wins.
with states as (
    select * from {{ ref('stg_complaints__complaint_states') }}
),

final as (
    select
        ticket_id,
        channel,
        ticket_type,
        received_at,
        received_date,
        accepted_date,
        closed_date,
        status,
        work_order_due_date,
        category,
        respondent_uscc,
        region_code,
        amount_involved,
        recovered_amount,
        outcome,
        complainant_hash,
        business_date,
        load_id,
        line_no
    from states
    where is_latest
)

select * from final
