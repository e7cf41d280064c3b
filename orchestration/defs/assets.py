"""Every asset of a refresh and the resources they need: what `studio-budget run` materializes in its own process
and what the code location (`orchestration/definitions.py`) shows."""

from functools import cache

from dagster import AssetsDefinition

from orchestration.defs.departments import department_files
from orchestration.defs.docs import data_docs, dbt_docs
from orchestration.defs.ingest import ingest_assets
from orchestration.defs.publish import published_warehouse
from orchestration.defs.reports import reforecast_draft, studio_report
from orchestration.defs.resources import StudioSettings
from orchestration.defs.transform import dbt_models
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.dbt import StudioDbtCliResource, dbt_executable


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
