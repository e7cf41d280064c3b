-- The report's transfers section (SPEC §8, §6): the transfers requested up to as-of that do not move a budget,
-- pending (no approver yet) first, then invalid with the reasons; newest first within each.
select
    transfer_id,
    cast(requested_at as date) as requested_on,
    status,
    from_project_code,
    from_account_code,
    to_project_code,
    to_account_code,
    amount_base,
    approver_role,
    required_role,
    invalid_reasons,
    row_number() over (
        order by case status when 'pending' then 1 else 2 end, requested_at desc, transfer_id
    ) as report_order
from {{ ref('mart_budget_transfers') }}
where status in ('pending', 'invalid')
    and cast(requested_at as date) <= {{ as_of_date() }}
