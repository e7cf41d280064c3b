{# Every listed column of a model is not null, in one test instead of one per column: a refresh runs one
   node per model, not hundreds (each dbt node costs its own round trip). A failing column is one row of the
   result: its name and how many of its rows are null. #}

{% test not_null_columns(model, columns) %}
    {% for column in columns %}
    select '{{ column }}' as null_column, count(*) as null_rows
    from {{ model }}
    where {{ column }} is null
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
