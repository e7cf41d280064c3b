select
    po_id, vendor, issued_date, project_code, account_code, amount, currency, status, _load_id as load_id
from ({{ deduplicated('purchase_orders', ['po_id']) }}) as p
