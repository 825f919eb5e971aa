-- Special-equipment devices (特种设备), SCD2 over the registry state: a new
-- version starts on each delivery day whose tracked attributes differ from the
-- previous day's. Devices seen only in inspections or hazards (late-arriving
-- registry rows) get an inferred member (is_inferred) valid for all time,
-- located in the bureau's jurisdiction, replaced once the registry row comes.
-- equipment_key is the durable key (one per device, shared by its versions);
-- equipment_version_key identifies a version.
with registry as (
    select * from {{ ref('stg_equipment__equipment_registry') }}
),

categories as (
    select * from {{ ref('equipment_categories') }}
),

hashed as (
    select
        *,
        {{ surrogate_key(['status', 'user_uscc', 'next_inspection_due', 'key_supervision',
                          'pipeline_length_m', 'category_code', 'region_code']) }} as state_hash
    from registry
),

changed as (
    select
        *,
        lag(state_hash) over (partition by equipment_code order by business_date) as previous_hash,
        row_number() over (partition by equipment_code order by business_date) as day_seq
    from hashed
),

registered_versions as (
    select
        equipment_code,
        category_code,
        variety,
        user_uscc,
        region_code,
        registered_date,
        status,
        next_inspection_due,
        key_supervision,
        pipeline_length_m,
        -- the first version is valid from registration (or delivery, if earlier)
        case when day_seq = 1 then least(registered_date, business_date) else business_date end as valid_from,
        false as is_inferred
    from changed
    where previous_hash is null or previous_hash <> state_hash
),

seen_elsewhere as (
    select equipment_code from {{ ref('stg_equipment__equipment_inspections') }}
    union
    select equipment_code from {{ ref('stg_equipment__equipment_hazards') }}
),

inferred_versions as (
    select
        s.equipment_code,
        cast(null as text) as category_code,
        cast(null as text) as variety,
        cast(null as text) as user_uscc,
        cast('{{ var("jurisdiction") }}' as text) as region_code,
        cast(null as date) as registered_date,
        cast(null as text) as status,
        cast(null as date) as next_inspection_due,
        cast(null as boolean) as key_supervision,
        cast(null as numeric) as pipeline_length_m,
        date '1900-01-01' as valid_from,
        true as is_inferred
    from seen_elsewhere as s
    where not exists (
        select 1
        from registry as r
        where r.equipment_code = s.equipment_code
    )
),

versions as (
    select * from registered_versions
    union all
    select * from inferred_versions
),

final as (
    select
        {{ surrogate_key(['v.equipment_code', 'v.valid_from']) }} as equipment_version_key,
        {{ surrogate_key(['v.equipment_code']) }} as equipment_key,
        v.equipment_code,
        v.category_code,
        c.category_name,
        c.kind_code,
        c.kind_name,
        c.unit,
        coalesce(c.is_pipeline, false) as is_pipeline,
        v.variety,
        v.user_uscc,
        v.region_code,
        v.status,
        coalesce(v.status = '在用', false) as is_in_use,
        v.next_inspection_due,
        coalesce(v.key_supervision, false) as key_supervision,
        v.pipeline_length_m,
        v.registered_date,
        v.valid_from,
        coalesce(
            lead(v.valid_from) over (partition by v.equipment_code order by v.valid_from),
            {{ end_of_time() }}
        ) as valid_to,
        lead(v.valid_from) over (partition by v.equipment_code order by v.valid_from) is null as is_current,
        v.is_inferred
    from versions as v
    left join categories as c on v.category_code = c.category_code
)

select * from final
