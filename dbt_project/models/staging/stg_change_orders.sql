select
    change_order_id, project_code, account_code, issued_date, status, revenue_amount, budget_amount,
    currency, description, _load_id as load_id
from ({{ deduplicated('change_orders', ['change_order_id']) }}) as c
