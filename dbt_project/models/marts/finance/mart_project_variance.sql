-- One row per project at as-of (SPEC §6): to date (budget phased to as-of, actual, variance; cost of expense
-- accounts, revenue beside it) and the project cost report over its life (final budget, total cost, ETC, EFC,
-- over/under, contract value with approved change orders, planned and projected margin).
with to_date as (
    select
        project_code,
        sum(case when account_type = 'expense' then original_budget else 0 end) as original_budget,
        sum(case when account_type = 'expense' then budget else 0 end) as budget,
        sum(case when account_type = 'expense' then posted_actual else 0 end) as posted_actual,
        sum(case when account_type = 'expense' then accrued_actual else 0 end) as accrued_actual,
        sum(case when account_type = 'expense' then actual else 0 end) as actual,
        sum(case when account_type = 'expense' then committed else 0 end) as committed,
        sum(case when account_type = 'revenue' then budget else 0 end) as revenue_budget,
        sum(case when account_type = 'revenue' then actual else 0 end) as revenue_actual
    from {{ ref('int_line_item_monthly') }}
    group by project_code
),
whole_budget as (
    select
        project_code,
        sum(case when is_current and account_type = 'expense' then amount_base else 0 end) as total_budget,
        sum(case when is_original and account_type = 'expense' then amount_base else 0 end) as total_original_budget,
        sum(case when is_current and account_type = 'revenue' then amount_base else 0 end) as total_revenue_budget
    from {{ ref('fct_budget_lines') }}
    group by project_code
),
lifetime as (
    select
        project_code,
        sum(change_order_budget) as change_order_budget,
        sum(transfers_in) as transfers_in,
        sum(transfers_out) as transfers_out,
        sum(final_budget) as final_budget,
        sum(total_cost) as total_cost,
        sum(etc) as etc,
        sum(efc) as efc,
        sum(over_under) as over_under
    from {{ ref('int_line_item_lifetime') }}
    group by project_code
),
change_order_revenue as (
    -- approved change orders issued up to as-of add to what the client pays, at their month's rate
    select
        c.project_code,
        sum({{ to_base_currency('c.revenue_amount', 'fx.rate_to_base') }}) as change_order_revenue
    from {{ ref('stg_change_orders') }} as c
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'c.currency', month_start('c.issued_date')) }}
    where c.status = 'approved' and c.issued_date <= {{ as_of_date() }}
    group by c.project_code
),
projects as (
    select
        p.*,
        {{ dbt.datediff('p.start_date', 'p.end_date', 'day') }} + 1 as project_days,
        {{ dbt.datediff('p.start_date', as_of_date(), 'day') }} + 1 as days_elapsed
    from {{ ref('stg_projects') }} as p
),
measured as (
    select
        p.project_code, p.project_name, p.department_code, p.client, p.project_type, p.status,
        p.start_date, p.end_date, p.currency, p.project_days,
        case when p.days_elapsed < 0 then 0 when p.days_elapsed > p.project_days then p.project_days
             else p.days_elapsed end as days_elapsed,
        -- contract value in base currency at the as-of month's rate; as of a month before the currency's first
        -- rate (a run as of an early date), at that first rate
        {{ to_base_currency('p.contract_value', 'coalesce(fx.rate_to_base, fx_first.rate_to_base)') }}
            as contract_value,
        coalesce(t.original_budget, 0) as original_budget,
        coalesce(t.budget, 0) as budget,
        coalesce(t.posted_actual, 0) as posted_actual,
        coalesce(t.accrued_actual, 0) as accrued_actual,
        coalesce(t.actual, 0) as actual,
        coalesce(t.committed, 0) as committed,
        coalesce(w.total_original_budget, 0) as total_original_budget,
        coalesce(w.total_budget, 0) as total_budget,
        coalesce(t.revenue_budget, 0) as revenue_budget,
        coalesce(t.revenue_actual, 0) as revenue_actual,
        coalesce(w.total_revenue_budget, 0) as total_revenue_budget,
        t.project_code is not null as has_activity,
        coalesce(l.change_order_budget, 0) as change_order_budget,
        coalesce(l.transfers_in, 0) as transfers_in,
        coalesce(l.transfers_out, 0) as transfers_out,
        coalesce(l.final_budget, 0) as final_budget,
        coalesce(l.total_cost, 0) as total_cost,
        coalesce(l.etc, 0) as etc,
        coalesce(l.efc, 0) as efc,
        coalesce(l.over_under, 0) as over_under,
        coalesce(r.change_order_revenue, 0) as change_order_revenue
    from projects as p
    left join to_date as t on p.project_code = t.project_code
    left join whole_budget as w on p.project_code = w.project_code
    left join lifetime as l on p.project_code = l.project_code
    left join change_order_revenue as r on p.project_code = r.project_code
    left join {{ ref('int_fx_rates') }} as fx
        on {{ rate_for_month('fx', 'p.currency', as_of_period()) }}
    left join (
        select f.currency, f.rate_to_base
        from {{ ref('int_fx_rates') }} as f
        inner join (
            select currency, min(valid_from) as first_from from {{ ref('int_fx_rates') }} group by currency
        ) as first_rate on f.currency = first_rate.currency and f.valid_from = first_rate.first_from
    ) as fx_first on p.currency = fx_first.currency
)
select
    m.*,
    {{ variance_columns('m.budget', 'm.actual', "'expense'", 'thr') }},
    -- share of the schedule elapsed and of the whole current budget spent
    {{ safe_divide('m.days_elapsed * 100', 'm.project_days') }} as schedule_elapsed_pct,
    -- SPEC §6 theoretical budget to date over the project's days
    {{ safe_divide('cast(m.final_budget as double) * m.days_elapsed', 'm.project_days') }} as theoretical_budget_to_date,
    {{ safe_divide('m.actual * 100', 'm.total_budget') }} as burn_pct,
    m.revenue_actual - m.actual as margin_to_date,
    {{ safe_divide('(m.revenue_actual - m.actual) * 100', 'm.revenue_actual') }} as margin_to_date_pct,
    -- SPEC §6 cost report: over/under % of the final budget (negative = over)
    {{ safe_divide('m.over_under * 100', 'm.final_budget') }} as over_under_pct,
    m.contract_value + m.change_order_revenue as contract_value_with_change_orders,
    -- planned margin: what the client pays less the final budget; projected: less the estimated final cost
    m.contract_value + m.change_order_revenue - m.final_budget as planned_margin,
    {{ safe_divide('(m.contract_value + m.change_order_revenue - m.final_budget) * 100',
                   'm.contract_value + m.change_order_revenue') }} as planned_margin_pct,
    m.contract_value + m.change_order_revenue - m.efc as projected_margin,
    {{ safe_divide('(m.contract_value + m.change_order_revenue - m.efc) * 100',
                   'm.contract_value + m.change_order_revenue') }} as projected_margin_pct
from measured as m
cross join (select * from {{ ref('materiality_thresholds') }} where level = 'project') as thr
