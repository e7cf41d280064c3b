-- Project × cost category to date: "crew running 6% over, equipment 4% under" (SPEC §6).
with to_date as (
    select
        project_code,
        department_code,
        category,
        max(account_type) as account_type,
        sum(original_budget) as original_budget,
        sum(budget) as budget,
        sum(posted_actual) as posted_actual,
        sum(accrued_actual) as accrued_actual,
        sum(actual) as actual,
        sum(committed) as committed
    from {{ ref('int_line_item_monthly') }}
    group by project_code, department_code, category
)
select
    t.*,
    {{ variance_columns('t.budget', 't.actual', 't.account_type', 'thr') }}
from to_date as t
cross join (select * from {{ ref('materiality_thresholds') }} where level = 'project_category') as thr
