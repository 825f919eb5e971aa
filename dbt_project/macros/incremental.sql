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
