"""When a refresh runs by itself: a daily schedule, and a sensor that starts one when a landing file arrives.

Both are stopped until turned on (Dagster's default): in `dagster dev`, on the Automation page, or with
`dagster schedule start` / `dagster sensor start` (see the README). The schedule's cron and timezone come from
STUDIO_SCHEDULE_CRON and STUDIO_SCHEDULE_TIMEZONE, like the other STUDIO_* settings.
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
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.defs.resources import StudioSettings
from orchestration.lib.loads import source_for_landing_file
from orchestration.lib.mappings import load_mappings

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


def daily_schedule(job_name: str, settings: ScheduleSettings) -> ScheduleDefinition:
    return ScheduleDefinition(
        name=DAILY_SCHEDULE,
        job_name=job_name,
        cron_schedule=settings.cron,
        execution_timezone=settings.timezone,
        description=f"Refresh the warehouse at `{settings.cron}` ({settings.timezone}): STUDIO_SCHEDULE_CRON, "
        "STUDIO_SCHEDULE_TIMEZONE.",
    )


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
        context.update_cursor(state)
        return RunRequest(
            run_key=hashlib.sha256(state.encode("utf-8")).hexdigest()[:32],
            tags={"studio/landing_files": ", ".join(arrived)[:200]},
        )

    return _landing_files
