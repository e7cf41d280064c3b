{# The database of stg_gl_actuals, the ledger's every line (10M rows beside a 10M-row fact): on DuckDB the file
   the profile attaches as `ledger` (`_internal/ledger.duckdb`), so that the build database, which publishing
   copies whole as the new studio.duckdb, does not carry it (the copy would hold its blocks as free space). Elsewhere
   (Spark): the target's own. #}
{% macro ledger_database() -%}
    {{ return(adapter.dispatch('ledger_database')()) }}
{%- endmacro %}

{% macro duckdb__ledger_database() -%}
    {{ return('ledger') }}
{%- endmacro %}

{% macro default__ledger_database() -%}
    {{ return(none) }}
{%- endmacro %}
