-- Why a labour line is over (SPEC §6): per project × account × month, the current budget's hours and rate
-- against the hours and cost the timesheets logged, with the variance split into parts that add up to it
-- exactly: rate (price) variance + hours (volume) variance + overtime premium + fringe = labour actual - budget.
-- Budget hours are those of budget lines in hours (unit `hour`: amount / rate, phased as the amount is).
with budget_lines as (
    select
        ph.project_code, ph.account_code, ph.period, ph.currency,
        ph.amount,
        case when b.unit = 'hour' and b.rate > 0 then cast(ph.amount / b.rate as decimal(18, 4)) end as hours
    from {{ ref('int_budget_lines_phased') }} as ph
    inner join {{ ref('int_budget_versions') }} as v
        on ph.project_code = v.project_code and ph.budget_version = v.budget_version and v.is_current
    left join {{ ref('stg_budgets') }} as b
        on ph.load_id = b.load_id and ph.source_row_number = b.source_row_number
    where ph.period <= {{ as_of_period() }}
),
budget as (
    select
        bl.project_code, bl.account_code, bl.period,
        sum({{ to_base_currency('bl.amount', 'fx.rate_to_base') }}) as budget,
        sum(bl.hours) as budget_hours,
        -- the budget's own currency when it has one
        case when count(distinct bl.currency) = 1 then max(bl.currency) end as budget_currency,
        sum(bl.amount) as budget_own
    from budget_lines as bl
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'bl.currency', 'bl.period') }}
    group by bl.project_code, bl.account_code, bl.period
),
labour_by_currency as (
    select
        project_code, account_code, period, currency,
        sum(hours) as hours,
        sum(overtime_hours) as overtime_hours,
        sum(case when worker_type = 'freelance' then hours else 0 end) as freelance_hours,
        sum(straight_cost) as straight_cost,
        sum(overtime_premium) as overtime_premium,
        sum(labour_cost) as labour_cost,
        sum(case when worker_type = 'freelance' then labour_cost else 0 end) as freelance_cost
    from {{ ref('int_labour_costs') }}
    group by project_code, account_code, period, currency
),
labour as (
    -- base currency at the month's rate; the fringe takes what the rounding of the other two parts leaves
    select
        l.project_code, l.account_code, l.period,
        sum(l.hours) as actual_hours,
        sum(l.overtime_hours) as overtime_hours,
        sum(l.freelance_hours) as freelance_hours,
        sum({{ to_base_currency('l.straight_cost', 'fx.rate_to_base') }}) as straight_time_cost,
        sum({{ to_base_currency('l.overtime_premium', 'fx.rate_to_base') }}) as overtime_premium,
        sum({{ to_base_currency('l.labour_cost', 'fx.rate_to_base') }}) as labour_actual,
        sum({{ to_base_currency('l.freelance_cost', 'fx.rate_to_base') }}) as freelance_cost,
        case when count(distinct l.currency) = 1 then max(l.currency) end as actual_currency,
        sum(l.labour_cost) as labour_actual_own
    from labour_by_currency as l
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'l.currency', 'l.period') }}
    group by l.project_code, l.account_code, l.period
),
plan_rates as (
    -- the rate finance planned with: the current version's approval month (else the month itself)
    select v.project_code, v.approved_at
    from {{ ref('int_budget_versions') }} as v
    where v.is_current
),
joined as (
    select
        coalesce(b.project_code, l.project_code) as project_code,
        coalesce(b.account_code, l.account_code) as account_code,
        coalesce(b.period, l.period) as period,
        coalesce(b.budget, 0) as budget,
        b.budget_hours,
        {{ safe_divide('b.budget', 'b.budget_hours') }} as budget_rate,
        coalesce(l.actual_hours, 0) as actual_hours,
        coalesce(l.overtime_hours, 0) as overtime_hours,
        coalesce(l.straight_time_cost, 0) as straight_time_cost,
        coalesce(l.overtime_premium, 0) as overtime_premium,
        coalesce(l.labour_actual, 0) as labour_actual,
        coalesce(l.freelance_hours, 0) as freelance_hours,
        coalesce(l.freelance_cost, 0) as freelance_cost,
        b.budget_currency,
        b.budget_own,
        l.actual_currency,
        l.labour_actual_own,
        pr.approved_at
    from budget as b
    full outer join labour as l
        on b.project_code = l.project_code and b.account_code = l.account_code and b.period = l.period
    left join plan_rates as pr on coalesce(b.project_code, l.project_code) = pr.project_code
),
split as (
    select
        j.*,
        -- SPEC §6 hours (volume) variance = (actual hours - budget hours) × budget rate
        case when j.budget_hours > 0
            then cast(round(cast((j.actual_hours - j.budget_hours) * j.budget / j.budget_hours as decimal(38, 10)), 2)
                      as decimal(18, 2)) end as hours_variance,
        plan_fx.rate_to_base as plan_fx_rate,
        period_fx.rate_to_base as period_fx_rate
    from joined as j
    left join {{ ref('int_fx_rates') }} as plan_fx
        on {{ rate_for_month('plan_fx', 'j.budget_currency', month_start('coalesce(j.approved_at, j.period)')) }}
    left join {{ ref('int_fx_rates') }} as period_fx
        on {{ rate_for_month('period_fx', 'j.budget_currency', 'j.period') }}
),
decomposed as (
    select
        split.*,
        labour_actual - straight_time_cost - overtime_premium as fringe_cost,
        labour_actual - budget as labour_variance,
        -- SPEC §6 rate (price) variance = (actual rate - budget rate) × actual hours = straight time - budget - hours
        case when hours_variance is not null then straight_time_cost - budget - hours_variance end as rate_variance
    from split
)
select
    d.project_code,
    p.department_code,
    d.account_code,
    a.category,
    d.period,
    d.budget,
    d.budget_hours,
    d.budget_rate,
    d.actual_hours,
    d.overtime_hours,
    {{ safe_divide('d.straight_time_cost', 'd.actual_hours') }} as actual_rate,
    {{ safe_divide('d.labour_actual', 'd.actual_hours') }} as effective_rate,
    d.straight_time_cost,
    d.overtime_premium,
    d.fringe_cost,
    d.labour_actual,
    d.labour_variance,
    d.rate_variance,
    d.hours_variance,
    d.freelance_hours,
    d.freelance_cost,
    {{ safe_divide('d.freelance_hours * 100', 'd.actual_hours') }} as freelance_share_pct,
    d.budget_currency,
    d.plan_fx_rate,
    d.period_fx_rate,
    -- for a line in another currency: the variance at the rate finance planned with, and what the rate moved
    case when d.budget_currency is not null and (d.actual_currency is null or d.actual_currency = d.budget_currency)
        then {{ to_base_currency('coalesce(d.labour_actual_own, 0) - d.budget_own', 'd.plan_fx_rate') }} end
        as constant_currency_variance,
    case when d.budget_currency is not null and (d.actual_currency is null or d.actual_currency = d.budget_currency)
        then d.labour_variance
            - {{ to_base_currency('coalesce(d.labour_actual_own, 0) - d.budget_own', 'd.plan_fx_rate') }} end
        as fx_variance
from decomposed as d
left join {{ ref('stg_projects') }} as p on d.project_code = p.project_code
left join {{ ref('stg_accounts') }} as a on d.account_code = a.account_code
where a.category = 'crew' or d.actual_hours > 0 or d.budget_hours > 0
