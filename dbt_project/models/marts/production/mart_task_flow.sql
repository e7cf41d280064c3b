-- One row per task (SPEC §6 mart_task_flow): flow metrics from the status history, not from the current state
-- alone. Each status interval ends at the next event; the last open one at the end of the as-of date. A task
-- exists from its created_at, or from its first event when the tracker logged one earlier: one created after
-- the as-of date is not in the mart (a run as of an earlier date sees the work there was then).
with intervals as (
    {{ task_status_intervals(ref('stg_task_events')) }}
),
history as (
    select
        task_id,
        max(case when is_current then status end) as current_status,
        min(case when status = 'in_progress' then started_at end) as first_in_progress_at,
        min(case when status = 'done' then started_at end) as first_done_at,
        min(case when status = 'retake' then started_at end) as first_retake_at,
        -- entries into retake from another status
        sum(case when status = 'retake' and coalesce(previous_status, '') <> 'retake' then 1 else 0 end)
            as retake_count,
        -- summed in whole minutes: a sum of doubles would depend on the order the engine adds them in
        cast(sum(case when status = 'review' then round(duration_days * 1440) else 0 end) as double) / 1440
            as review_days,
        cast(sum(case when status = 'blocked' then round(duration_days * 1440) else 0 end) as double) / 1440
            as blocked_days,
        max(case when is_current then started_at end) as status_since
    from intervals
    group by task_id
),
reopened as (
    select i.task_id, count(*) > 0 as was_reopened
    from intervals as i
    join history as h on h.task_id = i.task_id
    where i.status <> 'done' and i.started_at > h.first_done_at
    group by i.task_id
),
labour as (
    select
        task_id,
        sum(hours) as logged_hours,
        sum(labour_cost) as labour_cost,
        sum(case when is_rework then hours else 0 end) as rework_hours,
        sum(case when is_rework then labour_cost else 0 end) as rework_cost
    from {{ ref('int_task_labour_cost') }}
    where task_id is not null
    group by task_id
),
flow as (
    select
        t.task_id,
        t.project_code,
        t.department_code,
        t.task_name,
        t.owner_person_id,
        t.owner_person_id is not null as has_owner,
        t.priority,
        t.estimate_hours,
        t.start_date,
        t.due_date,
        t.created_at,
        -- a task with no event yet is still to do
        coalesce(h.current_status, 'todo') as current_status,
        coalesce(h.status_since, t.created_at) as status_since,
        h.first_in_progress_at,
        h.first_done_at,
        {{ month_start('h.first_done_at') }} as done_period,
        coalesce(h.retake_count, 0) as retake_count,
        coalesce(h.review_days, 0) as review_days,
        coalesce(h.blocked_days, 0) as blocked_days,
        h.first_retake_at,
        coalesce(r.was_reopened, false) as was_reopened,
        coalesce(l.logged_hours, 0) as logged_hours,
        coalesce(l.labour_cost, 0) as labour_cost,
        coalesce(l.rework_hours, 0) as rework_hours,
        coalesce(l.rework_cost, 0) as rework_cost
    from {{ ref('stg_tasks') }} as t
    left join history as h on h.task_id = t.task_id
    left join reopened as r on r.task_id = t.task_id
    left join labour as l on l.task_id = t.task_id
    -- history holds the events up to the as-of date only
    where t.created_at < {{ as_of_end() }} or h.task_id is not null
)
select
    task_id,
    project_code,
    department_code,
    task_name,
    owner_person_id,
    has_owner,
    priority,
    cast(estimate_hours as decimal(18, 4)) as estimate_hours,
    start_date,
    due_date,
    created_at,
    current_status,
    status_since,
    current_status not in ('done', 'omitted') as is_open,
    first_in_progress_at,
    first_done_at,
    cast(done_period as date) as done_period,
    -- lead time = first done - created; cycle time = first done - first in progress (days)
    case when first_done_at is not null then {{ days_between('created_at', 'first_done_at') }} end as lead_time_days,
    case when first_done_at is not null and first_in_progress_at is not null
        then {{ days_between('first_in_progress_at', 'first_done_at') }} end as cycle_time_days,
    review_days,
    blocked_days,
    cast(retake_count as integer) as retake_count,
    -- first pass: done without a retake before its first done
    case when first_done_at is not null
        then first_retake_at is null or first_retake_at > first_done_at end as is_first_pass,
    was_reopened,
    -- on time = first done <= due date; null while not done or without a due date
    case when first_done_at is not null and due_date is not null
        then cast(first_done_at as date) <= due_date end as is_on_time,
    current_status not in ('done', 'omitted') and due_date < {{ as_of_date() }} as is_overdue,
    cast(logged_hours as decimal(18, 4)) as logged_hours,
    -- estimate accuracy = logged hours / estimate hours, in percent (100 = as estimated)
    {{ safe_divide('logged_hours', 'estimate_hours') }} * 100 as estimate_accuracy_pct,
    cast(labour_cost as decimal(18, 2)) as labour_cost,
    cast(rework_hours as decimal(18, 4)) as rework_hours,
    cast(rework_cost as decimal(18, 2)) as rework_cost
from flow
