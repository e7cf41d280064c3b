-- One row per project, to date at as-of (SPEC §6). Budget, actual and variance are cost (expense
-- accounts); revenue is beside them. The full cost report (commitments, EFC) builds on this.
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
        -- contract value in base currency at the as-of month's rate
        {{ to_base_currency('p.contract_value', 'fx.rate_to_base') }} as contract_value,
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
        t.project_code is not null as has_activity
    from projects as p
    left join to_date as t on p.project_code = t.project_code
    left join whole_budget as w on p.project_code = w.project_code
    left join {{ ref('int_fx_rates') }} as fx
        on p.currency = fx.currency and {{ as_of_period() }} >= fx.valid_from
        and (fx.valid_to is null or {{ as_of_period() }} < fx.valid_to)
)
select
    m.*,
    {{ variance_columns('m.budget', 'm.actual', "'expense'", 'thr') }},
    -- share of the schedule elapsed and of the whole current budget spent
    {{ safe_divide('m.days_elapsed * 100', 'm.project_days') }} as schedule_elapsed_pct,
    {{ safe_divide('m.actual * 100', 'm.total_budget') }} as burn_pct,
    m.revenue_actual - m.actual as margin_to_date,
    {{ safe_divide('(m.revenue_actual - m.actual) * 100', 'm.revenue_actual') }} as margin_to_date_pct
from measured as m
cross join (select * from {{ ref('materiality_thresholds') }} where level = 'project') as thr
