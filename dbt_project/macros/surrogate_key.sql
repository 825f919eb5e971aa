{#-
    Deterministic surrogate key: md5 of the natural key parts, NULL-safe and
    order-sensitive. No dbt hub packages are reachable from the bureau's
    network, so the few helpers the project needs live here.
-#}
{% macro surrogate_key(parts) -%}
    md5(concat_ws('|'
    {%- for part in parts %}, coalesce(cast({{ part }} as text), '∅'){% endfor -%}
    ))
{%- endmacro %}
