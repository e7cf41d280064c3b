select
    person_id, person_name, department_code, worker_type, weekly_capacity_hours, hourly_rate, currency,
    _load_id as load_id
from ({{ deduplicated('people', ['person_id']) }}) as p
