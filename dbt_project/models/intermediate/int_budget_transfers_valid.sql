-- Budget transfers that move final budgets (SPEC §6): requested up to as-of and approved (an approver and the
-- role they approved in are recorded). The formal transfer rules (utilisation, approval ladder) refine this.
select
    t.transfer_id,
    t.requested_at,
    t.from_project_code,
    t.from_account_code,
    t.to_project_code,
    t.to_account_code,
    t.amount,
    t.currency,
    {{ to_base_currency('t.amount', 'fx.rate_to_base') }} as amount_base
from {{ ref('stg_budget_transfers') }} as t
left join {{ ref('int_fx_rates') }} as fx
    on {{ rate_for_month('fx', 't.currency', month_start('t.requested_at')) }}
where cast(t.requested_at as date) <= {{ as_of_date() }}
    and t.approved_by is not null
    and t.approver_role is not null
