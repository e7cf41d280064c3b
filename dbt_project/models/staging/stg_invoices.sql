select
    invoice_id, vendor, invoice_date, {{ month_start('invoice_date') }} as period, project_code, account_code,
    amount, currency, status, po_id, _load_id as load_id
from ({{ deduplicated('invoices', ['invoice_id']) }}) as i
