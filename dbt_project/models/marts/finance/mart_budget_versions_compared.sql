-- How a project's plan moved (SPEC §6 budget versions compared): per project × account × budget version, the
-- version's amount over all periods, and the change from the latest approved or locked version before it.
with versions as (
    select project_code, budget_version, version_status, approved_at, effective_at, version_sequence,
        is_original, is_current
    from {{ ref('int_budget_versions') }}
),
amounts as (
    select project_code, account_code, budget_version, sum(amount_base) as amount
    from {{ ref('fct_budget_lines') }}
    group by project_code, account_code, budget_version
),
lines as (
    -- every account any version of the project budgets, in every version (absent = 0)
    select distinct project_code, account_code from amounts
),
grid as (
    select
        v.project_code, l.account_code, v.budget_version, v.version_status, v.approved_at, v.effective_at,
        v.version_sequence, v.is_original, v.is_current,
        coalesce(a.amount, 0) as amount
    from versions as v
    inner join lines as l on v.project_code = l.project_code
    left join amounts as a
        on v.project_code = a.project_code and l.account_code = a.account_code
        and v.budget_version = a.budget_version
),
previous as (
    -- the latest approved or locked version that took effect before each version
    select
        g.project_code, g.account_code, g.budget_version,
        max(p.version_sequence) as previous_sequence
    from grid as g
    inner join grid as p
        on g.project_code = p.project_code and g.account_code = p.account_code
        and p.version_sequence < g.version_sequence and p.version_status in ('approved', 'locked')
    group by g.project_code, g.account_code, g.budget_version
)
select
    g.project_code,
    acc.category,
    g.account_code,
    g.budget_version,
    g.version_status,
    g.version_sequence,
    g.is_original,
    g.is_current,
    g.approved_at,
    g.effective_at,
    g.amount,
    p.budget_version as previous_version,
    p.amount as previous_amount,
    g.amount - p.amount as change_from_previous,
    {{ safe_divide('(g.amount - p.amount) * 100', 'abs(p.amount)') }} as change_from_previous_pct,
    g.amount - o.amount as change_from_original
from grid as g
left join {{ ref('stg_accounts') }} as acc on g.account_code = acc.account_code
left join previous as pv
    on g.project_code = pv.project_code and g.account_code = pv.account_code and g.budget_version = pv.budget_version
left join grid as p
    on pv.project_code = p.project_code and pv.account_code = p.account_code
    and pv.previous_sequence = p.version_sequence
left join grid as o
    on g.project_code = o.project_code and g.account_code = o.account_code and o.is_original
