-- Grain: one row per (member_region_code, region_code): which mart rows a fact
-- located in a county counts for. Each county of the jurisdiction
-- (var jurisdiction) counts for itself and for the jurisdiction's total row;
-- when the jurisdiction is itself a county there is only that row. Facts
-- located outside the jurisdiction match nothing and are in no mart row.
with regions as (
    select * from {{ ref('dim_region') }}
),

jurisdiction as (
    select
        region_code,
        region_name
    from regions
    where region_code = '{{ var("jurisdiction") }}'
),

counties as (
    select
        r.region_code,
        r.region_name,
        r.is_active
    from regions as r
    cross join jurisdiction as j
    where
        r.level = 'county'
        and j.region_code in (r.region_code, r.parent_code, r.prefecture_code, r.province_code)
),

final as (
    select
        c.region_code as member_region_code,
        c.region_code,
        c.region_name,
        c.region_code = j.region_code as is_total,
        c.is_active
    from counties as c
    cross join jurisdiction as j
    union all
    select
        c.region_code as member_region_code,
        j.region_code,
        j.region_name,
        true as is_total,
        true as is_active
    from counties as c
    cross join jurisdiction as j
    where c.region_code <> j.region_code
)

select * from final
