select project_code, milestone, planned_date, actual_date, _load_id as load_id
from ({{ deduplicated('milestones', ['project_code', 'milestone']) }}) as m
