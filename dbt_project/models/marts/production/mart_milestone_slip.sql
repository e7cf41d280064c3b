-- Milestone slip per project (SPEC §6 production): each milestone against its planned date at the as-of date.
-- slip_days = actual - planned for a milestone reached; for one not reached whose planned date has passed,
-- as-of - planned (it slips a day more every day); null while it is still ahead.
with milestones as (
    select project_code, milestone, planned_date,
        case when actual_date <= {{ as_of_date() }} then actual_date end as actual_date
    from {{ ref('stg_milestones') }}
)
select
    project_code,
    milestone,
    planned_date,
    actual_date,
    case
        when actual_date is not null and actual_date > planned_date then 'met_late'
        when actual_date is not null then 'met'
        when planned_date < {{ as_of_date() }} then 'overdue'
        else 'upcoming'
    end as milestone_status,
    cast(case
        when actual_date is not null then {{ dbt.datediff('planned_date', 'actual_date', 'day') }}
        when planned_date < {{ as_of_date() }} then {{ dbt.datediff('planned_date', as_of_date(), 'day') }}
    end as integer) as slip_days
from milestones
