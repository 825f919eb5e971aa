-- Grain: one row per (period_month, region_code, breakdown_type, breakdown_value);
-- one column per additive registration measure (column name = measure code).
-- Period = calendar month of the approval date (核准日期).
with events as (
    select * from {{ ref('fct_registration_event') }}
),

periods as (
    select * from {{ ref('int_marts__periods') }}
    where domain = 'registration'
),

base as (
    select
        p.period_month,
        e.region_code,
        e.event_type,
        e.entity_category,
        e.industry_section,
        e.channel,
        e.is_individual_to_enterprise
    from events as e
    inner join periods as p on cast(date_trunc('month', e.approved_date) as date) = p.period_month
),

exploded as (
    select
        b.period_month,
        rm.region_code,
        bd.breakdown_type,
        bd.breakdown_value,
        b.event_type,
        b.channel,
        b.is_individual_to_enterprise
    from base as b
    {{ mart_region_join('b') }}
    {{ breakdown_rows('b', ['entity_category', 'industry_section']) }}
),

final as (
    select
        {{ mart_grain() }},
        count(*) filter (where event_type = '设立') as reg_new,
        count(*) filter (where event_type = '设立' and channel = '全程电子化') as reg_new_online,
        count(*) filter (where event_type = '迁入') as reg_move_in,
        count(*) filter (where event_type = '迁出') as reg_move_out,
        count(*) filter (where event_type in ('注销', '简易注销')) as reg_cancel,
        count(*) filter (where event_type = '简易注销') as reg_cancel_simple,
        count(*) filter (where event_type = '吊销') as reg_revoke,
        sum({{ net_growth_sign('event_type') }}) as reg_net_growth,
        count(*) filter (where event_type = '变更' and is_individual_to_enterprise) as reg_ind_to_ent
    from exploded
    group by {{ mart_grain() }}
)

select * from final
