{# A row-level rule: returns the rows where `expression` is not true (false or null).
   On a column (column_name given) the expression is appended to the column: `>= 0`. #}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({% if column_name %}{{ column_name }} {% endif %}{{ expression }}), false)
{% endtest %}
