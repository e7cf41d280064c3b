-- The report's blocked work: open tasks waiting on unfinished dependencies, longest chain first, then the most
-- downstream tasks waiting, then task_id; the top var('report_top_blockers') (default 10) of the studio.
with ranked as (
    select
        b.*,
        row_number() over (order by chain_length desc, downstream_waiting desc, task_id) as blocker_rank,
        count(*) over () as total_blocked
    from {{ ref('mart_blockers') }} as b
)
select
    blocker_rank, task_id, project_code, task_name, owner_person_id, current_status, unfinished_dependency_ids,
    chain_length, root_blocker_task_id, downstream_waiting, due_date, total_blocked
from ranked
where blocker_rank <= {{ var('report_top_blockers') }}
