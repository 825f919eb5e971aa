{#- Business rules of the warehouse, each in exactly one place. -#}

{#-
    Report bucket of a market entity (企业 / 个体工商户 / 农民专业合作社).
    USCC positions 1–2 decide for SAMR registrants (91 企业, 92 个体工商户,
    93 农民专业合作社); otherwise the 企业类型代码 (9100/9200 农民专业合作社),
    else 企业. docs/contracts/domain.md#uscc and #entity-types.
-#}
{% macro entity_category(uscc, type_code) -%}
    case
        when left({{ uscc }}, 2) = '91' then '企业'
        when left({{ uscc }}, 2) = '92' then '个体工商户'
        when left({{ uscc }}, 2) = '93' then '农民专业合作社'
        when {{ type_code }} in ('9100', '9200') then '农民专业合作社'
        else '企业'
    end
{%- endmacro %}

{#- GB/T 4754 code as delivered (e.g. F5292, 5292, 676) → digits only. -#}
{% macro industry_code(code) -%}
    nullif(regexp_replace({{ code }}, '^[A-Z]+', ''), '')
{%- endmacro %}

{#- 门类 letter of an industry code, from the 2-digit 大类 ranges in seed `industries`. -#}
{% macro industry_section(code) -%}
    (
        select sec.industry_section
        from {{ ref('industries') }} as sec
        where left({{ industry_code(code) }}, 2) between sec.division_from and sec.division_to
    )
{%- endmacro %}

{#- Registration status an entity is in after a registration event of this type. -#}
{% macro status_after_event(event_type) -%}
    case {{ event_type }}
        when '设立' then '存续'
        when '迁入' then '存续'
        when '迁出' then '迁出'
        when '注销' then '注销'
        when '简易注销' then '注销'
        when '吊销' then '吊销'
    end
{%- endmacro %}

{#- Stock (实有) statuses: the entity is counted in the register. -#}
{% macro is_active_stock(status) -%}
    coalesce({{ status }} in ('存续', '在业'), false)
{%- endmacro %}

{#-
    Latest state per key across deliveries: the latest business date wins,
    then the latest load (a re-delivery), then the last line of the file.
-#}
{% macro latest_first() -%}
    _business_date desc, _load_id desc, _line_no desc
{%- endmacro %}

{% macro latest_rank(key_cols) -%}
    row_number() over (partition by {{ key_cols | join(', ') }} order by {{ latest_first() }})
{%- endmacro %}

{#- Open-ended SCD2 validity. -#}
{% macro end_of_time() -%}
    date '9999-12-31'
{%- endmacro %}

{#-
    个转企: a 变更 whose previous type is 个体工商户 and whose new type is an
    enterprise. 个体工商户 have no code in the national 企业(机构)类型代码 table;
    the source system carries the bureau's local code for them in
    原主体类型代码 (9500 in seeds/entity_types.csv, category 个体工商户 — change
    the seed row if the bureau uses another). Both sides are judged by the type
    codes' categories, not by the credit code (a 个转企 may keep its 92… code).
-#}
{% macro is_individual_to_enterprise(event_type, previous_type_code, new_type_code) -%}
    coalesce(
        {{ event_type }} = '变更'
        and {{ previous_type_code }} in (
            select et.entity_type_code from {{ ref('entity_types') }} as et where et.entity_category = '个体工商户'
        )
        and {{ new_type_code }} in (
            select et.entity_type_code from {{ ref('entity_types') }} as et where et.entity_category = '企业'
        ),
        false
    )
{%- endmacro %}

{#-
    The pipeline run that builds a row (<dag_id>/<run_id> from Airflow, a CLI or
    test label). Read from the environment (MSDW_DBT_RUN_ID, set by
    msdw.dbt_runner), not from --vars: a var that changes every run makes dbt
    re-parse the whole project each invocation; an env var only the files that
    read it. The var msdw_run_id stays the default for a bare `dbt` call.
-#}
{% macro run_id() -%}
    {{ env_var('MSDW_DBT_RUN_ID', var('msdw_run_id')) }}
{%- endmacro %}
