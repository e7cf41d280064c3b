{# A row-level rule: returns the rows where `expression` is not true (false or null).
   On a column (column_name given) the expression is appended to the column: `>= 0`.
   `new_rows` (an incremental model's test): only the rows the build may have added are read, when it appends to
   a build that passed its tests (macro rows_to_test). #}
{% test expression_is_true(model, expression, column_name=none, new_rows=none) %}
select *
from {{ rows_to_test(model, new_rows) or model }} as tested
where not coalesce(({% if column_name %}{{ column_name }} {% endif %}{{ expression }}), false)
{% endtest %}
