"""The documentation sites beside the published warehouse: dbt docs of the marts, GX Data Docs of every load.

Neither gates a publication: a site that cannot be refreshed keeps its previous pages, logs why, and fails its
`site_is_current` check (a warning), so a refresh that published still exits as one that published.
"""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import DbtCliResource
from dagster_dbt.errors import DagsterDbtError

from orchestration.defs.publish import PUBLISHED
from orchestration.defs.resources import StudioSettings
from orchestration.lib.contract import SOURCES
from orchestration.lib.dbt_docs import publish_dbt_docs
from orchestration.lib.gate.data_docs import build_index

DBT_DOCS = AssetKey(["docs", "dbt_docs"])
DATA_DOCS = AssetKey(["quality", "data_docs"])
SITE_CHECK = "site_is_current"


def _site(
    context: AssetExecutionContext, key: AssetKey, build: Callable[[], Path | None], failures: tuple[type, ...]
) -> Iterator:
    started = time.monotonic()
    try:
        page = build()
    except failures as error:
        message = " ".join(str(error).split())[:400]
        context.log.warning(f"{key.to_user_string()} not refreshed (its previous pages stay): {message}")
        yield MaterializeResult(metadata={"error": message})
        yield AssetCheckResult(
            check_name=SITE_CHECK, passed=False, severity=AssetCheckSeverity.WARN, metadata={"error": message}
        )
        return
    metadata: dict[str, object] = {"seconds": round(time.monotonic() - started, 2)}
    if page is not None:
        metadata["page"] = MetadataValue.path(str(page))
    yield MaterializeResult(metadata=metadata)
    yield AssetCheckResult(check_name=SITE_CHECK, passed=True)


@asset(
    key=DBT_DOCS,
    group_name="publish",
    deps=[PUBLISHED],
    description=(
        "docs/index.html: `dbt docs generate --static` of the published marts (every model, column, test and "
        "exposure, with the catalog of the tables), one self-contained page replaced by one rename."
    ),
    kinds={"dbt", "html"},
    check_specs=[AssetCheckSpec(SITE_CHECK, asset=DBT_DOCS, description="docs/index.html is this publication's")],
)
def dbt_docs(context: AssetExecutionContext, dbt: DbtCliResource, settings: StudioSettings) -> Iterator:
    yield from _site(
        context,
        DBT_DOCS,
        lambda: publish_dbt_docs(dbt, settings.layout, settings.dbt_vars()),
        (DagsterDbtError, RuntimeError, OSError),
    )


@asset(
    key=DATA_DOCS,
    group_name="ingest",
    deps=[AssetKey(["lake", name]) for name in SOURCES],
    description=(
        "quality/index.html: Great Expectations' Data Docs index of every load's validation, accepted or "
        "rejected (each load's page is written when its suite runs; rejected loads' reports link to theirs)."
    ),
    kinds={"html"},
    check_specs=[
        AssetCheckSpec(SITE_CHECK, asset=DATA_DOCS, description="quality/index.html lists every validation kept")
    ],
)
def data_docs(context: AssetExecutionContext, settings: StudioSettings) -> Iterator:
    yield from _site(context, DATA_DOCS, lambda: build_index(settings.layout), (OSError, ValueError))
