-- Grain: one row per (measure_code, period_month, region_code, breakdown_type, breakdown_value),
-- dense: every measure × breakdown value seen in any month gets every month of
-- its domain and every region row (0 where nothing happened), so running
-- year-to-date sums and last-year lookups never skip a month.
-- ytd_value: flow = running sum over the year; stock = value at period end;
-- distinct = computed over the year-to-date window.
-- is_ytd_complete: the year-to-date window starts on or after the domain's
-- first month (false for a year whose first months were never loaded).
{%- set measure_models = [
    ('int_marts__registration_flows', 'registration', 'flow'),
    ('int_marts__registration_distinct', 'registration', 'distinct'),
    ('int_marts__registration_stock', 'registration', 'stock'),
    ('int_marts__annual_report_stock', 'registration', 'stock'),
    ('int_marts__sampling_flows', 'sampling', 'flow'),
    ('int_marts__rapid_test_flows', 'sampling', 'flow'),
    ('int_marts__equipment_flows', 'equipment', 'flow'),
    ('int_marts__equipment_distinct', 'equipment', 'distinct'),
    ('int_marts__equipment_stock', 'equipment', 'stock'),
    ('int_marts__complaint_flows', 'complaints', 'flow'),
    ('int_marts__complaint_distinct', 'complaints', 'distinct'),
] %}

with long as (
    {%- for model, domain, kind in measure_models %}
        {{ unpivot_measures(ref(model), domain, kind) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- every measure a domain model declares (its columns), so a measure with no
-- event at all in the loaded months (e.g. no 变更 yet) still reports 0
declared as (
    {%- for model, domain, kind in measure_models %}
        {{ declared_measures(ref(model), domain, kind) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

measured as (
    select
        domain,
        measure_kind,
        measure_code,
        period_month,
        region_code,
        breakdown_type,
        breakdown_value,
        sum(measure_value) filter (where window_kind = 'month') as value,
        sum(measure_value) filter (where window_kind = 'ytd') as ytd_value
    from long
    group by domain, measure_kind, measure_code, period_month, region_code, breakdown_type, breakdown_value
),

periods as (
    select * from {{ ref('int_marts__periods') }}
),

regions as (
    select distinct
        region_code,
        region_name
    from {{ ref('int_marts__region_map') }}
    where is_active or region_code in (select m.region_code from measured as m)
),

combos as (
    select distinct
        domain,
        measure_kind,
        measure_code,
        breakdown_type,
        breakdown_value
    from measured
    union
    select
        domain,
        measure_kind,
        measure_code,
        breakdown_type,
        breakdown_value
    from declared
),

spine as (
    select
        c.domain,
        c.measure_kind,
        c.measure_code,
        p.period_month,
        p.as_of_date,
        p.first_month,
        r.region_code,
        r.region_name,
        c.breakdown_type,
        c.breakdown_value
    from combos as c
    inner join periods as p on c.domain = p.domain
    cross join regions as r
),

dense as (
    select
        s.*,
        coalesce(m.value, 0) as value,
        coalesce(m.ytd_value, 0) as explicit_ytd_value
    from spine as s
    left join measured as m
        on
            s.measure_code = m.measure_code
            and {{ mart_grain_join('s', 'm') }}
),

final as (
    select
        domain,
        measure_kind,
        measure_code,
        period_month,
        region_code,
        region_name,
        breakdown_type,
        breakdown_value,
        value,
        case measure_kind
            when 'flow'
                then sum(value) over (
                    partition by
                        measure_code, region_code, breakdown_type, breakdown_value,
                        date_trunc('year', period_month)
                    order by period_month
                    rows between unbounded preceding and current row
                )
            when 'stock' then value
            else explicit_ytd_value
        end as ytd_value,
        measure_kind = 'stock' or first_month <= date_trunc('year', period_month) as is_ytd_complete,
        as_of_date
    from dense
)

select * from final
