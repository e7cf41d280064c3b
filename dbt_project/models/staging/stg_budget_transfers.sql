select
    transfer_id, requested_at, from_project_code, from_account_code, to_project_code, to_account_code,
    amount, currency, justification, requested_by, approved_by, approver_role, _load_id as load_id
from ({{ deduplicated('budget_transfers', ['transfer_id']) }}) as t
