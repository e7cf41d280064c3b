-- Budget transfers that move final budgets (SPEC §6): requested up to as-of and valid under every transfer rule
-- (int_budget_transfers_checked); the others stay there and in mart_budget_transfers as the audit trail.
select
    transfer_id, requested_at, from_project_code, from_account_code, to_project_code, to_account_code,
    amount, currency, amount_base
from {{ ref('int_budget_transfers_checked') }}
where is_valid and cast(requested_at as date) <= {{ as_of_date() }}
