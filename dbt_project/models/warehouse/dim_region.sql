-- 行政区划 hierarchy: one row per GB/T 2260 code (province, prefecture, county).
with regions as (
    select * from {{ ref('regions') }}
),

final as (
    select
        {{ surrogate_key(['r.region_code']) }} as region_key,
        r.region_code,
        r.region_name,
        r.level,
        r.parent_code,
        r.prefecture_code,
        p.region_name as prefecture_name,
        r.province_code,
        v.region_name as province_name,
        r.is_active,
        r.region_code = '{{ var("jurisdiction") }}' as is_jurisdiction
    from regions as r
    left join regions as p on r.prefecture_code = p.region_code
    left join regions as v on r.province_code = v.region_code
)

select * from final
