{#-
    Incremental facts keyed by a natural key (delete+insert on unique_key).

    changed_only: in incremental runs keep only rows whose (key, load, line)
    is not already in the target — new deliveries and re-delivered days, and
    nothing else. A re-delivery gets a new load id, so every key it carries is
    rebuilt, including keys whose latest state falls back to an earlier
    delivery.

    delete_vanished (post-hook): remove target rows whose key no longer has
    any row upstream (a re-delivered day that dropped a record). With both,
    an incremental run gives the same table as a full refresh.
-#}
{% macro changed_only(alias, key_cols) -%}
    {#- call inside `{% if is_incremental() %}` in the model (unit tests override it there) -#}
    and not exists (
        select 1
        from {{ this }} as existing
        where
            {% for k in key_cols -%}
            existing.{{ k }} = {{ alias }}.{{ k }} and
            {% endfor -%}
            existing.load_id = {{ alias }}.load_id
            and existing.line_no = {{ alias }}.line_no
    )
{%- endmacro %}

{% macro delete_vanished(upstream, key_cols) -%}
    delete from {{ this }} as existing
    where not exists (
        select 1 from {{ upstream }} as upstream
        where
            {% for k in key_cols -%}
            {% if not loop.first %}and {% endif %}upstream.{{ k }} = existing.{{ k }}
            {% endfor %}
    )
{%- endmacro %}

{#-
    Input-driven rebuilds for the large models of the registration domain
    (the opening register is millions of rows at province scale and changes
    rarely; registration events change daily but touch few entities).

    source_watermark(column): the newest raw load id already reflected in
    {{ this }} (0 when empty). new_loads_since(feeds, watermark, statuses):
    SQL boolean — audit.load_files has a load of one of `feeds` with one of
    `statuses` after the watermark. Both read the load audit, never the raw
    tables, so deciding "nothing changed" costs an index lookup.
-#}
{% macro source_watermark(column='load_id') -%}
    (select coalesce(max({{ column }}), 0) from {{ this }})
{%- endmacro %}

{% macro new_loads_since(feeds, watermark, statuses=('loaded', 'replaced')) -%}
    exists (
        select 1
        from {{ source('audit', 'load_files') }} as audit_load
        where
            audit_load.feed in ({% for f in feeds %}'{{ f }}'{% if not loop.last %}, {% endif %}{% endfor %})
            and audit_load.status in ({% for s in statuses %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
            and audit_load.load_id > {{ watermark }}
    )
{%- endmacro %}

{#-
    rebuild_when_loaded(feeds): for a model that is a projection of whole
    deliveries (the opening register). Incremental runs keep the table as it
    is unless a feed was (re)loaded since its watermark; then the pre-hook
    empties it and the model's `where` selects everything again, in the same
    transaction. Use as pre_hook and in the model's final `where`.
-#}
{% macro rebuild_when_loaded_pre_hook(feeds) -%}
    {% if is_incremental() -%}
        delete from {{ this }} where {{ new_loads_since(feeds, source_watermark()) }}
    {%- else -%}
        select 1
    {%- endif %}
{%- endmacro %}

{% macro rebuild_when_loaded_filter(feeds) -%}
    {% if is_incremental() -%}
        {{ new_loads_since(feeds, source_watermark()) }}
    {%- else -%}
        true
    {%- endif %}
{%- endmacro %}

{#-
    Test scope of the models rebuilt per key or per delivery
    (dim_market_entity, the opening-register models) and of the relationship
    tests into dim_market_entity: their YAML carries
        where: msdw_run_id = '<env MSDW_DBT_RUN_ID>' or '<env MSDW_DBT_TEST_SCOPE>' = 'all'
    (dbt renders test configs at parse time from env vars; neither --vars nor
    project macros reach them). msdw.dbt_runner sets both: the daily
    transform (scope `changed`) tests the rows it rewrote, everything else
    (`all`: `msdw dbt build`, full refreshes, CI) every row. Every row of a key
    is rewritten together, so the rewritten keys plus the previous run's green
    result cover the table.
-#}

{#-
    dim_market_entity (SCD2 per uscc). Its watermark is source_load_id, the
    newest raw load id among an entity's register row and events.
    Full rebuild (pre-hook empties the table) when the opening register was
    (re)delivered or a day of registration events was corrected (a replaced
    load may have removed events: the entities concerned cannot be told from
    what remains). Otherwise the affected entities are those an event of a
    load after the watermark belongs to, now or in an earlier delivery (found
    through the load audit and the raw table's business-date index); an
    emptied table (watermark 0) makes every entity affected. Sound because a warehouse build holds the raw build
    lock (msdw.warehouse.BUILD_LOCKS): no load is in flight, so no load id
    below the watermark can commit later.
-#}
{% macro market_entity_full_rebuild_condition() -%}
    (
        {{ new_loads_since(['entity_snapshot'], source_watermark('source_load_id')) }}
        or {{ new_loads_since(['registration_events'], source_watermark('source_load_id'), statuses=('replaced',)) }}
    )
{%- endmacro %}

{% macro market_entity_full_rebuild_pre_hook() -%}
    {% if is_incremental() -%}
        delete from {{ this }} where {{ market_entity_full_rebuild_condition() }}
    {%- else -%}
        select 1
    {%- endif %}
{%- endmacro %}

{% macro market_entity_affected() -%}
    -- every entity an event of a new load belongs to, now or before: a later
    -- delivery may move an event (业务流水号) to another credit code
    select prior_event.uscc
    from {{ source('registration', 'registration_events') }} as prior_event
    where
        prior_event.uscc is not null
        and prior_event.event_id in (
            select new_event.event_id
            from {{ source('registration', 'registration_events') }} as new_event
            where
                new_event._load_id > {{ source_watermark('source_load_id') }}
                and new_event._business_date in (
                    select audit_load.business_date
                    from {{ source('audit', 'load_files') }} as audit_load
                    where
                        audit_load.feed = 'registration_events'
                        and audit_load.load_id > {{ source_watermark('source_load_id') }}
                )
        )
    union
    select register_row.uscc
    from {{ ref('stg_registration__entity_snapshot') }} as register_row
    where {{ source_watermark('source_load_id') }} = 0
{%- endmacro %}
