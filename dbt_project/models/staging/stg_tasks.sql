select
    task_id, project_code, department_code, task_name, owner_person_id, priority, estimate_hours,
    start_date, due_date, created_at, _load_id as load_id
from ({{ deduplicated('tasks', ['task_id']) }}) as t
