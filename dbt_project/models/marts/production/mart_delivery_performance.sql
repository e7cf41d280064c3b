-- Delivery per project and month (SPEC §6 mart_delivery_performance): the tasks first done in the month, and the
-- open tasks without an owner at the month's end. Every month from a project's first task to the as-of month.
with tasks as (
    select * from {{ ref('mart_task_flow') }}
),
omitted as (
    select task_id, min(started_at) as omitted_at
    from {{ ref('int_task_status_intervals') }}
    where status = 'omitted'
    group by task_id
),
project_months as (
    select p.project_code, m.period
    from (
        select project_code, {{ month_start('min(created_at)') }} as first_period
        from tasks group by project_code
    ) as p
    join {{ ref('int_months') }} as m on m.period between p.first_period and {{ as_of_period() }}
),
delivered as (
    select
        project_code,
        done_period as period,
        count(*) as tasks_done,
        sum(case when is_on_time then 1 else 0 end) as tasks_on_time,
        sum(case when due_date is not null then 1 else 0 end) as tasks_done_with_due_date,
        sum(case when retake_count > 0 then 1 else 0 end) as tasks_with_retakes,
        sum(case when is_first_pass then 1 else 0 end) as tasks_first_pass,
        sum(retake_count) as retakes,
        {{ median('cycle_time_days') }} as median_cycle_time_days,
        {{ median('lead_time_days') }} as median_lead_time_days,
        sum(case when estimate_hours > 0 then logged_hours else 0 end) as logged_hours_estimated,
        sum(case when estimate_hours > 0 then estimate_hours else 0 end) as estimate_hours
    from tasks
    where done_period is not null
    group by project_code, done_period
),
unowned as (
    -- open at the month's end: created by then, not yet first done or omitted
    select pm.project_code, pm.period, count(*) as open_tasks_without_owner
    from project_months as pm
    join tasks as t on t.project_code = pm.project_code
    left join omitted as o on o.task_id = t.task_id
    where not t.has_owner
        and cast(t.created_at as date) < {{ dbt.dateadd('month', 1, 'pm.period') }}
        and (t.first_done_at is null or cast(t.first_done_at as date) >= {{ dbt.dateadd('month', 1, 'pm.period') }})
        and (o.omitted_at is null or cast(o.omitted_at as date) >= {{ dbt.dateadd('month', 1, 'pm.period') }})
    group by pm.project_code, pm.period
)
select
    pm.project_code,
    cast(pm.period as date) as period,
    cast(coalesce(d.tasks_done, 0) as integer) as tasks_done,
    cast(coalesce(d.tasks_on_time, 0) as integer) as tasks_on_time,
    -- on-time delivery rate = done on or before due / done with a due date (percent)
    {{ safe_divide('d.tasks_on_time', 'd.tasks_done_with_due_date') }} * 100 as on_time_rate_pct,
    d.median_cycle_time_days,
    d.median_lead_time_days,
    cast(coalesce(d.retakes, 0) as integer) as retakes,
    cast(coalesce(d.tasks_with_retakes, 0) as integer) as tasks_with_retakes,
    -- retake rate = done tasks with a retake / done tasks; first-pass yield = done without a retake before done
    {{ safe_divide('d.tasks_with_retakes', 'd.tasks_done') }} * 100 as retake_rate_pct,
    {{ safe_divide('d.tasks_first_pass', 'd.tasks_done') }} * 100 as first_pass_yield_pct,
    cast(coalesce(d.logged_hours_estimated, 0) as decimal(18, 4)) as logged_hours,
    cast(coalesce(d.estimate_hours, 0) as decimal(18, 4)) as estimate_hours,
    -- estimate accuracy = logged / estimate hours of the done tasks that had an estimate (percent)
    {{ safe_divide('d.logged_hours_estimated', 'd.estimate_hours') }} * 100 as estimate_accuracy_pct,
    cast(coalesce(u.open_tasks_without_owner, 0) as integer) as open_tasks_without_owner
from project_months as pm
left join delivered as d on d.project_code = pm.project_code and d.period = pm.period
left join unowned as u on u.project_code = pm.project_code and u.period = pm.period
