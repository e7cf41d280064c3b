"""The published warehouse: studio.duckdb and exports/*.parquet, replaced atomically once every mart is built."""

from collections.abc import Sequence

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from orchestration.defs.resources import StudioSettings
from orchestration.lib.config import in_process_memory_limit
from orchestration.lib.mappings import load_mappings, unread_landing_files, unread_landing_files_message
from orchestration.lib.spark_publish import stage_spark_build
from orchestration.lib.warehouse import publish

PUBLISHED = AssetKey(["published", "studio_duckdb"])


def published_warehouse(marts: Sequence[AssetKey]) -> AssetsDefinition:
    @asset(
        key=PUBLISHED,
        group_name="publish",
        deps=list(marts),
        description="studio.duckdb and exports/*.parquet for readers, replaced atomically after dbt build passed.",
        kinds={"duckdb", "parquet"},
    )
    def _publish(context: AssetExecutionContext, settings: StudioSettings) -> MaterializeResult:
        layout = settings.layout
        # a Spark build's tables are Parquet files in its catalog: staged into a DuckDB file, then published alike
        built = stage_spark_build(layout, layout.dbt_target / "manifest.json") if settings.engine == "spark" else None
        publication = publish(
            layout,
            context.run.run_id,
            settings.as_of_date.isoformat(),
            in_process_memory_limit(settings.studio_config.duckdb_memory_limit),
            build_db=built,
        )
        # a run Dagster starts (schedule, sensor, UI) names them too, where `studio-budget run` prints them
        mappings = load_mappings()
        unread = unread_landing_files(settings.landing, mappings) if settings.landing.is_dir() else []
        if unread:
            context.log.warning(f"NOT READ {unread_landing_files_message(unread, mappings)}")
        return MaterializeResult(
            metadata={
                "landing_files_not_read": MetadataValue.json(unread),
                "publication_id": publication.publication_id,
                "tables": publication.tables,
                "loads": publication.loads,
                "exports_written": publication.exports_written,
                "exports_reused": publication.exports_reused,
                "path": MetadataValue.path(str(settings.layout.published_db)),
            }
        )

    return _publish
