"""Ingest assets: one per landing source, loading its new files through the quality gate into the lake."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.defs.resources import StudioSettings
from orchestration.lib.contract import SOURCES, Source
from orchestration.lib.gate.context import RunContext, referenced_sources
from orchestration.lib.lake import register_lake_views
from orchestration.lib.loads import LoadOutcome, ingest_source

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
        config = settings.studio_config
        run = RunContext(config.base_currency, settings.as_of_date, config.invoice_po_tolerance_pct)
        # printed: `studio-budget run` shows the run's output on a terminal's status line (SPEC §3: rows loaded)
        outcomes = ingest_source(
            source, settings.landing, layout, context.run.run_id, run, progress=lambda line: print(line, flush=True)
        )
        register_lake_views(layout, [source])
        for outcome in outcomes:
            if outcome.status == "rejected":
                context.log.warning(f"rejected {outcome.file_name}: {'; '.join(outcome.reasons)}")
            elif outcome.status == "accepted":
                context.log.info(f"loaded {outcome.file_name}: {outcome.rows} rows as load {outcome.load_id}")
        rejected = [
            {
                "file": o.file_name,
                "reasons": o.reasons,
                "report": str(o.quarantine_report),
                "data_docs": str(o.data_docs) if o.data_docs else None,
            }
            for o in outcomes
            if o.status == "rejected"
        ]
        yield from _check_results(key, outcomes)
        yield MaterializeResult(
            metadata={
                "files_accepted": sum(o.status == "accepted" for o in outcomes),
                "files_loaded": MetadataValue.json([o.file_name for o in outcomes if o.status == "accepted"]),
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


def ingest_assets() -> list[AssetsDefinition]:
    return [ingest_asset(source) for source in SOURCES.values()]
