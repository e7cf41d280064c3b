{# Money arithmetic. Amounts land as DECIMAL(18,4), rates as DECIMAL(18,8); products are widened
   before multiplying so that no engine overflows, and base-currency amounts are whole cents. #}

{% macro to_base_currency(amount, rate) -%}
    cast(round(cast({{ amount }} as decimal(38, 10)) * cast({{ rate }} as decimal(38, 10)), 2) as decimal(18, 2))
{%- endmacro %}

{# a / b, or null when b is zero or null #}
{% macro safe_divide(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as double) / cast({{ denominator }} as double) end
{%- endmacro %}

{# The join condition that picks a currency's rate for a month from int_fx_rates (alias `fx`): the month's own
   rate, else the latest earlier one (SPEC §4). #}
{% macro rate_for_month(fx, currency, period) -%}
    {{ currency }} = {{ fx }}.currency and {{ period }} >= {{ fx }}.valid_from
    and ({{ fx }}.valid_to is null or {{ period }} < {{ fx }}.valid_to)
{%- endmacro %}

{# A number rounded to `digits` (1 or more) decimals, as text the way DuckDB writes it: a decimal with its scale
   (1234.50), a double at its shortest (17442264.42, 42264.0). #}
{% macro rounded_text(expr, digits) -%}
    {{ return(adapter.dispatch('rounded_text')(expr, digits)) }}
{%- endmacro %}

{% macro default__rounded_text(expr, digits) -%}
    cast(round({{ expr }}, {{ digits }}) as string)
{%- endmacro %}

{% macro spark__rounded_text(expr, digits) -%}
    {#- Spark writes a double from 1e7 up in scientific notation (1.744226442E7): written through a decimal
        instead, without the trailing zeros but one -#}
    case when typeof({{ expr }}) in ('double', 'float')
         then regexp_replace(regexp_replace(
                  cast(cast(round({{ expr }}, {{ digits }}) as decimal(38, {{ digits }})) as string), '0+$', ''),
              '[.]$', '.0')
         else cast(round({{ expr }}, {{ digits }}) as string) end
{%- endmacro %}

{# An amount as people read it: thousands separators and two decimals (18,500.00; -1,234.56), rounded half away
   from zero to the cent first, so that every engine writes the same text. #}
{% macro amount_text(expr) -%}
    {{ return(adapter.dispatch('amount_text')(expr)) }}
{%- endmacro %}

{% macro default__amount_text(expr) -%}
    format('{:,.2f}', round({{ expr }}, 2))
{%- endmacro %}

{% macro spark__amount_text(expr) -%}
    format_number(round({{ expr }}, 2), 2)
{%- endmacro %}
