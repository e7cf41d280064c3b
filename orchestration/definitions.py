"""The Dagster code location: landing files → lake → dbt models → published warehouse → reports.

It only assembles `defs/<domain>/`; `dagster dev` loads `defs` lazily, and `studio-budget run`
materializes the same `studio_assets()` in-process. Nothing here runs at import.
"""

from functools import cache

from dagster import (
    AssetsDefinition,
    AssetSelection,
    Definitions,
    define_asset_job,
    definitions,
    in_process_executor,
)

from orchestration.defs.automation import ScheduleSettings, daily_schedule, landing_sensor
from orchestration.defs.departments import department_email_job, department_email_schedule, department_files
from orchestration.defs.docs import data_docs, dbt_docs
from orchestration.defs.ingest import ingest_assets
from orchestration.defs.notify import alert_delivery
from orchestration.defs.publish import published_warehouse
from orchestration.defs.reports import reforecast_draft, studio_report
from orchestration.defs.resources import StudioSettings
from orchestration.defs.transform import dbt_models
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.dbt import StudioDbtCliResource, dbt_executable, prepare_manifest

REFRESH_JOB = "studio_refresh"


@cache
def studio_assets() -> tuple[AssetsDefinition, ...]:
    """Every asset of a refresh (the dbt manifest must be prepared first: `prepare_manifest()`)."""
    models = dbt_models()
    marts = [key for key in models.keys if key.path[0] == "marts"]
    return (
        *ingest_assets(),
        data_docs,
        models,
        published_warehouse(marts),
        department_files,
        dbt_docs,
        studio_report,
        reforecast_draft,
    )


def studio_resources(settings: StudioSettings) -> dict[str, object]:
    return {
        "settings": settings,
        "dbt": StudioDbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }


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
        # one writer at a time on a DuckDB file: steps run one after another
        executor=in_process_executor,
    )


@definitions
def defs() -> Definitions:
    """What `dagster dev` shows: settings from STUDIO_* environment variables (see the README)."""
    prepare_manifest()
    return studio_definitions(StudioSettings.from_environment(), ScheduleSettings.from_environment())
