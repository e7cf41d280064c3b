-- Production per project at the as-of date: task counts, delivery, retakes, blockers, milestone slip and the
-- labour cost from timesheets, with the cost of rework (hours on a task on or after its first retake) against
-- the project's current budget.
with tasks as (
    select
        project_code,
        count(*) as tasks,
        sum(case when is_open then 1 else 0 end) as open_tasks,
        sum(case when current_status = 'done' then 1 else 0 end) as done_tasks,
        sum(case when is_open and not has_owner then 1 else 0 end) as open_tasks_without_owner,
        sum(case when is_overdue then 1 else 0 end) as overdue_tasks,
        sum(case when first_done_at is not null then 1 else 0 end) as delivered_tasks,
        sum(case when is_on_time then 1 else 0 end) as on_time_tasks,
        sum(case when first_done_at is not null and due_date is not null then 1 else 0 end) as delivered_with_due_date,
        sum(case when first_done_at is not null and retake_count > 0 then 1 else 0 end) as delivered_with_retakes,
        sum(retake_count) as retakes,
        cast(sum(round(blocked_days * 1440)) as double) / 1440 as blocked_days,  -- whole minutes: order-free
        {{ median('cycle_time_days') }} as median_cycle_time_days,
        sum(rework_hours) as rework_hours,
        sum(rework_cost) as rework_cost,
        sum(case when estimate_hours > 0 then logged_hours else 0 end) as logged_hours_estimated,
        sum(case when estimate_hours > 0 then estimate_hours else 0 end) as estimate_hours
    from {{ ref('mart_task_flow') }}
    group by project_code
),
labour as (
    select project_code, sum(hours) as logged_hours, sum(labour_cost) as labour_cost,
        sum(case when task_id is null then hours else 0 end) as hours_without_task
    from {{ ref('int_task_labour_cost') }}
    group by project_code
),
blockers as (
    select project_code, count(*) as blocked_tasks, max(chain_length) as longest_chain
    from {{ ref('mart_blockers') }}
    group by project_code
),
milestones as (
    select project_code,
        sum(case when milestone_status in ('met_late', 'overdue') then 1 else 0 end) as slipped_milestones,
        max(slip_days) as max_slip_days
    from {{ ref('mart_milestone_slip') }}
    group by project_code
)
select
    p.project_code,
    p.project_name,
    p.status,
    cast(coalesce(t.tasks, 0) as integer) as tasks,
    cast(coalesce(t.open_tasks, 0) as integer) as open_tasks,
    cast(coalesce(t.done_tasks, 0) as integer) as done_tasks,
    cast(coalesce(t.open_tasks_without_owner, 0) as integer) as open_tasks_without_owner,
    cast(coalesce(t.overdue_tasks, 0) as integer) as overdue_tasks,
    cast(coalesce(t.delivered_tasks, 0) as integer) as delivered_tasks,
    {{ safe_divide('t.on_time_tasks', 't.delivered_with_due_date') }} * 100 as on_time_rate_pct,
    {{ safe_divide('t.delivered_with_retakes', 't.delivered_tasks') }} * 100 as retake_rate_pct,
    cast(coalesce(t.retakes, 0) as integer) as retakes,
    t.median_cycle_time_days,
    coalesce(t.blocked_days, 0) as blocked_days,
    {{ safe_divide('t.logged_hours_estimated', 't.estimate_hours') }} * 100 as estimate_accuracy_pct,
    cast(coalesce(b.blocked_tasks, 0) as integer) as blocked_tasks,
    cast(coalesce(b.longest_chain, 0) as integer) as longest_blocker_chain,
    cast(coalesce(m.slipped_milestones, 0) as integer) as slipped_milestones,
    cast(m.max_slip_days as integer) as max_milestone_slip_days,
    cast(coalesce(l.logged_hours, 0) as decimal(18, 4)) as logged_hours,
    cast(coalesce(l.hours_without_task, 0) as decimal(18, 4)) as hours_without_task,
    cast(coalesce(l.labour_cost, 0) as decimal(18, 2)) as labour_cost,
    cast(coalesce(t.rework_hours, 0) as decimal(18, 4)) as rework_hours,
    cast(coalesce(t.rework_cost, 0) as decimal(18, 2)) as rework_cost,
    cast(p.total_budget as decimal(18, 2)) as total_budget,
    -- what retakes cost against the budget: rework cost / current expense budget (percent)
    {{ safe_divide('t.rework_cost', 'p.total_budget') }} * 100 as rework_pct_of_budget
from {{ ref('mart_project_variance') }} as p
left join tasks as t on t.project_code = p.project_code
left join labour as l on l.project_code = p.project_code
left join blockers as b on b.project_code = p.project_code
left join milestones as m on m.project_code = p.project_code
