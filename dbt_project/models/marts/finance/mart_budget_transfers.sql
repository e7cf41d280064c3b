-- One row per budget transfer (SPEC §6): each transfer rule checked, the approval level required vs given,
-- valid, invalid or pending with the reasons. Every transfer stays here as the audit trail; only the valid ones
-- requested up to as-of change final budgets.
select
    transfer_id, requested_at, request_period, from_project_code, from_account_code, from_category,
    to_project_code, to_account_code, to_category, department_code, amount, currency, amount_base,
    justification, requested_by, approved_by, approver_role,
    to_budget_at_request, to_actual_at_request, passes_to_line_within_budget,
    from_budget_at_request, from_actual_at_request, from_utilization_pct, passes_from_line_utilised,
    is_labour_to_non_labour, department_fy_transfers, department_fy_budget, department_fy_transfers_pct,
    is_department_over_fy_limit, amount_required_role, required_role, passes_approval_level,
    status, is_valid, invalid_reasons, load_id
from {{ ref('int_budget_transfers_checked') }}
