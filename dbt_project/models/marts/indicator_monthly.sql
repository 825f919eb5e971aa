-- Grain: one row per (indicator_code, period_month, region_code, breakdown_type, breakdown_value).
-- The published monthly indicator table (docs/contracts/indicators.md): values from
-- int_marts__indicator_values, names and units from the catalogue seed.
with indicator_values as (
    select * from {{ ref('int_marts__indicator_values') }}
),

catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

final as (
    select
        v.indicator_code,
        c.name_zh as indicator_name_zh,
        c.name_en as indicator_name_en,
        c.unit,
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
        v.same_period_last_year,
        v.yoy_growth_pct,
        v.as_of_date,
        cast('{{ run_id() }}' as text) as published_run_id
    from indicator_values as v
    inner join catalogue as c on v.indicator_code = c.indicator_code
)

select * from final
