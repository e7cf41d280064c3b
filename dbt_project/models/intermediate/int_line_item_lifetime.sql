-- The project cost report per line item (project × expense account), over the project's life at as-of (SPEC §6):
-- original, current and final budget; actual (posted + accrued), committed, total cost; estimate to complete,
-- estimated final cost and over/under; approved change-order revenue beside them for the project's margin.
with budget as (
    select
        project_code, account_code,
        sum(case when is_original then amount_base else 0 end) as original_budget,
        sum(case when is_current then amount_base else 0 end) as current_budget
    from {{ ref('fct_budget_lines') }}
    group by project_code, account_code
),
change_orders as (
    -- approved change orders issued up to as-of, at their month's rate
    select
        c.project_code, c.account_code,
        sum({{ to_base_currency('c.budget_amount', 'fx.rate_to_base') }}) as change_order_budget,
        sum({{ to_base_currency('c.revenue_amount', 'fx.rate_to_base') }}) as change_order_revenue
    from {{ ref('stg_change_orders') }} as c
    left join {{ ref('int_fx_rates') }} as fx on {{ rate_for_month('fx', 'c.currency', month_start('c.issued_date')) }}
    where c.status = 'approved' and c.issued_date <= {{ as_of_date() }}
    group by c.project_code, c.account_code
),
transfers as (
    select to_project_code as project_code, to_account_code as account_code,
        amount_base as transfers_in, cast(0 as decimal(18, 2)) as transfers_out
    from {{ ref('int_budget_transfers_valid') }}
    union all
    select from_project_code, from_account_code, cast(0 as decimal(18, 2)), amount_base
    from {{ ref('int_budget_transfers_valid') }}
),
transfer_totals as (
    select project_code, account_code, sum(transfers_in) as transfers_in, sum(transfers_out) as transfers_out
    from transfers
    group by project_code, account_code
),
actuals as (
    select
        project_code, account_code,
        sum(case when status = 'posted' then amount_base else 0 end) as posted_actual,
        sum(case when status = 'accrued' then amount_base else 0 end) as accrued_actual
    from {{ ref('fct_actual_costs') }}
    group by project_code, account_code
),
commitments as (
    select project_code, account_code, sum(committed_base) as committed
    from {{ ref('int_commitments') }}
    group by project_code, account_code
),
estimates as (
    -- the production accountant's latest estimate to complete on or before as-of, at its month's rate
    select project_code, account_code, estimated_on, etc_base
    from (
        select
            e.project_code, e.account_code, e.estimated_on,
            {{ to_base_currency('e.etc_amount', 'fx.rate_to_base') }} as etc_base,
            row_number() over (
                partition by e.project_code, e.account_code order by e.estimated_on desc
            ) as newest_first
        from {{ ref('stg_estimates_to_complete') }} as e
        left join {{ ref('int_fx_rates') }} as fx
            on {{ rate_for_month('fx', 'e.currency', month_start('e.estimated_on')) }}
        where e.estimated_on <= {{ as_of_date() }}
    ) as ranked
    where newest_first = 1
),
keys as (
    select project_code, account_code from budget
    union select project_code, account_code from change_orders
    union select project_code, account_code from transfer_totals
    union select project_code, account_code from actuals
    union select project_code, account_code from commitments
    union select project_code, account_code from estimates
),
lines as (
    select
        k.project_code,
        p.department_code,
        p.status as project_status,
        k.account_code,
        a.category,
        coalesce(b.original_budget, 0) as original_budget,
        coalesce(b.current_budget, 0) as current_budget,
        coalesce(c.change_order_budget, 0) as change_order_budget,
        coalesce(c.change_order_revenue, 0) as change_order_revenue,
        coalesce(t.transfers_in, 0) as transfers_in,
        coalesce(t.transfers_out, 0) as transfers_out,
        coalesce(x.posted_actual, 0) as posted_actual,
        coalesce(x.accrued_actual, 0) as accrued_actual,
        coalesce(m.committed, 0) as committed,
        e.etc_base as estimated_etc,
        e.estimated_on as etc_estimated_on
    from keys as k
    inner join {{ ref('stg_accounts') }} as a on k.account_code = a.account_code and a.account_type = 'expense'
    left join {{ ref('stg_projects') }} as p on k.project_code = p.project_code
    left join budget as b on k.project_code = b.project_code and k.account_code = b.account_code
    left join change_orders as c on k.project_code = c.project_code and k.account_code = c.account_code
    left join transfer_totals as t on k.project_code = t.project_code and k.account_code = t.account_code
    left join actuals as x on k.project_code = x.project_code and k.account_code = x.account_code
    left join commitments as m on k.project_code = m.project_code and k.account_code = m.account_code
    left join estimates as e on k.project_code = e.project_code and k.account_code = e.account_code
),
costed as (
    select
        lines.*,
        -- SPEC §6: final budget = current budget (all periods) + approved change orders + valid transfers in - out
        current_budget + change_order_budget + transfers_in - transfers_out as final_budget,
        posted_actual + accrued_actual as actual,
        posted_actual + accrued_actual + committed as total_cost
    from lines
),
estimated as (
    select
        costed.*,
        -- SPEC §6 ETC: the accountant's latest estimate; else 0 once wrapped or closed; else what is left
        case when estimated_etc is not null then 'estimate'
             when project_status in ('wrapped', 'closed') then 'finished'
             else 'remaining_budget' end as etc_basis,
        case when estimated_etc is not null then estimated_etc
             when project_status in ('wrapped', 'closed') then cast(0 as decimal(18, 2))
             else greatest(final_budget - total_cost, 0) end as etc
    from costed
)
select
    estimated.*,
    total_cost + etc as efc,
    -- negative = over budget
    final_budget - (total_cost + etc) as over_under,
    {{ safe_divide('(final_budget - (total_cost + etc)) * 100', 'final_budget') }} as over_under_pct
from estimated
