select currency, {{ period_to_date('period') }} as period, rate_to_base, _load_id as load_id
from ({{ deduplicated('fx_rates', ['currency', 'period']) }}) as r
