{# On DuckDB, the staging and intermediate models are built in the work database (the file the profile attaches
   as `work`, `_internal/work.duckdb`), the marts and seeds in the build database: publishing copies the build
   file whole as the new studio.duckdb, so it must hold nothing a reader may not see (dropping a table only marks
   its blocks free; their bytes stay in the file) and little besides what is published. Elsewhere (Spark) every
   model is in the target's own catalog, as dbt's default has it. #}
{% macro generate_database_name(custom_database_name=none, node=none) -%}
    {%- if custom_database_name is not none -%}
        {{ custom_database_name | trim }}
    {%- elif target.type == 'duckdb' and node is not none and node.resource_type == 'model'
        and node.fqn[1] in ('staging', 'intermediate') -%}
        work
    {%- else -%}
        {{ target.database }}
    {%- endif -%}
{%- endmacro %}
