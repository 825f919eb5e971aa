{#-
    Building blocks of the monthly indicator marts (docs/indicators.md).

    Every domain model aggregates its facts per
    (period_month, region_code, breakdown_type, breakdown_value) into one
    column per measure; `unpivot_measures` turns those columns into rows, so
    adding a measure is one column expression and one catalogue row
    (seeds/indicator_catalogue.csv), nothing else.
-#}

{#- Region rows of the marts: each fact row counts for its county and for the jurisdiction total. -#}
{% macro mart_region_join(fact_alias, region_col='region_code') -%}
    inner join {{ ref('int_marts__region_map') }} as rm
        on {{ fact_alias }}.{{ region_col }} = rm.member_region_code
{%- endmacro %}

{#-
    Breakdown rows: the `全部` total plus one row per breakdown column. A missing
    attribute becomes '未知' so the breakdown values always add up to the total.
-#}
{% macro breakdown_rows(fact_alias, breakdowns) -%}
    cross join lateral (
        values ('全部', '全部')
        {%- for b in breakdowns %},
        ('{{ b }}', coalesce(cast({{ fact_alias }}.{{ b }} as text), '未知'))
        {%- endfor %}
    ) as bd (breakdown_type, breakdown_value)
{%- endmacro %}

{#- The grain columns of every domain aggregate. -#}
{% macro mart_grain() -%}
    period_month, region_code, breakdown_type, breakdown_value
{%- endmacro %}

{#-
    Contribution of a registration event to the register (实有): +1 for 设立 and
    迁入, −1 for 注销, 简易注销, 迁出 and 吊销, 0 for 变更. REG_NET_GROWTH and
    REG_STOCK both use it, so 期末实有 = 期初实有 + 累计净增长 by construction.
-#}
{% macro net_growth_sign(event_type) -%}
    case
        when {{ event_type }} in ('设立', '迁入') then 1
        when {{ event_type }} in ('注销', '简易注销', '迁出', '吊销') then -1
        else 0
    end
{%- endmacro %}

{#-
    Year-to-date windows of non-additive measures (distinct counts): each fact
    row is repeated for its own month (window_kind 'month') and for every later
    month of the same year ('ytd'), so `count(distinct …)` is exact per window.
-#}
{% macro period_windows(base, periods, activity_month='activity_month') -%}
    select
        p.period_month,
        'month' as window_kind,
        b.*
    from {{ base }} as b
    inner join {{ periods }} as p on b.{{ activity_month }} = p.period_month
    union all
    select
        p.period_month,
        'ytd' as window_kind,
        b.*
    from {{ base }} as b
    inner join {{ periods }} as p
        on date_trunc('year', b.{{ activity_month }}) = date_trunc('year', p.period_month)
        and b.{{ activity_month }} <= p.period_month
{%- endmacro %}

{#-
    Measure columns → rows. Every column of `relation` other than the grain
    (and window_kind) is a measure; its name upper-cased is the measure code
    (reg_new → REG_NEW), referenced by the catalogue's indicator_code,
    numerator_code or denominator_code.
    measure_kind: flow (additive over months: ytd = running sum), stock (value
    at period end: ytd = value) or distinct (ytd computed over the window).
-#}
{% macro unpivot_measures(relation, domain, measure_kind) -%}
    select
        '{{ domain }}' as domain,
        '{{ measure_kind }}' as measure_kind,
        m.period_month,
        m.region_code,
        m.breakdown_type,
        m.breakdown_value,
        {% if measure_kind == 'distinct' -%}
        m.window_kind,
        {%- else -%}
        'month' as window_kind,
        {%- endif %}
        upper(kv.key) as measure_code,
        coalesce(cast(kv.value #>> '{}' as numeric), 0) as measure_value
    from {{ relation }} as m
    cross join lateral jsonb_each(
        to_jsonb(m) - array['period_month', 'region_code', 'breakdown_type', 'breakdown_value', 'window_kind']
    ) as kv
{%- endmacro %}

{#-
    The measures a domain model declares, read from its columns (not its rows):
    one row per measure for the 全部 breakdown, so int_marts__measures gives a
    measure every month and region even when no event of it was ever loaded.
-#}
{% macro declared_measures(relation, domain, measure_kind) -%}
    select
        '{{ domain }}' as domain,
        '{{ measure_kind }}' as measure_kind,
        upper(k.key) as measure_code,
        '全部' as breakdown_type,
        '全部' as breakdown_value
    from jsonb_object_keys(
        to_jsonb(jsonb_populate_record(null::{{ relation.include(database=false) }}, '{}'))
        - array['period_month', 'region_code', 'breakdown_type', 'breakdown_value', 'window_kind']
    ) as k (key)
{%- endmacro %}

{#- A rate in percent, unrounded; NULL when the denominator is 0 (never 0, never 100). -#}
{% macro rate_pct(numerator, denominator) -%}
    ({{ numerator }}) * 100 / nullif({{ denominator }}, 0)
{%- endmacro %}

{#-
    Columns of a wide domain mart (全部 breakdown): <code> and <code>_ytd for
    every indicator, plus <code>_numerator / _denominator (and their _ytd) for
    rates. Values are picked, never recomputed, from int_marts__indicator_values.
-#}
{% macro wide_indicator_columns(counts, rates) -%}
    {%- for c in counts %}
    max(v.value) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }},
    max(v.ytd_value) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }}_ytd,
    {%- endfor %}
    {%- for c in rates %}
    max(v.value) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }},
    max(v.numerator) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }}_numerator,
    max(v.denominator) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }}_denominator,
    max(v.ytd_value) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }}_ytd,
    max(v.ytd_numerator) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }}_ytd_numerator,
    max(v.ytd_denominator) filter (where v.indicator_code = '{{ c }}') as {{ c | lower }}_ytd_denominator,
    {%- endfor %}
{%- endmacro %}

{#- A wide domain mart: one row per (period_month, region_code), the 全部 breakdown. -#}
{% macro wide_domain_mart(counts, rates) -%}
with indicator_values as (
    select * from {{ ref('int_marts__indicator_values') }}
    where
        breakdown_type = '全部'
        and indicator_code in ({% for c in counts + rates %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %})
),

final as (
    select
        v.period_month,
        v.region_code,
        v.region_name,
        {{ wide_indicator_columns(counts, rates) }}
        max(v.as_of_date) as as_of_date,
        cast('{{ run_id() }}' as text) as published_run_id
    from indicator_values as v
    group by v.period_month, v.region_code, v.region_name
)

select * from final
{%- endmacro %}
