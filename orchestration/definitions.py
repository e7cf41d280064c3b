"""The Dagster code location: landing files → lake → dbt models → published warehouse → reports.

It only assembles `defs/<domain>/`; `dagster dev` loads `defs` lazily, and `studio-budget run`
materializes the same `studio_assets()` in-process. Nothing here runs at import.
"""

from dagster import AssetSelection, Definitions, define_asset_job, definitions

from orchestration.defs.assets import studio_assets, studio_resources
from orchestration.defs.automation import ScheduleSettings, daily_schedule, landing_sensor
from orchestration.defs.departments import department_email_job, department_email_schedule
from orchestration.defs.guard import REFRESH_JOB, guarded_executor
from orchestration.defs.notify import alert_delivery
from orchestration.defs.resources import StudioSettings
from orchestration.lib.dbt import prepare_manifest

__all__ = ["REFRESH_JOB", "defs", "studio_assets", "studio_definitions", "studio_resources"]


def studio_definitions(settings: StudioSettings, schedule: ScheduleSettings | None = None) -> Definitions:
    refresh_job = define_asset_job(
        REFRESH_JOB, selection=AssetSelection.all(), description="Ingest, build, publish, report."
    )
    config = settings.studio_config
    email_job = department_email_job(config.departments)
    return Definitions(
        assets=studio_assets(),
        jobs=[refresh_job, email_job],
        schedules=[
            daily_schedule(REFRESH_JOB, schedule or ScheduleSettings()),
            department_email_schedule(config.departments, email_job, enabled=config.smtp is not None),
        ],
        sensors=[alert_delivery, landing_sensor(REFRESH_JOB)],
        resources=studio_resources(settings),
        # one writer at a time on a DuckDB file: steps run one after another, each refresh holding the warehouse's
        # refresh lock and publishing what its plan needs (defs/guard.py)
        executor=guarded_executor(settings),
    )


@definitions
def defs() -> Definitions:
    """What `dagster dev` shows: settings from STUDIO_* environment variables (see the README)."""
    prepare_manifest()
    return studio_definitions(StudioSettings.from_environment(), ScheduleSettings.from_environment())
