{# dbt's `lake` sources (models/staging/_sources.yml) as relations of the engine that builds (SPEC §5).
   DuckDB: the pipeline creates them as views in the build database (orchestration/lib/lake.py), nothing to do.
   Spark: one persistent view per source over its loads' Parquet files in var lake_dir, made at the start of
   every run (on-run-start); a source with no load yet is an empty relation of the contract's columns. #}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake_dir = var('lake_dir') -%}
        {%- set loaded = var('lake_sources_loaded', []) -%}
        {%- do run_query('create schema if not exists lake') -%}
        {%- for source in graph.sources.values() if source.source_name == 'lake' -%}
            {%- if source.name == 'load_ledger' -%}
                {#- the load manifests (JSON) as one Parquet file the pipeline writes beside the catalog -#}
                {%- set relation = "select * from parquet.`" ~ var('load_ledger_file') ~ "`" -%}
            {%- else -%}
                {%- set columns = [] -%}
                {%- for column in source.columns.values() if column.data_type -%}
                    {%- do columns.append((column.name, lake_column_type(column.data_type))) -%}
                {%- endfor -%}
                {%- do columns.extend([('_load_id', dbt.type_string()), ('_row_number', 'bigint')]) -%}
                {%- set files = lake_dir ~ '/' ~ source.name ~ '/load_id=*/data.parquet' -%}
                {%- set relation -%}
                    select
                    {%- for name, type in columns %}
                        cast({{ name if source.name in loaded else 'null' }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
                    {%- endfor %}
                    {% if source.name in loaded -%} from parquet.`{{ files }}` {%- else -%} where false {%- endif %}
                {%- endset -%}
            {%- endif -%}
            {%- do run_query('create or replace view lake.' ~ source.name ~ ' as ' ~ relation) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# a contract type (DuckDB's names, orchestration/lib/contract.py) as this engine names it #}
{% macro lake_column_type(contract_type) -%}
    {{- dbt.type_string() if contract_type | lower == 'varchar' else contract_type -}}
{%- endmacro %}
