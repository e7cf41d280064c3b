select
    project_code, account_code, estimated_on, etc_amount, currency, note, _load_id as load_id
from ({{ deduplicated('estimates_to_complete', ['project_code', 'account_code', 'estimated_on']) }}) as e
