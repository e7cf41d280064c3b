{# Statistics the cross-database macros do not cover. #}

{# the median of a column within a group #}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median')(expr)) }}
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{# A value at or below the n-th largest value of a column within a group: the rows at or above it hold the group's
   n largest, so a ranking window need only see those. DuckDB knows the n largest values (`max(x, n)`); elsewhere
   the group's smallest value, which keeps every row (the same answer, without the saving). #}
{% macro top_n_floor(expr, n) -%}
    {{ return(adapter.dispatch('top_n_floor')(expr, n)) }}
{%- endmacro %}

{% macro duckdb__top_n_floor(expr, n) -%}
    list_min(max({{ expr }}, {{ n }}))
{%- endmacro %}

{% macro default__top_n_floor(expr, n) -%}
    min({{ expr }})
{%- endmacro %}
