-- Why a labour line is over (SPEC §6): per project × account × month, the current budget's hours and rate
-- against the hours and cost the timesheets logged, with the variance split into parts that add up to it
-- exactly: rate (price) variance + hours (volume) variance + overtime premium + fringe = labour actual - budget.
-- Budget hours are those of budget lines in hours (unit `hour`: amount / rate, phased as the amount is).
with budget_lines as (
    select
        ph.project_code, ph.account_code, ph.period, ph.currency,
        ph.amount,
        -- unrounded (a double on every engine): 204 hours against 3,232.36 at 62 an hour is 9,415.64 exactly
        case when ph.unit = 'hour' and ph.rate > 0 then cast(ph.amount as double) / cast(ph.rate as double) end as hours
    from {{ ref('int_budget_lines_phased') }} as ph
    inner join {{ ref('int_budget_versions') }} as v
        on ph.project_code = v.project_code and ph.budget_version = v.budget_version and v.is_current
    where ph.period <= {{ as_of_period() }}
),
budget as (
    select
        bl.project_code, bl.account_code, bl.period,
        sum({{ to_base_currency('bl.amount', 'fx.rate_to_base') }}) as budget,
        sum(bl.hours) as budget_hours_exact,
        -- the budget's own currency when it has one
        case when count(distinct bl.currency) = 1 then max(bl.currency) end as budget_currency,
        sum(bl.amount) as budget_own
    from budget_lines as bl
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'bl.currency', 'bl.period') }}
    group by bl.project_code, bl.account_code, bl.period
),
labour_rates as (
    -- each currency-month's rate looked up once
    select m.currency, m.period, fx.rate_to_base
    from (select distinct currency, period from {{ ref('int_labour_costs') }}) as m
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'm.currency', 'm.period') }}
),
labour_entries as (
    -- each entry in base currency at its month's rate, rounded to the cent as the entry is accrued and posted
    -- (fct_actual_costs, mart_project_production): a line's labour is the sum of its entries' cents
    select
        l.project_code, l.account_code, l.period, l.currency, l.worker_type, l.hours, l.overtime_hours,
        l.labour_cost,
        {{ to_base_currency('l.straight_cost', 'r.rate_to_base') }} as straight_base,
        {{ to_base_currency('l.overtime_premium', 'r.rate_to_base') }} as premium_base,
        {{ to_base_currency('l.labour_cost', 'r.rate_to_base') }} as labour_base
    from {{ ref('int_labour_costs') }} as l
    left join labour_rates as r on r.currency = l.currency and r.period = l.period
),
labour as (
    -- the fringe takes what the rounding of the other two parts leaves
    select
        project_code, account_code, period,
        sum(hours) as actual_hours,
        sum(overtime_hours) as overtime_hours,
        sum(case when worker_type = 'freelance' then hours else 0 end) as freelance_hours,
        sum(straight_base) as straight_time_cost,
        sum(premium_base) as overtime_premium,
        sum(labour_base) as labour_actual,
        sum(case when worker_type = 'freelance' then labour_base else 0 end) as freelance_cost,
        count(*) as entries
    from labour_entries
    group by project_code, account_code, period
),
plan_rates as (
    -- the rate finance planned with: the current version's approval month (else the month itself)
    select v.project_code, v.approved_at
    from {{ ref('int_budget_versions') }} as v
    where v.is_current
),
labour_planned as (
    -- the labour of the budget's currency in that currency, and of any other currency at its own planning rate:
    -- dollars logged on a pound budget are dollars, whatever the pound did since (null when such a currency has
    -- no rate in the planning month)
    select
        lc.project_code, lc.account_code, lc.period,
        sum(case when lc.currency = b.budget_currency then lc.labour_own else 0 end) as labour_own_budget_currency,
        case when count(case when lc.currency <> b.budget_currency then 1 end)
                = count(case when lc.currency <> b.budget_currency then fx.rate_to_base end)
            then sum(case when lc.currency <> b.budget_currency
                then {{ to_base_currency('lc.labour_own', 'fx.rate_to_base') }} else 0 end)
        end as labour_other_currencies_at_plan_rates
    from (
        select project_code, account_code, period, currency, sum(labour_cost) as labour_own
        from labour_entries
        group by project_code, account_code, period, currency
    ) as lc
    inner join budget as b
        on lc.project_code = b.project_code and lc.account_code = b.account_code and lc.period = b.period
    left join plan_rates as pr on lc.project_code = pr.project_code
    left join {{ ref('int_fx_rates') }} as fx
        on {{ rate_for_month('fx', 'lc.currency', month_start('coalesce(pr.approved_at, lc.period)')) }}
    group by lc.project_code, lc.account_code, lc.period
),
joined as (
    select
        coalesce(b.project_code, l.project_code) as project_code,
        coalesce(b.account_code, l.account_code) as account_code,
        coalesce(b.period, l.period) as period,
        coalesce(b.budget, 0) as budget,
        cast(b.budget_hours_exact as decimal(38, 4)) as budget_hours,
        b.budget_hours_exact,
        {{ safe_divide('b.budget', 'b.budget_hours_exact') }} as budget_rate,
        coalesce(l.actual_hours, 0) as actual_hours,
        coalesce(l.overtime_hours, 0) as overtime_hours,
        coalesce(l.straight_time_cost, 0) as straight_time_cost,
        coalesce(l.overtime_premium, 0) as overtime_premium,
        coalesce(l.labour_actual, 0) as labour_actual,
        coalesce(l.freelance_hours, 0) as freelance_hours,
        coalesce(l.freelance_cost, 0) as freelance_cost,
        b.budget_currency,
        b.budget_own,
        l.entries as labour_entry_count,
        lp.labour_own_budget_currency,
        lp.labour_other_currencies_at_plan_rates,
        pr.approved_at
    from budget as b
    full outer join labour as l
        on b.project_code = l.project_code and b.account_code = l.account_code and b.period = l.period
    left join labour_planned as lp
        on l.project_code = lp.project_code and l.account_code = lp.account_code and l.period = lp.period
    left join plan_rates as pr on coalesce(b.project_code, l.project_code) = pr.project_code
),
split as (
    select
        j.*,
        -- SPEC §6 hours (volume) variance = (actual hours - budget hours) × budget rate
        case when j.budget_hours_exact > 0
            then cast(round(
                cast(j.actual_hours as double) * cast(j.budget as double) / j.budget_hours_exact
                    - cast(j.budget as double), 2
            ) as decimal(18, 2)) end as hours_variance,
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
        case when hours_variance is not null then straight_time_cost - budget - hours_variance end as rate_variance,
        -- the variance at the rates finance planned with: (labour - budget) in the budget's currency at its
        -- planning rate, plus labour in other currencies at theirs (null for a budget in several currencies, or a
        -- rate missing)
        case when budget_currency is not null
                and (labour_entry_count is null or labour_other_currencies_at_plan_rates is not null)
            then {{ to_base_currency('coalesce(labour_own_budget_currency, 0) - budget_own', 'plan_fx_rate') }}
                + coalesce(labour_other_currencies_at_plan_rates, 0)
        end as variance_at_plan_rates
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
    cast(d.variance_at_plan_rates as decimal(18, 2)) as constant_currency_variance,
    d.labour_variance - d.variance_at_plan_rates as fx_variance,
    -- the line's whole actual (ledger and accruals): day players paid on invoices are here, not in labour_actual
    cast(coalesce(li.actual, 0) as decimal(38, 2)) as line_actual
from decomposed as d
left join {{ ref('mart_line_item_variance') }} as li
    on d.project_code = li.project_code and d.account_code = li.account_code and d.period = li.period
left join {{ ref('stg_projects') }} as p on d.project_code = p.project_code
left join {{ ref('stg_accounts') }} as a on d.account_code = a.account_code
where a.category = 'crew' or d.actual_hours > 0 or d.budget_hours > 0
