-- Every budget transfer checked against the formal transfer rules (SPEC §6). A line's position "at the time" is
-- read at the request month: its current-version budget phased up to and including that month, plus approved
-- change orders issued up to the request date, plus earlier approved transfers in less out (approved = an
-- approver and a role are recorded; counting earlier transfers by their rules would make validity recursive);
-- its actual is every cost (posted and accrued) in periods up to and including that month.
{% set min_utilisation = var('transfer_min_source_utilisation_pct') %}
{% set department_fy_pct = var('transfer_department_fy_pct') %}
with transfers as (
    select
        t.transfer_id, t.requested_at, t.from_project_code, t.from_account_code, t.to_project_code,
        t.to_account_code, t.amount, t.currency, t.justification, t.requested_by, t.approved_by, t.approver_role,
        t.load_id,
        {{ month_start('t.requested_at') }} as request_period,
        {{ to_base_currency('t.amount', 'fx.rate_to_base') }} as amount_base,
        t.approved_by is not null and t.approver_role is not null as is_approved
    from {{ ref('stg_budget_transfers') }} as t
    left join {{ ref('int_fx_rates') }} as fx
        on {{ rate_for_month('fx', 't.currency', month_start('t.requested_at')) }}
),
line_sides as (
    select transfer_id, requested_at, request_period, 'from' as side,
        from_project_code as project_code, from_account_code as account_code
    from transfers
    union all
    select transfer_id, requested_at, request_period, 'to', to_project_code, to_account_code
    from transfers
),
side_budget as (
    select s.transfer_id, s.side, sum(b.amount_base) as phased_budget
    from line_sides as s
    inner join {{ ref('fct_budget_lines') }} as b
        on s.project_code = b.project_code and s.account_code = b.account_code
        and b.is_current and b.period <= s.request_period
    group by s.transfer_id, s.side
),
side_change_orders as (
    select s.transfer_id, s.side, sum({{ to_base_currency('c.budget_amount', 'fx.rate_to_base') }}) as change_orders
    from line_sides as s
    inner join {{ ref('stg_change_orders') }} as c
        on s.project_code = c.project_code and s.account_code = c.account_code
        and c.status = 'approved' and c.issued_date <= cast(s.requested_at as date)
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'c.currency', month_start('c.issued_date')) }}
    group by s.transfer_id, s.side
),
side_earlier_transfers as (
    select
        s.transfer_id, s.side,
        sum(case when e.to_project_code = s.project_code and e.to_account_code = s.account_code
                 then e.amount_base else 0 end)
        - sum(case when e.from_project_code = s.project_code and e.from_account_code = s.account_code
                   then e.amount_base else 0 end) as earlier_transfers
    from line_sides as s
    inner join transfers as e
        on e.is_approved
        and (e.requested_at < s.requested_at or (e.requested_at = s.requested_at and e.transfer_id < s.transfer_id))
    group by s.transfer_id, s.side
),
side_actual as (
    select s.transfer_id, s.side, sum(a.amount_base) as actual
    from line_sides as s
    inner join {{ ref('fct_actual_costs') }} as a
        on s.project_code = a.project_code and s.account_code = a.account_code and a.period <= s.request_period
    group by s.transfer_id, s.side
),
sides as (
    select
        s.transfer_id, s.side, acc.category,
        coalesce(b.phased_budget, 0) + coalesce(c.change_orders, 0) + coalesce(e.earlier_transfers, 0)
            as budget_at_request,
        coalesce(a.actual, 0) as actual_at_request
    from line_sides as s
    left join {{ ref('stg_accounts') }} as acc on s.account_code = acc.account_code
    left join side_budget as b on s.transfer_id = b.transfer_id and s.side = b.side
    left join side_change_orders as c on s.transfer_id = c.transfer_id and s.side = c.side
    left join side_earlier_transfers as e on s.transfer_id = e.transfer_id and s.side = e.side
    left join side_actual as a on s.transfer_id = a.transfer_id and s.side = a.side
),
department_budget as (
    -- a department's current budget per fiscal year (expense lines)
    select department_code, {{ fiscal_year_start('period') }} as fiscal_year_start, sum(amount_base) as budget
    from {{ ref('fct_budget_lines') }}
    where is_current and account_type = 'expense'
    group by department_code, {{ fiscal_year_start('period') }}
),
department_transfers as (
    -- the receiving project's department: its transfers in the request's fiscal year up to and including this one
    select
        t.transfer_id,
        p.department_code,
        {{ fiscal_year_start('t.request_period') }} as fiscal_year_start,
        sum(t.amount_base) over (
            partition by p.department_code, {{ fiscal_year_start('t.request_period') }}
            order by t.requested_at, t.transfer_id
            rows between unbounded preceding and current row
        ) as department_fy_transfers
    from transfers as t
    left join {{ ref('stg_projects') }} as p on t.to_project_code = p.project_code
),
ladder as (
    select role, rank, approval_limit from {{ ref('approval_ladder') }}
),
ladder_points as (
    select
        max(rank) as top_rank,
        min(case when approval_limit is null then rank end) as unlimited_rank
    from ladder
),
measured as (
    select
        t.*,
        d.department_code,
        d.department_fy_transfers,
        db.budget as department_fy_budget,
        {{ safe_divide('d.department_fy_transfers * 100', 'db.budget') }} as department_fy_transfers_pct,
        f.category as from_category,
        f.budget_at_request as from_budget_at_request,
        f.actual_at_request as from_actual_at_request,
        {{ safe_divide('f.actual_at_request * 100', 'f.budget_at_request') }} as from_utilization_pct,
        o.category as to_category,
        o.budget_at_request as to_budget_at_request,
        o.actual_at_request as to_actual_at_request,
        (
            select min(l.rank) from ladder as l
            where l.approval_limit is null or l.approval_limit >= t.amount_base
        ) as amount_rank,
        lp.top_rank,
        lp.unlimited_rank,
        given.rank as approver_rank
    from transfers as t
    cross join ladder_points as lp
    left join sides as f on t.transfer_id = f.transfer_id and f.side = 'from'
    left join sides as o on t.transfer_id = o.transfer_id and o.side = 'to'
    left join department_transfers as d on t.transfer_id = d.transfer_id
    left join department_budget as db
        on d.department_code = db.department_code and d.fiscal_year_start = db.fiscal_year_start
    left join ladder as given on t.approver_role = given.role
),
ruled as (
    select
        measured.*,
        -- no transfer into a line already over budget (actual above budget; equal is on budget)
        to_actual_at_request <= to_budget_at_request as passes_to_line_within_budget,
        -- none out of a line less than the threshold utilised (a line without budget is not utilised)
        coalesce(from_utilization_pct >= {{ min_utilisation }}, false) as passes_from_line_utilised,
        from_category = '{{ var("transfer_labour_category") }}'
            and coalesce(to_category, '') <> '{{ var("transfer_labour_category") }}' as is_labour_to_non_labour,
        coalesce(department_fy_transfers_pct > {{ department_fy_pct }}, true) as is_department_over_fy_limit,
        greatest(
            amount_rank,
            case when from_category = '{{ var("transfer_labour_category") }}'
                      and coalesce(to_category, '') <> '{{ var("transfer_labour_category") }}'
                 then unlimited_rank else 1 end,
            case when coalesce(department_fy_transfers_pct > {{ department_fy_pct }}, true) then top_rank else 1 end
        ) as required_rank
    from measured
),
judged as (
    select
        ruled.*,
        coalesce(approver_rank >= required_rank, false) as passes_approval_level,
        passes_to_line_within_budget and passes_from_line_utilised
            and coalesce(approver_rank >= required_rank, false) as passes_rules
    from ruled
)
select
    j.transfer_id, j.requested_at, j.request_period, j.from_project_code, j.from_account_code, j.from_category,
    j.to_project_code, j.to_account_code, j.to_category, j.department_code, j.amount, j.currency, j.amount_base,
    j.justification, j.requested_by, j.approved_by, j.approver_role, j.load_id,
    j.to_budget_at_request, j.to_actual_at_request, j.passes_to_line_within_budget,
    j.from_budget_at_request, j.from_actual_at_request, j.from_utilization_pct, j.passes_from_line_utilised,
    j.is_labour_to_non_labour, j.department_fy_transfers, j.department_fy_budget, j.department_fy_transfers_pct,
    j.is_department_over_fy_limit, amount_role.role as amount_required_role, j.required_rank,
    required.role as required_role, j.approver_rank, j.passes_approval_level,
    case when not j.is_approved then 'pending' when j.passes_rules then 'valid' else 'invalid' end as status,
    j.is_approved and j.passes_rules as is_valid,
    nullif(concat_ws('; ',
        case when not j.is_approved then 'pending: no approver recorded' end,
        case when not j.passes_to_line_within_budget then
            'into a line already over budget (actual ' || {{ amount_text('j.to_actual_at_request') }}
            || ' > budget ' || {{ amount_text('j.to_budget_at_request') }} || ')' end,
        case when not j.passes_from_line_utilised then
            'out of a line under {{ min_utilisation }}% utilised ('
            || coalesce({{ rounded_text('j.from_utilization_pct', 1) }} || '%', 'no budget') || ')' end,
        case when j.is_approved and not j.passes_approval_level then
            'needs ' || coalesce(required.role, 'rank ' || cast(j.required_rank as string))
            || ', approved by ' || j.approver_role
            || case when j.approver_rank is null then ' (not on the approval ladder)' else '' end end
    ), '') as invalid_reasons
from judged as j
left join ladder as required on j.required_rank = required.rank
left join ladder as amount_role on j.amount_rank = amount_role.rank
