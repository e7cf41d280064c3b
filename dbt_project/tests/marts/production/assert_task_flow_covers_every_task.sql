-- mart_task_flow holds every task that exists at the as-of date (created by then, or with an event by then) once,
-- and its current status is the task's latest event up to as-of; it holds no other task.
with latest as (
    select task_id, status
    from (
        select task_id, status,
            row_number() over (partition by task_id order by changed_at desc) as n
        from {{ ref('stg_task_events') }}
        where changed_at < {{ as_of_end() }}
    ) as e
    where n = 1
),
existing as (
    select t.task_id
    from {{ ref('stg_tasks') }} as t
    where t.created_at < {{ as_of_end() }} or t.task_id in (select task_id from latest)
)
select t.task_id
from existing as t
left join {{ ref('mart_task_flow') }} as f on f.task_id = t.task_id
left join latest as l on l.task_id = t.task_id
where f.task_id is null or f.current_status <> coalesce(l.status, 'todo')
union all
select task_id from {{ ref('mart_task_flow') }} where task_id not in (select task_id from existing)
