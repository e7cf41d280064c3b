{# Spark implementations of dbt's own macros where Spark differs from DuckDB (dispatch: this project first). #}

{# Contracts on Spark. Spark's decimal arithmetic keeps narrower precisions than DuckDB's (the sum of a
   decimal(18,2) is a decimal(28,2) there, a decimal(38,2) here) and its datediff is an int where DuckDB's is a
   bigint; the contracts name DuckDB's types. So on Spark a contracted model's columns are cast to their declared
   types, which widens and never rounds (DuckDB, where the types must match as they are, checks that the SQL
   gives them), and the contract's column names are still checked against the model's SQL; the table has
   the contract's column order, as on DuckDB. #}
{% macro spark__get_assert_columns_equivalent(sql) -%}
    {%- set declared = model['columns'].keys() | map('lower') | list -%}
    {%- set selected = get_columns_in_query(sql) | map('lower') | list -%}
    {%- set missing = declared | reject('in', selected) | list -%}
    {%- set extra = selected | reject('in', declared) | list -%}
    {%- if missing or extra -%}
        {{ exceptions.raise_compiler_error(
            "The enforced contract of " ~ model['name'] ~ " does not match its SQL: not selected: "
            ~ (missing | join(', ') or 'none') ~ "; not in the contract: " ~ (extra | join(', ') or 'none')) }}
    {%- endif -%}
    {{ return(assert_columns_equivalent(spark__get_select_subquery(sql))) }}
{%- endmacro %}

{% macro spark__get_select_subquery(sql) -%}
    select
    {%- for column in model['columns'].values() %}
        cast({{ adapter.quote(column['name']) }} as {{ column['data_type'] }}) as {{ adapter.quote(column['name']) }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (
        {{ sql }}
    ) as model_subq
{%- endmacro %}

{# listagg with its order: Spark 4's listagg ... within group (dbt-spark's own ignores the order) #}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with a limit is not implemented for Spark here") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }}){% if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
