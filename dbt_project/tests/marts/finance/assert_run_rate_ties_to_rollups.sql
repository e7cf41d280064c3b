-- The run rate's year to date of a department and of the studio is the monthly roll-ups' (expense accounts), to
-- the cent, in every month it has a row: a line with no row in a month still counts in its year to date.
with expected as (
    select 'department' as level, department_code as scope_key, period, ytd_budget, ytd_actual
    from {{ ref('mart_department_variance') }}
    union all
    select 'studio', 'studio', period, ytd_budget, ytd_actual
    from {{ ref('mart_studio_variance') }}
)
select r.level, r.scope_key, r.period, e.ytd_budget as expected_ytd_budget, r.ytd_budget,
    e.ytd_actual as expected_ytd_actual, r.ytd_actual
from {{ ref('mart_run_rate') }} as r
left join expected as e on e.level = r.level and e.scope_key = r.scope_key and e.period = r.period
where r.level in ('department', 'studio')
    and (e.period is null or abs(r.ytd_budget - e.ytd_budget) >= 0.01 or abs(r.ytd_actual - e.ytd_actual) >= 0.01)
