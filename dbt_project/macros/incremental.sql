{#-
    Incremental models of the warehouse, driven by the load audit.

    Every raw row carries the load id (audit.load_files.load_id) that wrote
    it; an incremental model's watermark is the newest load id it already
    reflects. A daily run selects what loads after the watermark touched;
    a corrected (replaced) delivery, which may have removed rows nothing new
    names, rebuilds the model instead. Deciding "nothing changed" reads the
    audit (an index), never the raw tables. Sound because a warehouse build
    holds the raw build lock (msdw.warehouse.BUILD_LOCKS): no load is in
    flight during a build, so no load id below a watermark commits later.
    tests/integration/test_dbt_generated_month.py and test_dbt_warehouse.py
    prove every path equal to a full refresh.
-#}

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

{#-
    Latest-state facts fed by one raw feed (fct_registration_event,
    fct_annual_report, fct_rapid_test, fct_complaint,
    fct_complaint_status_history): the daily run rebuilds the keys that have
    a row in a load after the fact's watermark (max load_id it holds).

    changed_keys_select(staging, source_name, feed, key): the staging
    model's latest-state rows of the keys with a row in a load after the
    fact's watermark. The qual `key = any(array(<new keys>))` is on the
    staging view's partition key, so PostgreSQL pushes it below the
    latest-state window into the raw scan, where it is the index condition
    of the raw key index (raw.<feed>_key, ingest/sql/feed_tables.sql.j2): a
    day reads its keys' rows, not the history. Two branches, not an OR: an
    `= any(array)` that is not an index condition is a linear search per
    row (measured: 229 s for 6 540 keys over 1.7 M province rows), and
    an OR with the watermark test keeps it from being one. When the table
    is empty (emptied by the pre-hook) the watermark is 0 and the first
    branch returns everything; PostgreSQL runs only the branch whose
    one-time filter holds.

    full_rebuild_on_replaced_pre_hook(feeds): a corrected (replaced) day may
    have removed rows, whose keys nothing new names; the table is emptied
    and rebuilt from staging in the same transaction. Re-deliveries are
    rare; correctness does not depend on spotting which keys they touched.
-#}
{% macro changed_keys_select(staging, source_name, feed, key) -%}
    select * from {{ staging }}
    {%- if is_incremental() %}
    where {{ source_watermark() }} = 0
    union all
    select * from {{ staging }}
    where
        {{ source_watermark() }} > 0
        and {{ key }} = any(array(
            select new_row.{{ key }}
            from {{ source(source_name, feed) }} as new_row
            where
                new_row._load_id > {{ source_watermark() }}
                and new_row._business_date in (
                    select audit_load.business_date
                    from {{ source('audit', 'load_files') }} as audit_load
                    where audit_load.feed = '{{ feed }}' and audit_load.load_id > {{ source_watermark() }}
                )
        ))
    {%- endif %}
{%- endmacro %}

{% macro full_rebuild_on_replaced_pre_hook(feeds) -%}
    {% if is_incremental() -%}
        delete from {{ this }} where {{ new_loads_since(feeds, source_watermark(), statuses=('replaced',)) }}
    {%- else -%}
        select 1
    {%- endif %}
{%- endmacro %}

{#-
    index_columns(columns): post-hook of the incremental tables — indexes on
    the columns their daily work looks up: the watermark (load_id /
    source_load_id: max() from an index, not a scan), the run id the daily
    tests are scoped to, and the keys delete+insert deletes by.
-#}
{% macro index_columns(columns) -%}
    {%- for col in columns %}
    create index if not exists {{ this.identifier }}__{{ col }} on {{ this }} ({{ col }});
    {%- endfor %}
{%- endmacro %}
