-- One row per project × budget version. Original = first approved/locked version, current = the
-- latest (SPEC §4), ordered by approved_at, then by load order.
with versions as (
    select
        project_code,
        budget_version,
        max(case version_status when 'locked' then 3 when 'approved' then 2 else 1 end) as status_rank,
        max(approved_at) as approved_at,
        min(first_load_id) as first_load_id
    from {{ ref('stg_budgets') }}
    group by project_code, budget_version
),
official as (
    select
        project_code,
        budget_version,
        row_number() over (
            partition by project_code order by approved_at nulls last, first_load_id, budget_version
        ) as rank_first,
        row_number() over (
            partition by project_code order by approved_at desc nulls first, first_load_id desc, budget_version desc
        ) as rank_latest
    from versions
    where status_rank >= 2
)
select
    v.project_code,
    v.budget_version,
    case v.status_rank when 3 then 'locked' when 2 then 'approved' else 'draft' end as version_status,
    v.approved_at,
    v.first_load_id,
    coalesce(o.rank_first = 1, false) as is_original,
    coalesce(o.rank_latest = 1, false) as is_current
from versions as v
left join official as o
    on v.project_code = o.project_code and v.budget_version = o.budget_version
