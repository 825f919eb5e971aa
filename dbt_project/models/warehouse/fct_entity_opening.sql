-- Grain: one row per market entity in the opening register (期初快照) at go-live.
with snapshot as (
    select * from {{ ref('stg_registration__entity_snapshot') }}
),

final as (
    select
        uscc,
        {{ surrogate_key(['uscc']) }} as entity_key,
        region_code,
        entity_category,
        entity_type_code,
        industry_code,
        industry_section,
        registration_status,
        is_active_stock,
        established_date,
        snapshot_date
    from snapshot
)

select * from final
