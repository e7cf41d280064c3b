"""When a refresh runs by itself: a daily schedule, and a sensor that starts one when a landing file arrives.

Both are stopped until turned on (Dagster's default): in `dagster dev`, on the Automation page, or with
`dagster schedule start` / `dagster sensor start` (see the README). The schedule's cron and timezone come from
STUDIO_SCHEDULE_CRON and STUDIO_SCHEDULE_TIMEZONE, like the other STUDIO_* settings.

Both plan the refresh as `studio-budget run` does (`planned_refresh`): nothing is requested when nothing is new
(the published warehouse is the clean publication of these very inputs) or while another refresh runs, and a
request names the assets its new files and as-of date reach, or every asset. The run checks that plan again
under the refresh lock before its first step (`defs/guard.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    schedule,
    sensor,
)

from orchestration.defs.plan import plan_refresh, resolved_selection, run_config, settings_inputs
from orchestration.defs.resources import StudioSettings
from orchestration.lib.freshness import is_current
from orchestration.lib.loads import source_for_landing_file
from orchestration.lib.mappings import load_mappings
from orchestration.lib.refresh_lock import RefreshRunning, refresh_lock

DAILY_SCHEDULE = "daily_refresh"
LANDING_SENSOR = "landing_files"
DEFAULT_CRON = "0 6 * * *"
DEFAULT_TIMEZONE = "UTC"
# a run counts as running from the moment it is queued until it ends
RUNNING = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class ScheduleSettings:
    """The daily refresh's time: a cron expression in a timezone (IANA name)."""

    cron: str = DEFAULT_CRON
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> ScheduleSettings:
        environ = dict(os.environ if environ is None else environ)
        return cls(
            environ.get("STUDIO_SCHEDULE_CRON") or DEFAULT_CRON,
            environ.get("STUDIO_SCHEDULE_TIMEZONE") or DEFAULT_TIMEZONE,
        )


def daily_schedule(job_name: str, timing: ScheduleSettings) -> ScheduleDefinition:
    @schedule(
        name=DAILY_SCHEDULE,
        job_name=job_name,
        cron_schedule=timing.cron,
        execution_timezone=timing.timezone,
        description=f"Refresh the warehouse at `{timing.cron}` ({timing.timezone}): STUDIO_SCHEDULE_CRON, "
        "STUDIO_SCHEDULE_TIMEZONE. Skipped when nothing is new or another refresh runs.",
    )
    def _daily(context: ScheduleEvaluationContext, settings: StudioSettings) -> RunRequest | SkipReason:
        request, _ = planned_refresh(settings, None, {"studio/trigger": "schedule"})
        return request

    return _daily


def planned_refresh(
    settings: StudioSettings, run_key: str | None, tags: dict[str, str]
) -> tuple[RunRequest | SkipReason, bool]:
    """A refresh planned now, as `studio-budget run` plans one (`defs/plan.py`), or why none is needed;
    and whether to ask again soon (True while another refresh holds the warehouse)."""
    settings = settings.as_of_now()
    layout = settings.layout
    if layout.internal.is_dir():
        try:
            with refresh_lock(layout):
                pass
        except RefreshRunning as error:
            return SkipReason(f"{error}: the refresh is planned once it has ended"), True
    inputs = settings_inputs(settings)
    if is_current(layout, inputs):
        return SkipReason(
            f"nothing new: no new or changed landing file, the same as-of ({settings.as_of}), config and code as the "
            f"last publication; {layout.published_db} is current"
        ), False
    scope = plan_refresh(settings, inputs=inputs)
    keys = resolved_selection(scope, settings)
    request = RunRequest(
        run_key=run_key,
        asset_selection=None if keys is None else sorted(keys, key=lambda key: key.to_user_string()),
        run_config=run_config(scoped=keys is not None),
        tags={**tags, "studio/scope": scope.describe()[:200]},
    )
    return request, False


def landing_snapshot(landing: Path) -> dict[str, list[int]]:
    """The landing files a refresh would read (by source prefix or mapping), each as [size, mtime in ns]."""
    if not landing.is_dir():
        return {}
    mappings = load_mappings()
    snapshot = {}
    for path in sorted(landing.iterdir()):
        if path.is_file() and source_for_landing_file(path.name, mappings) is not None:
            stat = path.stat()
            snapshot[path.name] = [stat.st_size, stat.st_mtime_ns]
    return snapshot


def landing_sensor(job_name: str) -> SensorDefinition:
    @sensor(
        name=LANDING_SENSOR,
        job_name=job_name,
        minimum_interval_seconds=60,
        description="Start a refresh when a landing file is new or changed (its name, size or modification time); "
        "one refresh at a time.",
    )
    def _landing_files(context: SensorEvaluationContext, settings: StudioSettings) -> RunRequest | SkipReason:
        seen: dict[str, list[int]] = json.loads(context.cursor) if context.cursor else {}
        current = landing_snapshot(settings.landing)
        arrived = sorted(name for name, state in current.items() if seen.get(name) != state)
        if not arrived:
            return SkipReason(f"no new or changed file in {settings.landing}")
        running = context.instance.get_run_records(RunsFilter(job_name=job_name, statuses=RUNNING), limit=1)
        if running:
            # the cursor stays: the files are picked up once that refresh has ended
            return SkipReason(f"{len(arrived)} new or changed file(s) wait for the running refresh to end")
        state = json.dumps(current, sort_keys=True)
        request, again = planned_refresh(
            settings,
            hashlib.sha256(state.encode("utf-8")).hexdigest()[:32],
            {"studio/trigger": "sensor", "studio/landing_files": ", ".join(arrived)[:200]},
        )
        if not again:  # files seen while another refresh runs are planned once it has ended
            context.update_cursor(state)
        return request

    return _landing_files
