-- The studio report adds up (SPEC §8): each department subtotal = its expense account rows, and
-- the studio total = the department subtotals = all expense account rows, to the cent.
with report as (
    select * from {{ ref('rpt_studio_budget_vs_actual') }}
),
accounts_by_department as (
    select department_code, sum(budget) as budget, sum(actual) as actual
    from report
    where row_type = 'account' and account_type = 'expense'
    group by department_code
),
department_rows as (
    select department_code, budget, actual from report where row_type = 'department'
),
checks as (
    select 'department = its expense accounts' as tie, coalesce(d.department_code, a.department_code) as department_code,
        coalesce(a.budget, 0) as expected_budget, coalesce(d.budget, 0) as got_budget,
        coalesce(a.actual, 0) as expected_actual, coalesce(d.actual, 0) as got_actual
    from department_rows as d
    full outer join accounts_by_department as a on d.department_code = a.department_code
    -- a department with no account rows this year has a zero subtotal
    union all
    select 'studio = departments', cast(null as string),
        (select coalesce(sum(budget), 0) from department_rows), s.budget,
        (select coalesce(sum(actual), 0) from department_rows), s.actual
    from report as s
    where s.row_type = 'studio'
    union all
    select 'studio = expense accounts', cast(null as string),
        (select coalesce(sum(budget), 0) from accounts_by_department), s.budget,
        (select coalesce(sum(actual), 0) from accounts_by_department), s.actual
    from report as s
    where s.row_type = 'studio'
)
select *
from checks
where abs(expected_budget - got_budget) >= 0.01
    or abs(expected_actual - got_actual) >= 0.01
