{# Grain test: no two rows share the same values of `combination_of_columns` (nulls compare equal,
   as in a GROUP BY). Returns one row per duplicated key with how many times it occurs. #}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as rows_with_this_key
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
