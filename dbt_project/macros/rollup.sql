{# A monthly roll-up of line items by `keys` over every month up to as-of (dense: a month with no
   activity is a row of zeros, so that YTD is there for every month), with SPEC §6 variance
   columns monthly and fiscal YTD.
   keys: grouping columns of int_line_item_monthly; dimensions: SQL giving one row per key
   combination (plus descriptive columns); level: the materiality_thresholds row;
   split_revenue: true → budget/actual are cost (expense accounts) and revenue stands beside
   them; false → all accounts, direction by the dimension's own account_type column. #}
{% macro monthly_rollup(keys, dimensions, level, split_revenue) -%}
{%- set measures = ['original_budget', 'budget', 'posted_actual', 'accrued_actual', 'actual', 'committed'] -%}
{%- set account_type = "'expense'" if split_revenue else 'monthly.account_type' -%}
with months as (
    select m.period
    from {{ ref('int_months') }} as m
    where m.period >= (select min(period) from {{ ref('int_line_item_monthly') }})
        and m.period <= {{ as_of_period() }}
),
dims as (
    {{ dimensions }}
),
grid as (
    select dims.*, months.period from dims cross join months
),
amounts as (
    select
        {% for key in keys %}{{ key }}, {% endfor %}period,
        {%- for measure in measures %}
        sum({% if split_revenue %}case when account_type = 'expense' then {{ measure }} else 0 end{% else %}{{ measure }}{% endif %}) as {{ measure }},
        {%- endfor %}
        sum(case when account_type = 'revenue' then budget else 0 end) as revenue_budget,
        sum(case when account_type = 'revenue' then actual else 0 end) as revenue_actual
    from {{ ref('int_line_item_monthly') }}
    group by {% for key in keys %}{{ key }}, {% endfor %}period
),
monthly as (
    select
        grid.*,
        {%- for measure in measures + ['revenue_budget', 'revenue_actual'] %}
        coalesce(amounts.{{ measure }}, 0) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from grid
    left join amounts
        on grid.period = amounts.period
        {%- for key in keys %} and grid.{{ key }} = amounts.{{ key }}{% endfor %}
),
ytd as (
    select
        monthly.*,
        {{ fiscal_year_start('monthly.period') }} as fiscal_year_start,
        {{ ytd_sum('monthly.original_budget', keys | join(', ')) }} as ytd_original_budget,
        {{ ytd_sum('monthly.budget', keys | join(', ')) }} as ytd_budget,
        {{ ytd_sum('monthly.actual', keys | join(', ')) }} as ytd_actual,
        {{ ytd_sum('monthly.revenue_budget', keys | join(', ')) }} as ytd_revenue_budget,
        {{ ytd_sum('monthly.revenue_actual', keys | join(', ')) }} as ytd_revenue_actual
    from monthly
)
select
    ytd.*,
    {{ variance_columns('ytd.budget', 'ytd.actual', account_type | replace('monthly.', 'ytd.'), 'thr') }},
    {{ variance_columns('ytd.ytd_budget', 'ytd.ytd_actual', account_type | replace('monthly.', 'ytd.'), 'thr', prefix='ytd_') }}
from ytd
cross join (select * from {{ ref('materiality_thresholds') }} where level = '{{ level }}') as thr
{%- endmacro %}
