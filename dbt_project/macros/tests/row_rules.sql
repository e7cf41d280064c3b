{# A model's row-level rules in one test, instead of one test per rule: a refresh runs one node per model, not
   hundreds (each dbt node costs its own compilation, events and round trip). The rows are read once: every rule
   is a count over the same scan.

   A failing rule is one row of the result: `rule` (what it asks, e.g. `not null: amount`, `accepted values:
   status in (active, closed)`, `range: amount >= 0`, `expression: actual = posted + accrued`) and
   `failing_rows`, how many rows break it. The test fails when any rule does, and its failures (dbt's "Got N
   results", Dagster's failed row count) are the rows its broken rules count, a row once per rule it breaks.

   - `not_null`: columns that are never null.
   - `unique`: keys no two rows share: a column (its nulls aside), or a list of columns (the model's grain; nulls
     compare equal, as in a GROUP BY). The rows beyond each key's first break it. Read over the whole model: not
     with `new_rows` (an incremental model's key is tested by unique_combination_of_columns, on its new rows).
   - `accepted_values`: {column: [values]}; nulls pass (pair with not_null). Values are quoted as strings, or
     {column: {values: [...], quote: false}} for numbers.
   - `ranges`: {column: {min_value, max_value, inclusive}} (either bound may be omitted; inclusive unless
     `inclusive: false`, which makes both strict); nulls pass.
   - `expressions`: conditions every row meets; a row where one is false or null breaks it.
   - `relationships`: {column: {to: ref('parent'), field: parent_column}}: a row whose value is not among the
     parent's breaks it, the two compared as text; nulls pass (as dbt's `relationships`). Read over the whole
     model, as `unique`: a parent's new load can orphan rows that passed before.
   - `new_rows` (an incremental model's test): only the rows the build may have added are read, when it appends
     to a build that passed its tests (macro rows_to_test). #}
{% test row_rules(model, not_null=[], unique=[], accepted_values={}, ranges={}, expressions=[], relationships={}, new_rows=none) %}
{{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
{%- if (unique or relationships) and new_rows is not none -%}
    {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": `unique` and `relationships` read the whole model, not `new_rows`") }}
{%- endif -%}
{%- set rules = [] -%}
{%- for column in not_null -%}
    {%- do rules.append(["not null: " ~ column, "count(case when " ~ column ~ " is null then 1 end)"]) -%}
{%- endfor -%}
{%- for key in unique -%}
    {%- if key is string -%}
        {%- do rules.append(["unique: " ~ key, "count(" ~ key ~ ") - count(distinct " ~ key ~ ")"]) -%}
    {%- else -%}
        {%- do rules.append(["unique: (" ~ (key | join(', ')) ~ ")", "count(*) - count(distinct " ~ row_key(key) ~ ")"]) -%}
    {%- endif -%}
{%- endfor -%}
{%- for column, accepted in accepted_values.items() -%}
    {%- if accepted is string or (accepted is mapping and accepted.get('values') is string) -%}
        {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": the accepted values of " ~ column ~ " are a list, not '" ~ accepted ~ "'") }}
    {%- endif -%}
    {%- set values = accepted if accepted is not mapping else accepted['values'] -%}
    {%- set quote = true if accepted is not mapping else accepted.get('quote', true) -%}
    {%- set listed = [] -%}
    {%- for value in values -%}
        {%- do listed.append(text_literal(value | string) if quote else (value | string)) -%}
    {%- endfor -%}
    {%- do rules.append([
        "accepted values: " ~ column ~ " in (" ~ (values | join(', ')) ~ ")",
        "count(case when " ~ column ~ " is not null and " ~ column ~ " not in (" ~ (listed | join(', ')) ~ ") then 1 end)"
    ]) -%}
{%- endfor -%}
{%- for column, bounds in ranges.items() -%}
    {%- set inclusive = bounds.get('inclusive', true) -%}
    {%- set said = [] -%}
    {%- set broken = [] -%}
    {%- if bounds.get('min_value') is not none -%}
        {%- do said.append(column ~ (" >= " if inclusive else " > ") ~ bounds['min_value']) -%}
        {%- do broken.append(column ~ (" < " if inclusive else " <= ") ~ bounds['min_value']) -%}
    {%- endif -%}
    {%- if bounds.get('max_value') is not none -%}
        {%- do said.append(column ~ (" <= " if inclusive else " < ") ~ bounds['max_value']) -%}
        {%- do broken.append(column ~ (" > " if inclusive else " >= ") ~ bounds['max_value']) -%}
    {%- endif -%}
    {%- do rules.append([
        "range: " ~ (said | join(' and ')),
        "count(case when " ~ column ~ " is not null and (" ~ (broken | join(' or ')) ~ ") then 1 end)"
    ]) -%}
{%- endfor -%}
{%- for expression in expressions -%}
    {%- do rules.append(["expression: " ~ expression, "count(case when not coalesce((" ~ expression ~ "), false) then 1 end)"]) -%}
{%- endfor -%}
{#- a reference: the parent's distinct keys as text, joined to the row's value as text, so that a row meets one
    key at most (a parent's repeated keys, or two keys one value casts to, would repeat it) and the other rules
    count the same rows -#}
{%- set parents = [] -%}
{%- set text = dbt.type_string() -%}
{%- for column, reference in relationships.items() -%}
    {%- set key = "row_rules_parent_key_" ~ loop.index -%}
    {%- set parent = "parent_" ~ loop.index -%}
    {%- do parents.append(
        "left join (select distinct cast(" ~ reference['field'] ~ " as " ~ text ~ ") as " ~ key ~ " from "
        ~ reference['to'] ~ ") as " ~ parent ~ " on cast(tested." ~ column ~ " as " ~ text ~ ") = " ~ parent ~ "." ~ key
    ) -%}
    {%- do rules.append([
        "relationship: " ~ column ~ " in " ~ reference['to'].identifier ~ "." ~ reference['field'],
        "count(case when tested." ~ column ~ " is not null and " ~ key ~ " is null then 1 end)"
    ]) -%}
{%- endfor -%}
{%- if not rules -%}
    {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": no rules") }}
{%- endif %}
with tested as (
    select * from {{ rows_to_test(model, new_rows) or model }} as rows_tested
),
counted as (
    select
    {%- for rule in rules %}
        {{ rule[1] }} as rule_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from tested
    {%- for parent in parents %}
    {{ parent }}
    {%- endfor %}
)
{% for rule in rules -%}
select {{ text_literal(rule[0]) }} as rule, rule_{{ loop.index }} as failing_rows
from counted
where rule_{{ loop.index }} > 0
{% if not loop.last %}union all
{% endif %}
{%- endfor %}
{% endtest %}

{# A string literal of `text`, quotes and all, that reads back as `text`: DuckDB doubles a quote; Spark's literals
   also read a backslash as an escape, so it is doubled there too. #}
{% macro text_literal(text) -%}
    {{ return(adapter.dispatch('text_literal')(text)) }}
{%- endmacro %}

{% macro default__text_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__text_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{# A row's values of `columns` as one value that DISTINCT compares (nulls equal): DuckDB's row(), Spark's struct(). #}
{% macro row_key(columns) -%}
    {{ return(adapter.dispatch('row_key')(columns)) }}
{%- endmacro %}

{% macro default__row_key(columns) -%}
    row({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_key(columns) -%}
    struct({{ columns | join(', ') }})
{%- endmacro %}
