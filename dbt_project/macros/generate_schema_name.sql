{#-
    Use the custom schema of a node verbatim (staging, intermediate, warehouse,
    seeds, marts_candidate): the schemas are created and granted by the
    platform bootstrap (plugins/msdw/sql/bootstrap/00_schemas.sql), so dbt must
    not invent <target>_<custom> names.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
