-- GB/T 4754-2017 小类 with their 大类 and 门类: one row per listed 小类.
with classes as (
    select * from {{ ref('industry_classes') }}
),

sections as (
    select * from {{ ref('industries') }}
),

final as (
    select
        {{ surrogate_key(['c.industry_code']) }} as industry_key,
        c.industry_code,
        c.industry_name,
        c.division,
        c.industry_section,
        s.section_name,
        -- 三次产业划分规定: 05, 11 and 43 are service activities
        case
            when c.division in ('05', '11', '43') then '第三产业'
            else s.industry_sector
        end as industry_sector
    from classes as c
    inner join sections as s on c.industry_section = s.industry_section
)

select * from final
