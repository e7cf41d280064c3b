-- mart_line_item_variance ties back to the facts per month, to the cent: actual (posted and
-- accrued) to fct_actual_costs, budget and original budget to the current and original versions
-- in fct_budget_lines up to the as-of month (SPEC §9).
with facts as (
    select
        period,
        sum(case when status = 'posted' then amount_base else 0 end) as posted_actual,
        sum(case when status = 'accrued' then amount_base else 0 end) as accrued_actual,
        0 as budget,
        0 as original_budget
    from {{ ref('fct_actual_costs') }}
    group by period
    union all
    select
        period,
        0, 0,
        sum(case when is_current then amount_base else 0 end),
        sum(case when is_original then amount_base else 0 end)
    from {{ ref('fct_budget_lines') }}
    where period <= {{ as_of_period() }}
    group by period
),
expected as (
    select period, sum(posted_actual) as posted_actual, sum(accrued_actual) as accrued_actual,
        sum(budget) as budget, sum(original_budget) as original_budget
    from facts
    group by period
),
mart as (
    select period, sum(posted_actual) as posted_actual, sum(accrued_actual) as accrued_actual,
        sum(budget) as budget, sum(original_budget) as original_budget
    from {{ ref('mart_line_item_variance') }}
    group by period
)
select
    coalesce(e.period, m.period) as period,
    e.posted_actual as fact_posted_actual, m.posted_actual as mart_posted_actual,
    e.accrued_actual as fact_accrued_actual, m.accrued_actual as mart_accrued_actual,
    e.budget as fact_budget, m.budget as mart_budget,
    e.original_budget as fact_original_budget, m.original_budget as mart_original_budget
from expected as e
full outer join mart as m on e.period = m.period
where abs(coalesce(e.posted_actual, 0) - coalesce(m.posted_actual, 0)) >= 0.01
    or abs(coalesce(e.accrued_actual, 0) - coalesce(m.accrued_actual, 0)) >= 0.01
    or abs(coalesce(e.budget, 0) - coalesce(m.budget, 0)) >= 0.01
    or abs(coalesce(e.original_budget, 0) - coalesce(m.original_budget, 0)) >= 0.01
