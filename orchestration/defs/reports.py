"""Reports for producers and finance, written from the published warehouse after each publication."""

from dagster import AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.publish import PUBLISHED
from orchestration.defs.resources import StudioSettings
from orchestration.lib.reforecast import write_reforecast_draft
from orchestration.lib.report_render import write_publication_reports


@asset(
    key=AssetKey(["reports", "studio_budget_vs_actual"]),
    group_name="publish",
    deps=[PUBLISHED],
    description=(
        "The studio budget-vs-actual report (text and CSV) and the HTML pages (studio report with charts, production, "
        "one cost report per active project, an index linking them) from the published warehouse; the reports "
        "`studio-budget report` wrote before, written again from it."
    ),
)
def studio_report(settings: StudioSettings) -> MaterializeResult:
    paths = write_publication_reports(settings.layout.published_db, settings.layout.reports)
    return MaterializeResult(metadata={"files": MetadataValue.json([str(p) for p in paths])})


@asset(
    key=AssetKey(["reports", "budgets_reforecast_draft"]),
    group_name="publish",
    deps=[PUBLISHED],
    description=(
        "The reforecast draft (SPEC §8): every active project line's actual + committed + ETC as a `budgets` "
        "landing file (status draft) that finance reviews and drops back into the landing folder."
    ),
)
def reforecast_draft(settings: StudioSettings) -> MaterializeResult:
    path = write_reforecast_draft(
        settings.layout.published_db,
        settings.layout.reports,
        settings.as_of_date,
        settings.studio_config.base_currency,
    )
    return MaterializeResult(metadata={"file": MetadataValue.path(str(path))})
