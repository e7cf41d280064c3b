{# Grain test: no two rows share the same values of `combination_of_columns` (nulls compare equal,
   as in a GROUP BY). Returns one row per duplicated key with how many times it occurs.
   Two passes, so that a fact of a hundred million rows stays within the engine's memory limit: first the
   keys' hashes (one fixed-width number per row, which the engine groups and spills cheaply), then the
   keys themselves, only for the rows whose hash occurs more than once. The answer is exact: a hash shared
   by two different keys reaches the second pass and is not reported there. #}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set key = combination_of_columns | join(', ') -%}
with repeated_hashes as (
    select hash({{ key }}) as key_hash
    from {{ model }}
    group by hash({{ key }})
    having count(*) > 1
)
select
    {{ key }},
    count(*) as rows_with_this_key
from {{ model }}
where hash({{ key }}) in (select key_hash from repeated_hashes)
group by {{ key }}
having count(*) > 1
{% endtest %}
