{# The variance columns of SPEC §6, one definition for every level.
   budget, actual: base-currency amounts; account_type: 'expense' or 'revenue' (an expression);
   level: a row of materiality_thresholds, joined by the caller as alias `thr_<prefix>`. #}

{% macro variance_columns(budget, actual, account_type, thresholds, prefix='') -%}
    {{ actual }} - {{ budget }} as {{ prefix }}variance,
    -- SPEC §6: variance / abs(budget) * 100, null when budget is 0
    {{ safe_divide('(' ~ actual ~ ' - ' ~ budget ~ ') * 100', 'abs(' ~ budget ~ ')') }} as {{ prefix }}variance_pct,
    -- positive means favourable: budget - actual for expense, actual - budget for revenue
    case when {{ account_type }} = 'revenue' then {{ actual }} - {{ budget }}
         else {{ budget }} - {{ actual }} end as {{ prefix }}favorable_variance,
    case when {{ actual }} = {{ budget }} then 'on_target'
         when ({{ account_type }} = 'revenue') = ({{ actual }} > {{ budget }}) then 'F'
         else 'U' end as {{ prefix }}direction,
    {{ safe_divide(actual ~ ' * 100', budget) }} as {{ prefix }}utilization_pct,
    -- SPEC §6 materiality: |variance_pct| > pct OR |variance| > amount, at this level
    {{ is_material(budget, actual, thresholds) }} as {{ prefix }}is_material,
    {{ is_material(budget, actual, thresholds) }}
        and not (case when {{ account_type }} = 'revenue' then {{ actual }} >= {{ budget }}
                      else {{ actual }} <= {{ budget }} end) as {{ prefix }}needs_attention
{%- endmacro %}

{% macro is_material(budget, actual, thresholds) -%}
    (coalesce(abs({{ safe_divide('(' ~ actual ~ ' - ' ~ budget ~ ') * 100', 'abs(' ~ budget ~ ')') }}) > {{ thresholds }}.pct_threshold, false)
     or abs({{ actual }} - {{ budget }}) > {{ thresholds }}.amount_threshold)
{%- endmacro %}

{# a material variance's metric and threshold: the percentage when it crosses the percentage threshold, else
    the amount (a line with no budget has no percentage) against the amount threshold -#}
{% macro material_metric(pct, amount, mt, prefix='') -%}
    case when coalesce(abs({{ pct }}) > {{ mt }}.pct_threshold, false) then '{{ prefix }}variance_pct'
        else '{{ prefix }}variance' end as metric_name,
    cast(case when coalesce(abs({{ pct }}) > {{ mt }}.pct_threshold, false) then {{ pct }} else {{ amount }} end
        as double) as metric_value,
    cast(case when coalesce(abs({{ pct }}) > {{ mt }}.pct_threshold, false) then {{ mt }}.pct_threshold
        else {{ mt }}.amount_threshold end as double) as threshold_value
{%- endmacro %}

{# YTD sums within the fiscal year, over a monthly series partitioned by `partition_by` #}
{% macro ytd_sum(amount, partition_by) -%}
    sum({{ amount }}) over (
        partition by {{ partition_by }}{% if partition_by %}, {% endif %}{{ fiscal_year_start('period') }}
        order by period rows between unbounded preceding and current row
    )
{%- endmacro %}
