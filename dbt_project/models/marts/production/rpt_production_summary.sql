-- The production section of the studio report: one row per project with tasks, then the studio's total row
-- (its figures over every task, and the people overcommitted in the as-of week).
with projects as (
    select * from {{ ref('mart_project_production') }} where tasks > 0
),
studio_tasks as (
    select
        count(*) as tasks,
        coalesce(sum(case when is_open then 1 else 0 end), 0) as open_tasks,
        coalesce(sum(case when first_done_at is not null then 1 else 0 end), 0) as delivered_tasks,
        sum(case when is_on_time then 1 else 0 end) as on_time_tasks,
        sum(case when first_done_at is not null and due_date is not null then 1 else 0 end) as delivered_with_due_date,
        sum(case when first_done_at is not null and retake_count > 0 then 1 else 0 end) as delivered_with_retakes,
        coalesce(sum(case when is_open and not has_owner then 1 else 0 end), 0) as open_tasks_without_owner,
        {{ median('cycle_time_days') }} as median_cycle_time_days
    from {{ ref('mart_task_flow') }}
),
overcommitted as (
    select
        count(*) as overcommitted_people,
        {{ dbt.listagg('person_name', "', '", 'order by person_name') }} as overcommitted_names
    from {{ ref('mart_capacity_weekly') }}
    where week_start = {{ week_start(as_of_date()) }} and is_overcommitted
)
select
    'project' as row_type,
    project_code,
    project_name,
    tasks,
    open_tasks,
    delivered_tasks,
    on_time_rate_pct,
    retake_rate_pct,
    median_cycle_time_days,
    open_tasks_without_owner,
    blocked_tasks,
    longest_blocker_chain,
    slipped_milestones,
    labour_cost,
    rework_cost,
    rework_pct_of_budget,
    cast(null as integer) as overcommitted_people,
    cast(null as string) as overcommitted_names,
    {{ as_of_date() }} as as_of
from projects
union all
select
    'studio',
    cast(null as string),
    'Studio total',
    cast(t.tasks as integer),
    cast(t.open_tasks as integer),
    cast(t.delivered_tasks as integer),
    {{ safe_divide('t.on_time_tasks', 't.delivered_with_due_date') }} * 100,
    {{ safe_divide('t.delivered_with_retakes', 't.delivered_tasks') }} * 100,
    t.median_cycle_time_days,
    cast(t.open_tasks_without_owner as integer),
    cast(coalesce((select sum(blocked_tasks) from projects), 0) as integer),
    cast(coalesce((select max(longest_blocker_chain) from projects), 0) as integer),
    cast(coalesce((select sum(slipped_milestones) from projects), 0) as integer),
    cast(coalesce((select sum(labour_cost) from projects), 0) as decimal(18, 2)),
    cast(coalesce((select sum(rework_cost) from projects), 0) as decimal(18, 2)),
    {{ safe_divide('(select sum(rework_cost) from projects)', '(select sum(total_budget) from projects)') }} * 100,
    cast(o.overcommitted_people as integer),
    o.overcommitted_names,
    {{ as_of_date() }}
from studio_tasks as t
cross join overcommitted as o
