"""Reports for producers and finance, written from the published warehouse after each publication."""

from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.publish import PUBLISHED
from orchestration.defs.resources import StudioSettings
from orchestration.lib.report import write_reports


@asset(
    key=AssetKey(["reports", "studio_budget_vs_actual"]),
    group_name="publish",
    deps=[PUBLISHED],
    description="The studio budget-vs-actual report (text and CSV) from the published warehouse.",
)
def studio_report(settings: StudioSettings) -> MaterializeResult:
    paths = write_reports(settings.layout.published_db, settings.layout.reports)
    return MaterializeResult(metadata={"files": MetadataValue.json([str(p) for p in paths])})
