-- A budget version of a project is replaced as a whole by the latest load that carries it
-- (lines a draft drops disappear); locked versions are guarded by the quality gate.
with loaded as (
    select
        b.*,
        max(_load_id) over (partition by budget_version, project_code) as latest_load_id,
        min(_load_id) over (partition by budget_version, project_code) as first_load_id
    from {{ source('lake', 'budgets') }} as b
)
select
    budget_version, version_status, project_code, account_code,
    case when period is null then null else {{ period_to_date('period') }} end as period,
    amount, currency, quantity, unit, rate, approved_at,
    first_load_id, _load_id as load_id, _row_number as source_row_number
from loaded
where _load_id = latest_load_id
