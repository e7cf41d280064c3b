-- Open tasks waiting on unfinished dependencies (SPEC §6 mart_blockers): one row per open task that has started
-- (start date reached, or marked blocked) and depends on a task that is neither done nor omitted.
-- chain_length: how many unfinished tasks the longest chain above it holds (1 = it waits on a task that waits on
-- nothing unfinished); downstream_waiting: how many open tasks wait on it, directly or through others.
{{ with_recursive() }} tasks as (
    select task_id, project_code, task_name, owner_person_id, start_date, due_date, current_status, status_since,
        is_open
    from {{ ref('mart_task_flow') }}
),
unfinished_edges as (
    select d.task_id, d.depends_on_task_id
    from {{ ref('stg_task_dependencies') }} as d
    join tasks as down on down.task_id = d.task_id and down.is_open
    join tasks as up on up.task_id = d.depends_on_task_id and up.is_open
),
-- every unfinished task above a task, with the number of unfinished tasks on the way (cycles are rejected at
-- the gate; the depth bound only guards against one slipping through)
upstream (task_id, upstream_task_id, depth) as (
    select task_id, depends_on_task_id, 1 from unfinished_edges
    union all
    select u.task_id, e.depends_on_task_id, u.depth + 1
    from upstream as u
    join unfinished_edges as e on e.task_id = u.upstream_task_id
    where u.depth < 100
),
chains as (
    select task_id, max(depth) as chain_length
    from upstream
    group by task_id
),
-- the unfinished task at the top of the longest chain: it waits on nothing unfinished
roots as (
    select u.task_id, min(u.upstream_task_id) as root_blocker_task_id
    from upstream as u
    join chains as c on c.task_id = u.task_id and c.chain_length = u.depth
    group by u.task_id
),
downstream as (
    select upstream_task_id as task_id, count(distinct task_id) as downstream_waiting
    from upstream
    group by upstream_task_id
),
direct as (
    select task_id, count(*) as unfinished_dependencies,
        {{ dbt.listagg('depends_on_task_id', "', '", 'order by depends_on_task_id') }} as unfinished_dependency_ids
    from unfinished_edges
    group by task_id
)
select
    t.task_id,
    t.project_code,
    t.task_name,
    t.owner_person_id,
    t.current_status,
    t.current_status = 'blocked' as is_marked_blocked,
    t.status_since,
    t.start_date,
    t.due_date,
    cast(d.unfinished_dependencies as integer) as unfinished_dependencies,
    d.unfinished_dependency_ids,
    cast(c.chain_length as integer) as chain_length,
    r.root_blocker_task_id,
    cast(coalesce(w.downstream_waiting, 0) as integer) as downstream_waiting
from tasks as t
join direct as d on d.task_id = t.task_id
join chains as c on c.task_id = t.task_id
join roots as r on r.task_id = t.task_id
left join downstream as w on w.task_id = t.task_id
where t.current_status = 'blocked' or t.start_date is null or t.start_date <= {{ as_of_date() }}
