-- 商品服务大类 of complaints with the bureau's report bucket: one row per 大类.
select
    {{ surrogate_key(['category']) }} as complaint_category_key,
    category,
    category_group,
    report_bucket,
    sort_order
from {{ ref('complaint_categories') }}
