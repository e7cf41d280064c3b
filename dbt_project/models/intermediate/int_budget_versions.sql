-- One row per project × budget version. Original = first approved/locked version, current = the
-- latest (SPEC §4), ordered by when it was approved: approved_at, or when it was first loaded
-- when the file does not say. The current budget is the one in force at the as-of date: a version
-- approved after it is not yet current (a version without approved_at counts as approved when loaded,
-- which the as-of cannot place); a project none of whose versions was approved by then keeps its
-- original as current, the only plan it has.
with versions as (
    select
        b.project_code,
        b.budget_version,
        max(case b.version_status when 'locked' then 3 when 'approved' then 2 else 1 end) as status_rank,
        max(b.approved_at) as approved_at,
        min(b.first_load_id) as first_load_id,
        coalesce(max(b.approved_at), min(cast(ledger.loaded_at as timestamp))) as effective_at,
        coalesce(cast(max(b.approved_at) as date) <= {{ as_of_date() }}, true) as in_force_at_as_of
    from {{ ref('stg_budgets') }} as b
    left join {{ source('lake', 'load_ledger') }} as ledger on b.first_load_id = ledger.load_id
    group by b.project_code, b.budget_version
),
official as (
    select
        project_code,
        budget_version,
        row_number() over (
            partition by project_code order by effective_at, first_load_id, budget_version
        ) as rank_first,
        -- the latest in force at the as-of; with none in force, the first (the original)
        row_number() over (
            partition by project_code
            order by
                in_force_at_as_of desc,
                case when in_force_at_as_of then effective_at end desc nulls last,
                case when in_force_at_as_of then first_load_id end desc nulls last,
                case when in_force_at_as_of then budget_version end desc nulls last,
                effective_at, first_load_id, budget_version
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
    v.effective_at,
    -- every version of a project in the order it took effect (drafts included), for the versions compared
    row_number() over (
        partition by v.project_code order by v.effective_at, v.first_load_id, v.budget_version
    ) as version_sequence,
    coalesce(o.rank_first = 1, false) as is_original,
    coalesce(o.rank_latest = 1, false) as is_current
from versions as v
left join official as o
    on v.project_code = o.project_code and v.budget_version = o.budget_version
