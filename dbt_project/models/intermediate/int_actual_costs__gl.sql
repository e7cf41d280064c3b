-- Posted ledger cost: one row per GL line up to the as-of date (SPEC §4 actuals). A view: the ledger is
-- materialised once, incrementally, in stg_gl_actuals, and once more in fct_actual_costs.
{{ config(materialized='view') }}

select
    'gl' as source,
    txn_id as source_id,
    posted_date as cost_date,
    period,
    project_code,
    account_code,
    vendor,
    cast(null as string) as person_id,
    description,
    amount,
    currency,
    'posted' as status,
    source_ref,
    load_id
from {{ ref('stg_gl_actuals') }}
where posted_date <= {{ as_of_date() }}
