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
