-- Project × cost category to date, and over the project's life against the whole allocation (SPEC §6):
-- "crew running 6% over, equipment 4% under".
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
),
lifetime as (
    -- the cost report's lines of this category over the project's life (expense categories only)
    select
        project_code, department_code, category,
        sum(current_budget) as total_budget,
        sum(final_budget) as final_budget,
        sum(total_cost) as total_cost,
        sum(etc) as etc,
        sum(efc) as efc,
        sum(over_under) as over_under
    from {{ ref('int_line_item_lifetime') }}
    group by project_code, department_code, category
),
categories as (
    -- a category of the project's life with nothing to date (its budget all after the as-of, nothing spent or
    -- committed yet) is a row too: the categories add up to the project
    select project_code, department_code, category from to_date
    union
    select project_code, department_code, category from lifetime
),
both_sides as (
    select
        c.project_code,
        c.department_code,
        c.category,
        coalesce(t.account_type, 'expense') as account_type,
        coalesce(t.original_budget, 0) as original_budget,
        coalesce(t.budget, 0) as budget,
        coalesce(t.posted_actual, 0) as posted_actual,
        coalesce(t.accrued_actual, 0) as accrued_actual,
        coalesce(t.actual, 0) as actual,
        coalesce(t.committed, 0) as committed
    from categories as c
    left join to_date as t
        on t.project_code = c.project_code and t.department_code = c.department_code and t.category = c.category
)
select
    t.*,
    {{ variance_columns('t.budget', 't.actual', 't.account_type', 'thr') }},
    l.total_budget,
    l.final_budget,
    l.total_cost,
    l.etc,
    l.efc,
    l.over_under,
    -- "crew 6% over, equipment 4% under" against the whole allocation: negative = over
    {{ safe_divide('l.over_under * 100', 'l.final_budget') }} as over_under_pct
from both_sides as t
cross join (select * from {{ ref('materiality_thresholds') }} where level = 'project_category') as thr
left join lifetime as l on t.project_code = l.project_code and t.category = l.category
