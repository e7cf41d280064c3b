select
    {{ period_to_date('period') }} as period, project_code, account_code, root_cause, persistence, explanation,
    corrective_action, author, written_at, _load_id as load_id
from ({{ deduplicated('variance_commentary', ['period', 'project_code', 'account_code', 'written_at']) }}) as c
