"""The Dagster code location: landing files → lake → dbt models → published warehouse → report.

`dagster dev` shows these definitions; `studio-budget run` materializes the same assets.
"""

import json
from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
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

from orchestration.ingest import LoadOutcome, ingest_source, register_lake_views
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.contract import SOURCES, Source
from orchestration.publish import publish
from orchestration.quality import RunContext, referenced_sources
from orchestration.report import write_reports
from orchestration.settings import StudioSettings
from orchestration.transform import dbt_executable, studio_dbt_models

REFRESH_JOB = "studio_refresh"
GATE_CHECK = "every_load_passed_its_suite"
REJECTIONS_CHECK = "no_file_rejected"


def ingest_asset(source: Source) -> AssetsDefinition:
    """One asset per landing source: loads its new files into the lake (SPEC §5), each checked by its suite."""
    key = AssetKey(["lake", source.name])
    # the sources this one's rules read load first, so that codes arriving in the same run count
    deps = [AssetKey(["lake", name]) for name in referenced_sources(source)]

    @asset(
        key=key,
        group_name="ingest",
        deps=deps,
        description=f"Accepted loads of `{source.name}*` landing files as immutable Parquet in lake/{source.name}/.",
        kinds={"parquet", "duckdb"},
        check_specs=[
            AssetCheckSpec(
                GATE_CHECK,
                asset=key,
                blocking=True,
                description=f"Every load in the lake passed the blocking rules of expectations/{source.name}.json",
            ),
            AssetCheckSpec(
                REJECTIONS_CHECK,
                asset=key,
                description="No landing file was rejected this run (rejected files are in quarantine/)",
            ),
        ],
    )
    def _ingest(context: AssetExecutionContext, settings: StudioSettings) -> Iterator:
        layout = settings.layout
        run = RunContext(settings.studio_config.base_currency, settings.as_of_date)
        outcomes = ingest_source(source, settings.landing, layout, context.run.run_id, run)
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
        yield from _check_results(key, outcomes)
        yield MaterializeResult(
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


def _check_results(key: AssetKey, outcomes: list[LoadOutcome]) -> Iterator[AssetCheckResult]:
    accepted = [o for o in outcomes if o.status == "accepted"]
    rejected = [o for o in outcomes if o.status == "rejected"]
    yield AssetCheckResult(
        asset_key=key,
        check_name=GATE_CHECK,
        passed=all(c.passed or not c.blocking for o in accepted for c in o.checks),
        metadata={
            "loads_accepted": len(accepted),
            "warnings": MetadataValue.json(
                [{"file": o.file_name, "warnings": o.warnings} for o in accepted if o.warnings]
            ),
        },
    )
    failed = [
        {
            "file": o.file_name,
            "failed_expectation": c.rule,
            "column": c.column,
            "bad_rows": c.bad_rows,
            "sample_rows": [{"row": e.get("row"), "value": e.get("value")} for e in c.examples[:20]],
        }
        for o in rejected
        for c in o.checks
        if not c.passed and c.blocking
    ]
    yield AssetCheckResult(
        asset_key=key,
        check_name=REJECTIONS_CHECK,
        passed=not rejected,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "files_rejected": len(rejected),
            "failures": MetadataValue.json(failed),
            "quarantine_reports": MetadataValue.json([str(o.quarantine_report) for o in rejected]),
        },
    )


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
