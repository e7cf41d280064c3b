{# Every listed column of a model is not null, in one test instead of one per column: a refresh runs one
   node per model, not hundreds (each dbt node costs its own round trip). A failing column is one row of the
   result: its name and how many of its rows are null. `new_rows` (an incremental model's test): only the rows
   the build may have added are read, when it appends to a build that passed its tests (macro rows_to_test). #}

{% test not_null_columns(model, columns, new_rows=none) %}
    with tested as (select * from {{ rows_to_test(model, new_rows) or model }} as rows_tested)
    {% for column in columns %}
    select '{{ column }}' as null_column, count(*) as null_rows
    from tested
    where {{ column }} is null
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
