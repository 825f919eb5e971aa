{#- Generic SQL helpers (no business rule here: those are in business_rules.sql). -#}

{#- carry_forward(column, seq, window): the value of ``column`` on the last row
    of the window frame (up to the current row, ordered by ``seq``) where it
    is not null: "last value ignoring nulls", which PostgreSQL has no syntax
    for. It is the running max of ``seq`` (zero-padded, so text order is number
    order) prepended to the value, with the prefix cut off again; a text
    column only. Evaluated in the window's own pass, so an SCD2 fill needs one
    sort of the history instead of one per attribute (partition by a running
    count, then max): dim_market_entity full build at province scale, see
    docs/performance.md. ``window`` must be a ROWS frame from UNBOUNDED
    PRECEDING in ``seq`` order, and ``seq`` a non-negative integer < 10^12. -#}
{% macro carry_forward(column, seq, window) -%}
    substr(max(lpad(cast({{ seq }} as text), 12, '0') || {{ column }}) over {{ window }}, 13)
{%- endmacro %}

{#- analyze_new_table(): post-hook of every model (dbt_project.yml). A table
    dbt has just (re)created has no planner statistics until autovacuum gets to
    it (a minute later at best), so the next model of the same run plans its
    joins blind: fct_complaint's full build on a city year took 20 s against a
    dim_date without statistics (a nested loop over the calendar) and 0.6 s
    after ANALYZE. Tables and first or full builds of incremental models are
    analysed (a 30k-row sample: well under a second); an incremental run adds
    a day's rows and leaves it to autovacuum; views have nothing to analyse. -#}
{% macro analyze_new_table() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if materialized == 'table' or (materialized == 'incremental' and not is_incremental()) -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
