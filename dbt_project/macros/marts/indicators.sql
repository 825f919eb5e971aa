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

{#- Join condition: the same grain row on both sides (columns of mart_grain). -#}
{% macro mart_grain_join(left, right) -%}
    {{ left }}.period_month = {{ right }}.period_month
    and {{ left }}.region_code = {{ right }}.region_code
    and {{ left }}.breakdown_type = {{ right }}.breakdown_type
    and {{ left }}.breakdown_value = {{ right }}.breakdown_value
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
    Distinct-count measures for the month and the year to date, in one pass.

    `base` has one row per fact with `activity_month`, `region_code`, the
    breakdown columns, the counted key and (optionally) boolean flag columns.
    Each measure counts the distinct non-NULL keys with at least `min_rows`
    rows (where its `flag` holds, when it has one) in the window:
    ``{'name': 'eq_devices_with_hazard', 'flag': 'has_hazard'}``,
    ``{'name': 'cp_repeat_complainants', 'min_rows': 2}``.

    Output: one row per (period_month, region_code, breakdown_type,
    breakdown_value, window_kind) — 'month' where the grain has rows in that
    month, 'ytd' for every period of a year from the grain's first month with
    rows in that year on (the rows of the former "repeat every row for every
    later month" form, with the same values).

    Why not `count(distinct …)` over each window: the year-to-date window of
    month M holds every row of months 1..M, so that form repeats each row for
    every later month of its year (6.5× on average over a year, ×12 for a
    January row) and sorts all of it. Here each key contributes once per
    (grain, month) and once per (grain, year): the month in which it reaches
    each measure's threshold. A key counts in the year to date of M exactly
    when that month is ≤ M, so the YTD value is a running sum of those
    "qualifying months" — linear in the rows, whatever the number of periods.
-#}
{% macro distinct_windows(base, periods, key, breakdowns, measures) -%}
    {%- set grain = 'region_code, breakdown_type, breakdown_value' -%}
    {%- set ns = namespace(cumulative=false) -%}
    {%- for m in measures if m.get('min_rows', 1) > 1 %}{% set ns.cumulative = true %}{% endfor -%}
    with per_key_month as (
        -- rows per (month, grain, key) and measure
        select
            b.activity_month,
            rm.region_code,
            bd.breakdown_type,
            bd.breakdown_value,
            b.{{ key }} as distinct_key
            {%- for m in measures %},
            count(*){% if m.get('flag') %} filter (where b.{{ m.flag }}){% endif %} as n_{{ loop.index }}
            {%- endfor %}
        from {{ base }} as b
        {{ mart_region_join('b') }}
        {{ breakdown_rows('b', breakdowns) }}
        group by b.activity_month, rm.region_code, bd.breakdown_type, bd.breakdown_value, b.{{ key }}
    ),

    month_window as (
        select
            p.period_month,
            x.region_code,
            x.breakdown_type,
            x.breakdown_value,
            'month' as window_kind
            {%- for m in measures %},
            count(*) filter (where x.distinct_key is not null and x.n_{{ loop.index }} >= {{ m.get('min_rows', 1) }})
                as {{ m.name }}
            {%- endfor %}
        from per_key_month as x
        inner join {{ periods }} as p on x.activity_month = p.period_month
        group by p.period_month, x.region_code, x.breakdown_type, x.breakdown_value
    ),

    {%- if ns.cumulative %}
    per_key_running as (
        -- rows of each key so far in its year, per measure with a threshold above 1
        select
            x.*
            {%- for m in measures %}{% if m.get('min_rows', 1) > 1 %},
            sum(x.n_{{ loop.index }}) over (
                partition by x.region_code, x.breakdown_type, x.breakdown_value, x.distinct_key,
                date_trunc('year', x.activity_month)
                order by x.activity_month
            ) as c_{{ loop.index }}
            {%- endif %}{% endfor %}
        from per_key_month as x
    ),
    {%- endif %}

    per_key_year as (
        -- per (grain, year, key): its first month with rows, and the month it
        -- reaches each measure's threshold (NULL: not within the year)
        select
            {{ grain }},
            cast(date_trunc('year', activity_month) as date) as period_year_start,
            min(activity_month) as first_month
            {%- for m in measures %},
            min(activity_month) filter (
                where distinct_key is not null and
                {% if m.get('min_rows', 1) > 1 %}c_{{ loop.index }} >= {{ m.min_rows }}{% else %}n_{{ loop.index }} >= 1{% endif %}
            ) as q_{{ loop.index }}
            {%- endfor %}
        from {{ 'per_key_running' if ns.cumulative else 'per_key_month' }}
        group by {{ grain }}, distinct_key, date_trunc('year', activity_month)
    ),

    qualifying as (
        -- per (grain, year, month): keys first seen (which rows the year to date has) and keys qualifying per measure
        select
            f.region_code,
            f.breakdown_type,
            f.breakdown_value,
            f.period_year_start,
            v.month_start,
            count(*) filter (where v.which = 0) as n_first
            {%- for m in measures %},
            count(*) filter (where v.which = {{ loop.index }}) as n_{{ loop.index }}
            {%- endfor %}
        from per_key_year as f
        cross join lateral (
            values (f.first_month, 0)
            {%- for m in measures %}, (f.q_{{ loop.index }}, {{ loop.index }}){% endfor %}
        ) as v (month_start, which)
        where v.month_start is not null
        group by f.region_code, f.breakdown_type, f.breakdown_value, f.period_year_start, v.month_start
    ),

    ytd_periods as (
        -- every period of a grain's year from its first month with rows on, with no new key
        select
            g.region_code,
            g.breakdown_type,
            g.breakdown_value,
            g.period_year_start,
            p.period_month as month_start,
            0 as n_first
            {%- for m in measures %},
            0 as n_{{ loop.index }}
            {%- endfor %}
        from (
            select
                {{ grain }},
                period_year_start,
                min(month_start) as first_month
            from qualifying
            group by {{ grain }}, period_year_start
        ) as g
        inner join {{ periods }} as p
            on
                date_trunc('year', p.period_month) = g.period_year_start
                and p.period_month >= g.first_month
    ),

    ytd_running as (
        select
            {{ grain }},
            month_start
            {%- for m in measures %},
            sum(sum(n_{{ loop.index }})) over (
                partition by {{ grain }}, period_year_start order by month_start
            ) as {{ m.name }}
            {%- endfor %}
        from (
            select * from qualifying
            union all
            select * from ytd_periods
        ) as q
        group by {{ grain }}, period_year_start, month_start
    ),

    ytd_window as (
        select
            p.period_month,
            r.region_code,
            r.breakdown_type,
            r.breakdown_value,
            'ytd' as window_kind
            {%- for m in measures %},
            cast(r.{{ m.name }} as bigint) as {{ m.name }}
            {%- endfor %}
        from ytd_running as r
        inner join {{ periods }} as p on r.month_start = p.period_month
    )

    select * from month_window
    union all
    select * from ytd_window
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
