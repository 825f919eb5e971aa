-- The planner underestimates the distinct (period, county, 种类, 重点监管, user)
-- rows ×30 and then sorts the 9 M exploded user rows (519 MB on disk, 39 s of
-- a province year) instead of hashing them (18 s): hash aggregates only, for
-- this model's transaction (docs/performance.md §7).
{{ config(pre_hook="set local enable_sort = off") }}
-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- special-equipment stock at period end (month end, or as_of_date for the
-- current month): the dim_equipment version valid at the end of that day.
-- Unit counts exclude 压力管道 (measured in metres: EQ_PIPELINE_M).
-- Cost: devices × periods rows at period end, aggregated once at the finest
-- grain (county × 种类 × 重点监管) before the region and breakdown rows are
-- added; only the distinct users (EQ_USERS) travel as keys, deduplicated by
-- hash aggregates (a count(distinct) over every exploded device row sorted
-- ~11 M rows at province scale: docs/performance.md §7).
with versions as (
    select * from {{ ref('dim_equipment') }}
    where not is_inferred and is_in_use
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'equipment'
),

at_period_end as (
    select
        p.period_month,
        p.period_end,
        v.region_code,
        v.kind_code as category_code,
        case when v.key_supervision then '是' else '否' end as key_supervision,
        v.is_pipeline,
        v.next_inspection_due,
        v.pipeline_length_m,
        v.user_uscc
    from periods as p
    inner join versions as v on p.period_end >= v.valid_from and p.period_end < v.valid_to
),

finest as (
    -- additive measures per (period, county, 种类, 重点监管)
    select
        period_month,
        region_code,
        category_code,
        key_supervision,
        count(*) filter (where not is_pipeline) as eq_in_use,
        count(*) filter (where not is_pipeline and next_inspection_due >= period_end) as eq_in_use_inspected,
        count(*) filter (
            where not is_pipeline and (next_inspection_due is null or next_inspection_due < period_end)
        ) as eq_overdue,
        sum(pipeline_length_m) filter (where is_pipeline) as eq_pipeline_m
    from at_period_end
    group by period_month, region_code, category_code, key_supervision
),

finest_users as (
    -- the distinct users per (period, county, 种类, 重点监管)
    select distinct
        period_month,
        region_code,
        category_code,
        key_supervision,
        user_uscc
    from at_period_end
    where user_uscc is not null
),

counts as (
    select
        f.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        cast(sum(f.eq_in_use) as bigint) as eq_in_use,
        cast(sum(f.eq_in_use_inspected) as bigint) as eq_in_use_inspected,
        cast(sum(f.eq_overdue) as bigint) as eq_overdue,
        coalesce(sum(f.eq_pipeline_m), 0) as eq_pipeline_m
    from finest as f
    {{ mart_region_join('f') }}
    {{ breakdown_rows('f', ['category_code', 'key_supervision']) }}
    group by f.period_month, rm.region_code, bd.breakdown_type, bd.breakdown_value
),

users as (
    select
        period_month,
        region_code,
        breakdown_type,
        breakdown_value,
        count(*) as eq_users
    from (
        select
            u.period_month,
            rm.region_code,
            bd.breakdown_type,
            bd.breakdown_value,
            u.user_uscc
        from finest_users as u
        {{ mart_region_join('u') }}
        {{ breakdown_rows('u', ['category_code', 'key_supervision']) }}
        group by u.period_month, rm.region_code, bd.breakdown_type, bd.breakdown_value, u.user_uscc
    ) as per_user
    group by period_month, region_code, breakdown_type, breakdown_value
),

final as (
    select
        c.period_month,
        c.region_code,
        c.breakdown_type,
        c.breakdown_value,
        c.eq_in_use,
        c.eq_in_use_inspected,
        c.eq_overdue,
        c.eq_pipeline_m,
        coalesce(u.eq_users, 0) as eq_users
    from counts as c
    left join users as u on {{ mart_grain_join('c', 'u') }}
)

select * from final
