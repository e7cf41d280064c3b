select task_id, depends_on_task_id, _load_id as load_id
from ({{ deduplicated('task_dependencies', ['task_id', 'depends_on_task_id']) }}) as d
