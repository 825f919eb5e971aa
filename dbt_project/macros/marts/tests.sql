{#-
    Generic tests of the indicator marts. Each returns the offending rows.
    Additivity comes from the catalogue (is_additive): distinct counts
    (REG_CHANGE, EQ_USERS, EQ_UNITS_CHECKED, EQ_HAZARD_RATE,
    CP_REPEAT_COMPLAINANTS) need not add up over regions or breakdown values.
-#}

{#- Rates: 0 ≤ value ≤ 100, 0 ≤ numerator ≤ denominator, NULL exactly when the denominator is 0 (month and ytd). -#}
{% test indicator_rates_valid(model) %}
with catalogue as (
    select indicator_code from {{ ref('indicator_catalogue') }} where kind = 'rate'
)

select m.*
from {{ model }} as m
inner join catalogue as c on m.indicator_code = c.indicator_code
where
    m.numerator is null or m.denominator is null or m.ytd_numerator is null or m.ytd_denominator is null
    or m.numerator < 0 or m.numerator > m.denominator
    or m.ytd_numerator < 0 or m.ytd_numerator > m.ytd_denominator
    or (m.denominator = 0) <> (m.value is null)
    or (m.ytd_denominator = 0) <> (m.ytd_value is null)
    or m.value < 0 or m.value > 100
    or m.ytd_value < 0 or m.ytd_value > 100
{% endtest %}

{#- Counts and amounts carry no numerator/denominator; stocks have ytd_value = value. -#}
{% test indicator_kinds_consistent(model) %}
with catalogue as (
    select indicator_code, kind from {{ ref('indicator_catalogue') }}
)

select m.*
from {{ model }} as m
inner join catalogue as c on m.indicator_code = c.indicator_code
where
    (c.kind <> 'rate' and (m.numerator is not null or m.denominator is not null or m.value is null))
    or (c.kind = 'stock' and m.ytd_value is distinct from m.value)
{% endtest %}

{#-
    The jurisdiction's total row equals the sum over its counties (value and
    ytd for counts and amounts; numerator and denominator for rates). Nothing to
    check when the jurisdiction is itself a county.
-#}
{% test indicator_totals_equal_county_sum(model) %}
with catalogue as (
    select indicator_code from {{ ref('indicator_catalogue') }} where is_additive
),

regions as (
    select distinct region_code, is_total from {{ ref('int_marts__region_map') }}
),

rows_ as (
    select m.*, r.is_total
    from {{ model }} as m
    inner join catalogue as c on m.indicator_code = c.indicator_code
    inner join regions as r on m.region_code = r.region_code
),

county_sums as (
    select
        indicator_code, period_month, breakdown_type, breakdown_value,
        sum(coalesce(numerator, value)) as v, sum(coalesce(denominator, 0)) as d,
        sum(coalesce(ytd_numerator, ytd_value)) as yv, sum(coalesce(ytd_denominator, 0)) as yd
    from rows_
    where not is_total
    group by indicator_code, period_month, breakdown_type, breakdown_value
),

totals as (
    select
        indicator_code, period_month, breakdown_type, breakdown_value, region_code,
        coalesce(numerator, value) as v, coalesce(denominator, 0) as d,
        coalesce(ytd_numerator, ytd_value) as yv, coalesce(ytd_denominator, 0) as yd
    from rows_
    where is_total and region_code = '{{ var("jurisdiction") }}'
)

select t.*, s.v as county_v, s.d as county_d, s.yv as county_yv, s.yd as county_yd
from totals as t
inner join county_sums as s
    on t.indicator_code = s.indicator_code
    and t.period_month = s.period_month
    and t.breakdown_type = s.breakdown_type
    and t.breakdown_value = s.breakdown_value
where t.v <> s.v or t.d <> s.d or t.yv <> s.yv or t.yd <> s.yd
{% endtest %}

{#- For additive indicators, the values of each breakdown type add up to the 全部 row. -#}
{% test indicator_breakdowns_add_up(model) %}
with catalogue as (
    select indicator_code from {{ ref('indicator_catalogue') }} where is_additive
),

rows_ as (
    select m.*
    from {{ model }} as m
    inner join catalogue as c on m.indicator_code = c.indicator_code
),

parts as (
    select
        indicator_code, period_month, region_code, breakdown_type,
        sum(coalesce(numerator, value)) as v, sum(coalesce(denominator, 0)) as d,
        sum(coalesce(ytd_numerator, ytd_value)) as yv, sum(coalesce(ytd_denominator, 0)) as yd
    from rows_
    where breakdown_type <> '全部'
    group by indicator_code, period_month, region_code, breakdown_type
),

totals as (
    select
        indicator_code, period_month, region_code,
        coalesce(numerator, value) as v, coalesce(denominator, 0) as d,
        coalesce(ytd_numerator, ytd_value) as yv, coalesce(ytd_denominator, 0) as yd
    from rows_
    where breakdown_type = '全部'
)

select p.*, t.v as total_v, t.d as total_d, t.yv as total_yv, t.yd as total_yd
from parts as p
left join totals as t
    on p.indicator_code = t.indicator_code
    and p.period_month = t.period_month
    and p.region_code = t.region_code
where t.indicator_code is null or p.v <> t.v or p.d <> t.d or p.yv <> t.yv or p.yd <> t.yd
{% endtest %}

{#-
    A wide domain mart agrees with indicator_monthly (breakdown 全部) cell by
    cell: <code>, <code>_ytd, <code>_numerator, <code>_denominator,
    <code>_ytd_numerator, <code>_ytd_denominator, compared as exact numerics;
    and every (indicator, month, region) of indicator_monthly has its wide row.
-#}
{% test matches_indicator_monthly(model, indicator_model) %}
with wide_cells as (
    select
        w.period_month,
        w.region_code,
        kv.key as cell,
        kv.value #>> '{}' as cell_value
    from {{ model }} as w
    cross join lateral jsonb_each(
        to_jsonb(w) - array['period_month', 'region_code', 'region_name', 'as_of_date', 'published_run_id']
    ) as kv
),

long_cells as (
    select
        m.period_month,
        m.region_code,
        lower(m.indicator_code) || x.suffix as cell,
        x.cell_value
    from {{ indicator_model }} as m
    cross join lateral (
        values
        ('', m.value),
        ('_ytd', m.ytd_value),
        ('_numerator', m.numerator),
        ('_denominator', m.denominator),
        ('_ytd_numerator', m.ytd_numerator),
        ('_ytd_denominator', m.ytd_denominator)
    ) as x (suffix, cell_value)
    where m.breakdown_type = '全部'
),

wide_codes as (
    select distinct cell from wide_cells
),

expected as (
    select l.*
    from long_cells as l
    inner join wide_codes as c on l.cell = c.cell
)

select
    coalesce(w.period_month, e.period_month) as period_month,
    coalesce(w.region_code, e.region_code) as region_code,
    coalesce(w.cell, e.cell) as cell,
    w.cell_value as wide_value,
    e.cell_value as indicator_monthly_value
from wide_cells as w
full outer join expected as e
    on w.period_month = e.period_month
    and w.region_code = e.region_code
    and w.cell = e.cell
where
    w.cell is null
    or e.cell is null
    or cast(w.cell_value as numeric) is distinct from e.cell_value
{% endtest %}
