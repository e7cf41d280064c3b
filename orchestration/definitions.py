"""The Dagster code location: landing files → lake → dbt models → published warehouse → report.

`dagster dev` shows these definitions; `studio-budget run` materializes the same assets.
"""

import json

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
    in_process_executor,
)
from dagster_dbt import DbtCliResource

from orchestration.config import DBT_PROJECT_DIR
from orchestration.ingest import ingest_source, register_lake_views
from orchestration.publish import publish
from orchestration.report import write_reports
from orchestration.settings import StudioSettings
from orchestration.sources import SOURCES, Source
from orchestration.transform import dbt_executable, studio_dbt_models

REFERENCE_KEYS = [AssetKey(["lake", s.name]) for s in SOURCES.values() if s.kind == "reference"]
REFRESH_JOB = "studio_refresh"


def ingest_asset(source: Source) -> AssetsDefinition:
    """One asset per landing source: loads its new files into the lake (SPEC §5)."""
    # reference data loads first, so that other sources are checked against it in the same run
    deps = [] if source.kind == "reference" else REFERENCE_KEYS

    @asset(
        key=AssetKey(["lake", source.name]),
        group_name="ingest",
        deps=deps,
        description=f"Accepted loads of `{source.name}*` landing files as immutable Parquet in lake/{source.name}/.",
        kinds={"parquet", "duckdb"},
    )
    def _ingest(context: AssetExecutionContext, settings: StudioSettings) -> MaterializeResult:
        layout = settings.layout
        outcomes = ingest_source(source, settings.landing, layout, context.run.run_id)
        register_lake_views(layout, [source])
        for outcome in outcomes:
            if outcome.status == "rejected":
                context.log.warning(f"rejected {outcome.file_name}: {'; '.join(outcome.reasons)}")
            elif outcome.status == "accepted":
                context.log.info(f"loaded {outcome.file_name}: {outcome.rows} rows as load {outcome.load_id}")
        rejected = [
            {"file": o.file_name, "reasons": o.reasons, "report": str(o.quarantine_report)}
            for o in outcomes
            if o.status == "rejected"
        ]
        return MaterializeResult(
            metadata={
                "files_accepted": sum(o.status == "accepted" for o in outcomes),
                "files_skipped": sum(o.status == "skipped" for o in outcomes),
                "files_rejected": len(rejected),
                "rows_loaded": sum(o.rows for o in outcomes if o.status == "accepted"),
                "rejected": MetadataValue.json(rejected),
                "warnings": MetadataValue.json(
                    [{"file": o.file_name, "warnings": o.warnings} for o in outcomes if o.warnings]
                ),
            }
        )

    return _ingest


ingest_assets = [ingest_asset(source) for source in SOURCES.values()]
MART_KEYS = [key for key in studio_dbt_models.keys if key.path[0] == "marts"]


@asset(
    key=AssetKey(["published", "studio_duckdb"]),
    group_name="publish",
    deps=MART_KEYS,
    description="studio.duckdb and exports/*.parquet for readers, replaced atomically after dbt build passed.",
    kinds={"duckdb", "parquet"},
)
def published_warehouse(context: AssetExecutionContext, settings: StudioSettings) -> MaterializeResult:
    publication = publish(settings.layout, context.run.run_id, settings.as_of_date.isoformat())
    return MaterializeResult(
        metadata={
            "publication_id": publication.publication_id,
            "tables": publication.tables,
            "loads": publication.loads,
            "path": MetadataValue.path(str(settings.layout.published_db)),
        }
    )


@asset(
    key=AssetKey(["reports", "studio_budget_vs_actual"]),
    group_name="publish",
    deps=[published_warehouse.key],
    description="The studio budget-vs-actual report (text and CSV) from the published warehouse.",
)
def studio_report(settings: StudioSettings) -> MaterializeResult:
    paths = write_reports(settings.layout.published_db, settings.layout.reports)
    return MaterializeResult(metadata={"files": MetadataValue.json([str(p) for p in paths])})


all_assets = [*ingest_assets, studio_dbt_models, published_warehouse, studio_report]
refresh_job = define_asset_job(
    REFRESH_JOB, selection=AssetSelection.all(), description="Ingest, build, publish, report."
)


def resources(settings: StudioSettings) -> dict[str, object]:
    return {
        "settings": settings,
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
        ),
    }


defs = Definitions(
    assets=all_assets,
    jobs=[refresh_job],
    resources=resources(StudioSettings.from_environment()),
    # one writer at a time on a DuckDB file: steps run one after another
    executor=in_process_executor,
)


def rejected_files(metadata_by_asset: dict[str, dict]) -> list[dict]:
    """The rejected landing files recorded in ingest assets' metadata."""
    found = []
    for metadata in metadata_by_asset.values():
        value = metadata.get("rejected")
        data = getattr(value, "data", value)
        if isinstance(data, str):
            data = json.loads(data)
        found.extend(data or [])
    return found
