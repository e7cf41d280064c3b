-- Budget and actuals side by side per period × project × account up to the as-of month: a full
-- outer join written as a union, so that unbudgeted spend and unspent budget both show.
with budget as (
    select
        project_code, account_code, period,
        sum(case when is_original then amount_base else 0 end) as original_budget,
        sum(case when is_current then amount_base else 0 end) as budget,
        cast(0 as decimal(18, 2)) as posted_actual,
        cast(0 as decimal(18, 2)) as accrued_actual,
        cast(0 as decimal(18, 2)) as committed,
        max(case when is_current then 1 else 0 end) as budget_rows,
        0 as actual_rows
    from {{ ref('fct_budget_lines') }}
    where (is_original or is_current) and period <= {{ as_of_period() }}
    group by project_code, account_code, period
),
actual as (
    select
        project_code, account_code, period,
        cast(0 as decimal(18, 2)) as original_budget,
        cast(0 as decimal(18, 2)) as budget,
        sum(case when status = 'posted' then amount_base else 0 end) as posted_actual,
        sum(case when status = 'accrued' then amount_base else 0 end) as accrued_actual,
        cast(0 as decimal(18, 2)) as committed,
        0 as budget_rows,
        count(*) as actual_rows
    from {{ ref('fct_actual_costs') }}
    group by project_code, account_code, period
),
commitment as (
    -- open purchase orders in the month they were issued
    select
        project_code, account_code, period,
        cast(0 as decimal(18, 2)) as original_budget,
        cast(0 as decimal(18, 2)) as budget,
        cast(0 as decimal(18, 2)) as posted_actual,
        cast(0 as decimal(18, 2)) as accrued_actual,
        sum(committed_base) as committed,
        0 as budget_rows,
        0 as actual_rows
    from {{ ref('int_commitments') }}
    where committed_base <> 0
    group by project_code, account_code, period
),
combined as (
    select
        project_code, account_code, period,
        sum(original_budget) as original_budget,
        sum(budget) as budget,
        sum(posted_actual) as posted_actual,
        sum(accrued_actual) as accrued_actual,
        sum(committed) as committed,
        max(budget_rows) > 0 as has_budget,
        max(actual_rows) > 0 as has_actuals
    from (select * from budget union all select * from actual union all select * from commitment) as all_sides
    group by project_code, account_code, period
)
select
    c.period,
    c.project_code,
    p.department_code,
    c.account_code,
    a.category,
    a.account_type,
    c.original_budget,
    c.budget,
    c.posted_actual,
    c.accrued_actual,
    c.posted_actual + c.accrued_actual as actual,
    c.committed,
    c.has_budget,
    c.has_actuals
from combined as c
left join {{ ref('stg_projects') }} as p on c.project_code = p.project_code
left join {{ ref('stg_accounts') }} as a on c.account_code = a.account_code
