-- Capacity per person and week (SPEC §6 mart_capacity_weekly), weeks from Monday. Every week from a person's
-- first logged or allocated week to the later of the as-of week and their last allocated week.
-- available = weekly capacity; logged = timesheet hours that week; allocated = the estimates of their open tasks,
-- each spread evenly over the weeks from its start to its due date.
with people as (
    select person_id, person_name, department_code, worker_type, weekly_capacity_hours
    from {{ ref('stg_people') }}
),
logged as (
    select person_id, {{ week_start('work_date') }} as week_start, sum(hours) as logged_hours
    from {{ ref('int_task_labour_cost') }}
    group by person_id, {{ week_start('work_date') }}
),
open_tasks as (
    select
        owner_person_id as person_id,
        task_id,
        estimate_hours,
        {{ week_start('coalesce(start_date, cast(created_at as date))') }} as first_week,
        {{ week_start('coalesce(due_date, start_date, cast(created_at as date))') }} as last_week
    from {{ ref('mart_task_flow') }}
    where is_open and owner_person_id is not null and estimate_hours > 0
),
bounds as (
    select min(first_week) as first_week, max(last_week) as last_week
    from (
        select week_start as first_week, week_start as last_week from logged
        union all select first_week, last_week from open_tasks
        union all select {{ week_start(as_of_date()) }}, {{ week_start(as_of_date()) }}
    ) as weeks
),
weeks as (
    {{ week_spine('(select first_week from bounds)', '(select last_week from bounds)') }}
),
allocated as (
    select
        o.person_id,
        w.week_start,
        sum(o.estimate_hours
            / ({{ dbt.datediff('o.first_week', 'o.last_week', 'day') }} / 7 + 1)) as allocated_hours,
        count(*) as open_tasks
    from open_tasks as o
    join weeks as w on w.week_start between o.first_week and o.last_week
    group by o.person_id, w.week_start
),
person_span as (
    select person_id, min(week_start) as first_week, max(week_start) as last_week
    from (
        select person_id, week_start from logged
        union all select person_id, week_start from allocated
        union all select person_id, {{ week_start(as_of_date()) }} from logged
    ) as active
    group by person_id
),
grid as (
    select s.person_id, w.week_start
    from person_span as s
    join weeks as w on w.week_start between s.first_week and s.last_week
)
select
    g.person_id,
    p.person_name,
    p.department_code,
    p.worker_type,
    g.week_start,
    g.week_start <= {{ as_of_date() }} as has_started,
    cast(p.weekly_capacity_hours as decimal(18, 4)) as available_hours,
    cast(coalesce(l.logged_hours, 0) as decimal(18, 4)) as logged_hours,
    cast(coalesce(a.allocated_hours, 0) as decimal(18, 4)) as allocated_hours,
    cast(coalesce(a.open_tasks, 0) as integer) as open_tasks,
    -- utilization = logged / available; allocation = allocated / available (percent)
    {{ safe_divide('coalesce(l.logged_hours, 0)', 'p.weekly_capacity_hours') }} * 100 as utilization_pct,
    {{ safe_divide('coalesce(a.allocated_hours, 0)', 'p.weekly_capacity_hours') }} * 100 as allocation_pct,
    coalesce(l.logged_hours, 0) > p.weekly_capacity_hours
        or coalesce(a.allocated_hours, 0) > p.weekly_capacity_hours as is_overcommitted
from grid as g
join people as p on p.person_id = g.person_id
left join logged as l on l.person_id = g.person_id and l.week_start = g.week_start
left join allocated as a on a.person_id = g.person_id and a.week_start = g.week_start
