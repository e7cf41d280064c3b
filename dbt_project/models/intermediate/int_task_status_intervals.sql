-- The status history of every task as intervals (SPEC §6 production): each status lasts until the task's
-- next event, the last one until the end of the as-of date.
{{ task_status_intervals(ref('stg_task_events')) }}
