select task_id, status, changed_at, _load_id as load_id
from ({{ deduplicated('task_events', ['task_id', 'status', 'changed_at'], keep='first') }}) as e
