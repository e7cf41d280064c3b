-- Every roll-up adds back to the line items, to the cent (SPEC §9):
--   studio (cost, revenue beside) per month = line items of that month;
--   sum of departments per month            = studio (no department's spend is dropped);
--   sum of categories per month             = all line items (expense and revenue);
--   sum of projects to date (cost)          = expense line items; project × category = all line items.
with line_items as (
    select
        period,
        sum(case when account_type = 'expense' then budget else 0 end) as cost_budget,
        sum(case when account_type = 'expense' then actual else 0 end) as cost_actual,
        sum(case when account_type = 'revenue' then budget else 0 end) as revenue_budget,
        sum(case when account_type = 'revenue' then actual else 0 end) as revenue_actual,
        sum(budget) as all_budget,
        sum(actual) as all_actual
    from {{ ref('mart_line_item_variance') }}
    group by period
),
studio as (
    select period, budget, actual, revenue_budget, revenue_actual from {{ ref('mart_studio_variance') }}
),
departments as (
    select period, sum(budget) as budget, sum(actual) as actual,
        sum(revenue_budget) as revenue_budget, sum(revenue_actual) as revenue_actual
    from {{ ref('mart_department_variance') }}
    group by period
),
categories as (
    select period, sum(budget) as budget, sum(actual) as actual
    from {{ ref('mart_category_variance') }}
    group by period
),
checks as (
    select 'studio = line items' as tie, s.period,
        coalesce(l.cost_budget, 0) as expected_budget, s.budget as got_budget,
        coalesce(l.cost_actual, 0) as expected_actual, s.actual as got_actual,
        coalesce(l.revenue_actual, 0) - s.revenue_actual + coalesce(l.revenue_budget, 0) - s.revenue_budget as revenue_gap
    from studio as s
    left join line_items as l on s.period = l.period
    union all
    select 'line items are in studio', l.period, l.cost_budget, 0, l.cost_actual, 0, 0
    from line_items as l
    where l.period not in (select period from studio)
    union all
    select 'departments = studio', s.period, s.budget, coalesce(d.budget, 0), s.actual, coalesce(d.actual, 0),
        s.revenue_actual - coalesce(d.revenue_actual, 0) + s.revenue_budget - coalesce(d.revenue_budget, 0)
    from studio as s
    left join departments as d on s.period = d.period
    union all
    select 'categories = line items', c.period, coalesce(l.all_budget, 0), c.budget, coalesce(l.all_actual, 0), c.actual, 0
    from categories as c
    left join line_items as l on c.period = l.period
    union all
    select 'projects = line items (to date, cost)', cast(null as date),
        (select coalesce(sum(cost_budget), 0) from line_items), (select coalesce(sum(budget), 0) from {{ ref('mart_project_variance') }}),
        (select coalesce(sum(cost_actual), 0) from line_items), (select coalesce(sum(actual), 0) from {{ ref('mart_project_variance') }}),
        (select coalesce(sum(revenue_actual), 0) from line_items) - (select coalesce(sum(revenue_actual), 0) from {{ ref('mart_project_variance') }})
    union all
    select 'project categories = line items (to date)', cast(null as date),
        (select coalesce(sum(all_budget), 0) from line_items), (select coalesce(sum(budget), 0) from {{ ref('mart_project_category_variance') }}),
        (select coalesce(sum(all_actual), 0) from line_items), (select coalesce(sum(actual), 0) from {{ ref('mart_project_category_variance') }}),
        0
)
select *
from checks
where abs(expected_budget - got_budget) >= 0.01
    or abs(expected_actual - got_actual) >= 0.01
    or abs(revenue_gap) >= 0.01
