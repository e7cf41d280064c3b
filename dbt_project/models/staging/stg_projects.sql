select
    project_code, project_name, department_code, client, project_type, status,
    start_date, end_date, coalesce(contract_value, 0) as contract_value, currency,
    _load_id as load_id
from ({{ deduplicated('projects', ['project_code']) }}) as p
