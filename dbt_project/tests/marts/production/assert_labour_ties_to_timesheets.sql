-- Labour ties back to the timesheets to the hour and the cent (SPEC §9): every entry up to as-of is costed once,
-- each project's labour in mart_project_production is the sum of its entries, and the task-level labour of
-- mart_task_flow is the sum of the entries that name a task.
with landed as (
    select project_code, sum(regular_hours + overtime_hours) as hours, count(*) as entries
    from {{ ref('stg_timesheets') }}
    where work_date <= {{ as_of_date() }}
    group by project_code
),
costed as (
    select project_code, sum(hours) as hours, count(*) as entries, sum(labour_cost) as labour_cost
    from {{ ref('int_task_labour_cost') }}
    group by project_code
),
projects as (
    select project_code, logged_hours, labour_cost from {{ ref('mart_project_production') }}
),
on_tasks as (
    select t.project_code, sum(l.labour_cost) as labour_cost
    from {{ ref('int_task_labour_cost') }} as l
    join {{ ref('stg_tasks') }} as t on t.task_id = l.task_id
    group by t.project_code
),
flow as (
    select project_code, sum(labour_cost) as labour_cost from {{ ref('mart_task_flow') }} group by project_code
)
select 'entries' as what, coalesce(l.project_code, c.project_code) as project_code
from landed as l full outer join costed as c on c.project_code = l.project_code
where l.entries is distinct from c.entries or l.hours is distinct from c.hours
union all
select 'project labour', c.project_code
from costed as c left join projects as p on p.project_code = c.project_code
where p.labour_cost is distinct from c.labour_cost or p.logged_hours is distinct from c.hours
union all
select 'task labour', coalesce(o.project_code, f.project_code)
from on_tasks as o full outer join flow as f on f.project_code = o.project_code
where coalesce(o.labour_cost, 0) <> coalesce(f.labour_cost, 0)
