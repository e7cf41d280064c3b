select
    entry_id, work_date, {{ month_start('work_date') }} as period, person_id, project_code, account_code, task_id,
    regular_hours, overtime_hours, hourly_rate,
    coalesce(overtime_multiplier, 1.5) as overtime_multiplier,  -- SPEC §4 default
    coalesce(fringe_pct, 0) as fringe_pct,
    _load_id as load_id
from ({{ deduplicated('timesheets', ['entry_id'], keep='first') }}) as t
