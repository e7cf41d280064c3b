{# Date helpers. Portable through dbt's cross-database macros; engine-specific parts are dispatched. #}

{# 'YYYY-MM' text → DATE of the month's first day (SPEC §6: period is a DATE) #}
{% macro period_to_date(period_text) -%}
    cast({{ period_text }} || '-01' as date)
{%- endmacro %}

{# first day of the month of a date #}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{# first day of the fiscal year a month belongs to; fiscal years start on var fiscal_year_start_month #}
{# each `partition_by` key's latest row of the as-of's fiscal year up to the as-of month, from a monthly relation with
   `period` and `fiscal_year_start`: a key quiet in the as-of month holds there what it holds at the as-of #}
{% macro latest_of_fiscal_year(relation, partition_by) -%}
    select * from (
        select
            r.*,
            row_number() over (partition by {{ partition_by }} order by r.period desc) as latest_of_year
        from {{ relation }} as r
        where r.period <= {{ as_of_period() }} and r.fiscal_year_start = {{ fiscal_year_start(as_of_period()) }}
    ) as ranked
    where latest_of_year = 1
{%- endmacro %}

{% macro fiscal_year_start(period) -%}
    {%- set start_month = var('fiscal_year_start_month') | int -%}
    cast({{ dbt.dateadd('month', '-1 * ((extract(month from ' ~ period ~ ') - ' ~ start_month ~ ' + 12) % 12)', period) }} as date)
{%- endmacro %}

{# days in the month that starts on `period` #}
{% macro days_in_month(period) -%}
    {{ dbt.datediff(period, dbt.dateadd('month', 1, period), 'day') }}
{%- endmacro %}

{% macro as_of_period() -%}
    {{ month_start(as_of_date()) }}
{%- endmacro %}

{# one row per month from start_period to end_period inclusive, column `period` #}
{% macro month_spine(start_period, end_period) -%}
    {{ return(adapter.dispatch('month_spine')(start_period, end_period)) }}
{%- endmacro %}

{% macro duckdb__month_spine(start_period, end_period) -%}
    select cast(generate_series as date) as period
    from generate_series(cast({{ start_period }} as timestamp), cast({{ end_period }} as timestamp), interval 1 month)
{%- endmacro %}

{% macro default__month_spine(start_period, end_period) -%}
    {# up to 1,200 months from ten × ten × twelve numbers; no engine-specific series function #}
    with digits as (
        select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
        union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
    ),
    offsets as (
        select a.d + 10 * b.d + 100 * c.d as n from digits a cross join digits b cross join digits c
    )
    select cast({{ dbt.dateadd('month', 'n', start_period) }} as date) as period
    from offsets
    where {{ dbt.dateadd('month', 'n', start_period) }} <= {{ end_period }}
{%- endmacro %}

{# the end of the as-of date (midnight after it): open status intervals end here #}
{% macro as_of_end() -%}
    cast({{ dbt.dateadd('day', 1, as_of_date()) }} as timestamp)
{%- endmacro %}

{# days (with fractions, to the minute) from one timestamp to a later one #}
{% macro days_between(start_ts, end_ts) -%}
    (cast({{ dbt.datediff(start_ts, end_ts, 'minute') }} as double) / 1440)
{%- endmacro %}

{# Monday of the week a date falls in (ISO weeks) #}
{% macro week_start(date_expr) -%}
    {{ return(adapter.dispatch('week_start')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__week_start(date_expr) -%}
    cast(date_trunc('week', cast({{ date_expr }} as date)) as date)
{%- endmacro %}

{% macro default__week_start(date_expr) -%}
    {# 1970-01-05 was a Monday: step back by the days since the last Monday #}
    cast({{ dbt.dateadd('day', '-1 * (' ~ dbt.datediff("cast('1970-01-05' as date)", date_expr, 'day') ~ ' % 7)', date_expr) }} as date)
{%- endmacro %}

{# one row per week (its Monday) from the week of start_date to the week of end_date inclusive, column `week_start` #}
{% macro week_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('week_spine')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__week_spine(start_date, end_date) -%}
    select cast(generate_series as date) as week_start
    from generate_series(
        cast({{ week_start(start_date) }} as timestamp), cast({{ week_start(end_date) }} as timestamp), interval 7 day
    )
{%- endmacro %}

{% macro default__week_spine(start_date, end_date) -%}
    {# up to 1,000 weeks from ten × ten × ten numbers #}
    with digits as (
        select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
        union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
    ),
    offsets as (
        select a.d + 10 * b.d + 100 * c.d as n from digits a cross join digits b cross join digits c
    )
    select cast({{ dbt.dateadd('day', '7 * n', week_start(start_date)) }} as date) as week_start
    from offsets
    where {{ dbt.dateadd('day', '7 * n', week_start(start_date)) }} <= {{ week_start(end_date) }}
{%- endmacro %}

{# Spark: series and weeks from its own functions (the portable spines plan as large cross joins there) #}
{% macro spark__month_spine(start_period, end_period) -%}
    select explode(sequence(cast({{ start_period }} as date), cast({{ end_period }} as date), interval 1 month)) as period
{%- endmacro %}

{% macro spark__week_start(date_expr) -%}
    trunc(cast({{ date_expr }} as date), 'week')
{%- endmacro %}

{% macro spark__week_spine(start_date, end_date) -%}
    select explode(sequence({{ week_start(start_date) }}, {{ week_start(end_date) }}, interval 7 day)) as week_start
{%- endmacro %}
