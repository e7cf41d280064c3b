{# A table model on DuckDB, replaced in one transaction: the old table dropped and the new one created, then one
   commit. A reader of the build database sees the old table or the new one, never neither, and a build that fails
   rolls back to the old table, as with dbt-duckdb's own `table` materialization, whose swap (create a temporary
   relation, look up indexes and foreign keys, rename the old table away and the new one in, commit, drop the old)
   takes seven statements a table; this takes three (begin, build, commit), and two more where a contract is
   enforced (dbt's column check). A day's refresh builds about forty tables, each statement a round trip through
   dbt's macros and events (README "Refreshes that cost what the new data costs").

   It covers what the project's tables use: SQL models, contracts, no indexes, foreign keys, grants, persisted
   docs, partitioning or sorting; a model that sets one of those fails when it runs, naming it, before its table
   is touched, rather than being built without it. (A foreign key of another table pointing at this one makes
   DuckDB refuse the drop: the build fails and the old table stays; the project declares none.) Spark builds
   with its adapter's own `table`.
   tests/test_table_materialization.py checks each of these on a project of its own. #}
{% materialization table, adapter="duckdb", supported_languages=["sql"] %}
  {%- set unsupported = [] -%}
  {%- for setting in ["indexes", "grants", "partitioned_by", "partition_by", "sorted_by", "sort_by"] -%}
    {%- if config.get(setting) -%}{%- do unsupported.append(setting) -%}{%- endif -%}
  {%- endfor -%}
  {%- set persist_docs = config.get("persist_docs") or {} -%}
  {%- if persist_docs.get("relation") or persist_docs.get("columns") -%}
    {%- do unsupported.append("persist_docs") -%}
  {%- endif -%}
  {%- for constraint in model.get("constraints", []) if constraint.get("type") == "foreign_key" -%}
    {%- do unsupported.append("a foreign key") -%}
  {%- endfor -%}
  {%- for column in model.get("columns", {}).values() -%}
    {%- for constraint in column.get("constraints", []) if constraint.get("type") == "foreign_key" -%}
      {%- do unsupported.append("a foreign key on " ~ column.name) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if unsupported -%}
    {{ exceptions.raise_compiler_error(
        "the project's table materialization (macros/materializations/table.sql) does not apply "
        ~ (unsupported | join(", ")) ~ " of " ~ model.unique_id) }}
  {%- endif -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type="table") -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  -- `BEGIN` happens here, at the first statement: the pre-hooks' inside the transaction, else the build's
  {% call statement("main") -%}
    {%- if existing_relation is not none %}
    drop {{ existing_relation.type }} if exists {{ existing_relation }} cascade;
    {%- endif %}
    {{ create_table_as(False, target_relation, compiled_code) }}
  {%- endcall %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({"relations": [target_relation]}) }}
{% endmaterialization %}
