{# The as-of date. A refresh passes it in the environment (STUDIO_AS_OF), not as a var: dbt
   parses the whole project again whenever a var changes, and the as-of date changes every day, whereas a changed
   environment variable re-parses only the files that read it. Without it (dbt unit tests, a hand-run dbt), the
   var `as_of`. #}
{% macro as_of_date() -%}
    cast('{{ env_var("STUDIO_AS_OF", var("as_of")) }}' as date)
{%- endmacro %}
