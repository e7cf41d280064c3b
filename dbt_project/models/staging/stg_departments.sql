select department_code, department_name, owner_email, _load_id as load_id
from ({{ deduplicated('departments', ['department_code']) }}) as d
