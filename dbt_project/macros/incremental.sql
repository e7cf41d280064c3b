{# How a model whose refresh deletes some of its rows before appending is materialised: incremental where the
   engine deletes rows of a table (DuckDB), rebuilt whole where it cannot (Spark's plain Parquet tables have no
   DELETE; Delta would need jars from outside the package registry). Both give the same rows. #}
{% macro materialization_with_deletes() -%}
    {{ return(adapter.dispatch('materialization_with_deletes')()) }}
{%- endmacro %}

{% macro default__materialization_with_deletes() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__materialization_with_deletes() -%}
    {{ return('table') }}
{%- endmacro %}
