select
    txn_id, posted_date, {{ month_start('posted_date') }} as period, project_code, account_code,
    vendor, description, amount, currency, source_ref, _load_id as load_id, _row_number as source_row_number
from ({{ deduplicated('gl_actuals', ['txn_id'], keep='first') }}) as g
