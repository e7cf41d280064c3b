select account_code, account_name, category, account_type, _load_id as load_id
from ({{ deduplicated('accounts', ['account_code']) }}) as a
