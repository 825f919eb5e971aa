-- One row per calendar date of the working-day calendar seed. workday_seq
-- counts working days up to and including the date, so "N working days after
-- D" is the working day whose workday_seq = workday_seq(D) + N, and the
-- working days elapsed between two dates is the difference of their seqs.
with calendar as (
    select
        date,  -- noqa: RF04
        is_workday,
        is_holiday,
        holiday_name,
        is_makeup_workday,
        calendar_source
    from {{ ref('calendar_cn') }}
),

final as (
    select
        date as date_day,  -- noqa: RF04
        cast(to_char(date, 'YYYYMMDD') as integer) as date_key,
        cast(extract(year from date) as integer) as year,  -- noqa: RF04
        cast(extract(quarter from date) as integer) as quarter,  -- noqa: RF04
        cast(extract(month from date) as integer) as month,  -- noqa: RF04
        to_char(date, 'YYYY-MM') as year_month,  -- noqa: RF04
        cast(extract(isodow from date) as integer) as iso_weekday,
        is_workday,
        is_holiday,
        holiday_name,
        is_makeup_workday,
        calendar_source,
        cast(sum(case when is_workday then 1 else 0 end) over (order by date) as integer) as workday_seq
    from calendar
)

select * from final
