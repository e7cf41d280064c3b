-- A project's labour is the same in the labour variance and the production marts, to the cent: each timesheet
-- entry converted and rounded once, as it is accrued and posted.
with labour as (
    select project_code, sum(labour_actual) as labour_actual
    from {{ ref('mart_labor_variance') }}
    group by project_code
)
select coalesce(l.project_code, p.project_code) as project_code, l.labour_actual, p.labour_cost
from labour as l
full outer join {{ ref('mart_project_production') }} as p on p.project_code = l.project_code
where abs(coalesce(l.labour_actual, 0) - coalesce(p.labour_cost, 0)) >= 0.01
