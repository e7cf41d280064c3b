{# The as-of date. A refresh passes it in the environment (STUDIO_AS_OF), not as a var: dbt parses the whole
   project again whenever a var changes, and the as-of date changes every day. The environment is read only when
   dbt runs the SQL (`execute`), never while it parses: dbt re-parses every file that read a changed environment
   variable while parsing (the 29 files that use this macro, about 2 s a day), while a value read at run time is
   not recorded. A parse sees the var, which no SQL run uses. Without the variable (dbt unit tests, a hand-run
   dbt), the var `as_of`. #}
{% macro as_of_date() -%}
    {%- if execute -%}
    cast('{{ env_var("STUDIO_AS_OF", var("as_of")) }}' as date)
    {%- else -%}
    cast('{{ var("as_of") }}' as date)
    {%- endif -%}
{%- endmacro %}
