-- The per-project production summary printed under a project's cost report: the project's production figures
-- (mart_project_production) with its next milestone still ahead and its most delayed one.
with next_milestone as (
    select project_code, milestone, planned_date,
        row_number() over (partition by project_code order by planned_date, milestone) as n
    from {{ ref('mart_milestone_slip') }}
    where milestone_status = 'upcoming'
),
worst_slip as (
    select project_code, milestone, slip_days, milestone_status,
        row_number() over (partition by project_code order by slip_days desc, milestone) as n
    from {{ ref('mart_milestone_slip') }}
    where milestone_status in ('met_late', 'overdue')
)
select
    p.*,
    nm.milestone as next_milestone,
    nm.planned_date as next_milestone_date,
    ws.milestone as most_slipped_milestone,
    ws.milestone_status as most_slipped_milestone_status,
    {{ as_of_date() }} as as_of
from {{ ref('mart_project_production') }} as p
left join next_milestone as nm on nm.project_code = p.project_code and nm.n = 1
left join worst_slip as ws on ws.project_code = p.project_code and ws.n = 1
