-- One cost record per row: the drill-down behind every actual (SPEC §6). Ledger postings now;
-- accrued operational cost (timesheets, rentals, invoices) joins this union as it arrives.
with costs as (
    select * from {{ ref('int_actual_costs__gl') }}
)
select
    c.source || ':' || c.source_id as cost_id,
    c.source,
    c.source_id,
    c.cost_date,
    c.period,
    c.project_code,
    p.department_code,
    c.account_code,
    a.category,
    a.account_type,
    c.vendor,
    c.person_id,
    c.description,
    c.amount,
    c.currency,
    fx.rate_to_base as fx_rate,
    {{ to_base_currency('c.amount', 'fx.rate_to_base') }} as amount_base,
    c.status,
    c.source_ref,
    c.load_id
from costs as c
left join {{ ref('stg_projects') }} as p on c.project_code = p.project_code
left join {{ ref('stg_accounts') }} as a on c.account_code = a.account_code
left join {{ ref('int_fx_rates') }} as fx
    on c.currency = fx.currency and c.period >= fx.valid_from and (fx.valid_to is null or c.period < fx.valid_to)
