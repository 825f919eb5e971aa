-- 特种设备目录 codes (种类/类别/品种): one row per code, with its 种类 and unit.
select
    {{ surrogate_key(['category_code']) }} as equipment_category_key,
    category_code,
    category_name,
    level,
    parent_code,
    kind_code,
    kind_name,
    unit,
    is_pipeline
from {{ ref('equipment_categories') }}
