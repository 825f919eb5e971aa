-- Grain: one row per (indicator_code, period_month, region_code, breakdown_type, breakdown_value):
-- every indicator of seeds/indicator_catalogue.csv for its `全部` total and
-- the breakdown types the catalogue lists. Counts and amounts take their own
-- measure; rates are numerator_code / denominator_code × 100, unrounded, NULL
-- on a zero denominator, and the year-to-date rate is ytd numerator / ytd
-- denominator (never an average of monthly rates). indicator_monthly and the
-- wide domain marts all select from this one model.
with catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

measures as (
    select * from {{ ref('int_marts__measures') }}
),

applicable as (
    select
        c.indicator_code,
        c.kind,
        c.numerator_code,
        c.denominator_code,
        c.has_yoy,
        bt.breakdown_type
    from catalogue as c
    cross join
        lateral unnest(
            array['全部'] || string_to_array(coalesce(c.breakdowns, ''), ';')
        ) as bt (breakdown_type)
    where bt.breakdown_type <> ''
),

counts as (
    select
        a.indicator_code,
        a.has_yoy,
        m.period_month,
        m.region_code,
        m.region_name,
        m.breakdown_type,
        m.breakdown_value,
        m.value,
        cast(null as numeric) as numerator,
        cast(null as numeric) as denominator,
        m.ytd_value,
        cast(null as numeric) as ytd_numerator,
        cast(null as numeric) as ytd_denominator,
        m.is_ytd_complete,
        m.as_of_date
    from applicable as a
    inner join measures as m
        on
            a.indicator_code = m.measure_code
            and a.breakdown_type = m.breakdown_type
    where a.kind <> 'rate'
),

rate_parts as (
    select
        a.indicator_code,
        a.has_yoy,
        d.period_month,
        d.region_code,
        d.region_name,
        d.breakdown_type,
        d.breakdown_value,
        coalesce(n.value, 0) as numerator,
        d.value as denominator,
        coalesce(n.ytd_value, 0) as ytd_numerator,
        d.ytd_value as ytd_denominator,
        d.is_ytd_complete,
        d.as_of_date
    from applicable as a
    inner join measures as d
        on
            a.denominator_code = d.measure_code
            and a.breakdown_type = d.breakdown_type
    left join measures as n
        on
            a.numerator_code = n.measure_code
            and {{ mart_grain_join('d', 'n') }}
    where a.kind = 'rate'
),

rates as (
    select
        indicator_code,
        has_yoy,
        period_month,
        region_code,
        region_name,
        breakdown_type,
        breakdown_value,
        {{ rate_pct('numerator', 'denominator') }} as value,
        numerator,
        denominator,
        {{ rate_pct('ytd_numerator', 'ytd_denominator') }} as ytd_value,
        ytd_numerator,
        ytd_denominator,
        is_ytd_complete,
        as_of_date
    from rate_parts
),

indicator_values as (
    select * from counts
    union all
    select * from rates
),

final as (
    select
        v.indicator_code,
        v.period_month,
        v.region_code,
        v.region_name,
        v.breakdown_type,
        v.breakdown_value,
        v.value,
        v.numerator,
        v.denominator,
        v.ytd_value,
        v.ytd_numerator,
        v.ytd_denominator,
        case when ly.is_ytd_complete then ly.ytd_value end as same_period_last_year,
        case
            when v.has_yoy and ly.is_ytd_complete and ly.ytd_value <> 0
                then (v.ytd_value - ly.ytd_value) * 100 / ly.ytd_value
        end as yoy_growth_pct,
        v.as_of_date
    from indicator_values as v
    left join indicator_values as ly
        on
            v.indicator_code = ly.indicator_code
            and v.region_code = ly.region_code
            and v.breakdown_type = ly.breakdown_type
            and v.breakdown_value = ly.breakdown_value
            and cast(v.period_month - interval '1 year' as date) = ly.period_month
)

select * from final
