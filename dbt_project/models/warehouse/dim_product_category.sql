-- Product categories per sampling programme: one row per (program, product_category).
select
    {{ surrogate_key(['program', 'product_category']) }} as product_category_key,
    program,
    product_category,
    category_group,
    sort_order
from {{ ref('product_categories') }}
