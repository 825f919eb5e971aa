{#- Generic tests for the warehouse's business rules (dbt-utils is not reachable; written here). -#}

{#- The column is on or after another date column of the same row (NULLs pass). -#}
{% test not_before(model, column_name, other) %}
select *
from {{ model }}
where {{ column_name }} is not null
    and {{ other }} is not null
    and {{ column_name }} < {{ other }}
{% endtest %}

{#-
    Primary key: none of the columns is NULL and their combination is unique
    (dbt_utils' unique_combination_of_columns plus not_null on each column, which
    dbt-project-evaluator accepts as a primary-key test). Offending groups returned.
-#}
{% test primary_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having
    count(*) > 1
    {%- for c in columns %}
    or bool_or({{ c }} is null)
    {%- endfor %}
{% endtest %}

{#- The combination of columns is unique. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- SCD2: every key has exactly one current row. -#}
{% test one_current_row(model, key, current='is_current') %}
select {{ key }}, count(*) filter (where {{ current }}) as current_rows
from {{ model }}
group by {{ key }}
having count(*) filter (where {{ current }}) <> 1
{% endtest %}

{#- SCD2: [valid_from, valid_to) intervals of one key neither overlap nor are empty. -#}
{% test no_overlapping_intervals(model, key, valid_from='valid_from', valid_to='valid_to') %}
with ordered as (
    select
        {{ key }},
        {{ valid_from }} as valid_from,
        {{ valid_to }} as valid_to,
        lead({{ valid_from }}) over (partition by {{ key }} order by {{ valid_from }}) as next_from
    from {{ model }}
)
select *
from ordered
where valid_to <= valid_from
    or (next_from is not null and next_from < valid_to)
{% endtest %}

{#- A boolean expression holds for every row. -#}
{% test expression_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
