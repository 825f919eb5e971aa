-- 企业(机构)类型代码: one row per code.
select
    {{ surrogate_key(['entity_type_code']) }} as entity_type_key,
    entity_type_code,
    entity_type_name,
    entity_category,
    is_branch,
    is_foreign,
    type_group
from {{ ref('entity_types') }}
