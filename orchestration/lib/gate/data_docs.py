"""Great Expectations Data Docs for every load: GX's own site, with one page per load's validation.

The gate validates a load in parts (its column and table expectations on `landed`, its row rules on `offending`;
see `checks.py`), each part once per result format. The parts are merged here into one GX validation result per
load, the suite's (suite = the source, batch = the load id, data asset = the file name, run = the Dagster run),
kept in a GX validation results store (`_internal/gx_validation_results/`), and rendered by GX's own site builder
into `quality/validations/<source>/<run>/<run time>/<load id>.html`. `quality/index.html`, GX's index of every
validation, is rebuilt once per refresh (`build_index`), not per load.

Our `blocking` flag maps onto GX's severity: a blocking expectation is `critical`, a non-blocking one a `warning`.
The page's status is the load's verdict: it succeeded when no critical expectation failed (GX's own `success`
would also count a failed warning; its statistics still count every expectation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import great_expectations as gx
import jinja2
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from great_expectations.validator.validation_statistics import calc_validation_statistics

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.gate.gx_duckdb import INDEX_KEY

SITE_NAME = "quality"


class _CompiledTemplates(jinja2.BytecodeCache):
    """GX's page templates, compiled once per process. GX makes a new Jinja environment for every site it builds
    (one per load's page, one for the index), and Jinja compiles a template again in each: 2.9 s of the sample's
    full refresh (21 pages and the index), about 0.6 s of a day's (cProfile). Jinja checks each kept template
    against its source before it uses it (`jinja2.bccache.Bucket`)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


class _CompiledOnce:
    """A GX Jinja view whose environment keeps its compiled templates in `COMPILED_TEMPLATES`."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)  # type: ignore[call-arg]
        self.env.bytecode_cache = COMPILED_TEMPLATES  # type: ignore[attr-defined]


class PageView(_CompiledOnce, DefaultJinjaPageView):
    """GX's view of a validation page, with the templates compiled once per process."""


class IndexPageView(_CompiledOnce, DefaultJinjaIndexPageView):
    """GX's view of the site's index, with the templates compiled once per process."""


def _view(view: type) -> dict[str, str]:
    return {"module_name": view.__module__, "class_name": view.__name__}


def data_docs_context(layout: WarehouseLayout) -> AbstractDataContext:
    """An ephemeral GX context whose validation results store and Data Docs site are folders of the warehouse
    (nothing else of it is kept: the suites are the files in expectations/)."""
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults())
    config.stores[config.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(layout.validation_results),
        },
    }
    config.data_docs_sites = {
        SITE_NAME: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(layout.quality)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": _view(IndexPageView)},
            # validations only: the suites are data files in expectations/, profiling is not used
            "site_section_builders": {
                "expectations": "None",
                "profiling": "None",
                "validations": {"view": _view(PageView)},
            },
        }
    }
    return gx.get_context(project_config=config, mode="ephemeral")


def load_validation_result(
    source: str, file_name: str, load_id: str, run: RunIdentifier, parts: Sequence[ExpectationSuiteValidationResult]
) -> ExpectationSuiteValidationResult:
    """One load's validation result: the parts the gate ran, as one result of the source's suite."""
    results = []
    for part in parts:
        for result in part.results:
            config = result.expectation_config
            config.meta = {k: v for k, v in (config.meta or {}).items() if k != INDEX_KEY}
            config.severity = "critical" if config.meta.get("blocking", True) else "warning"
            # the page names each expectation in the suite's own words (the rule of the quarantine report)
            config.description = config.description or config.meta.get("rule")
            results.append(result)
    statistics = calc_validation_statistics(results)._asdict()
    statistics.pop("success")
    accepted = all(r.success or r.expectation_config.severity != "critical" for r in results)
    first = parts[0].meta if parts else {}
    batch = {"data_asset_name": file_name, "source": source, "load_id": load_id}
    return ExpectationSuiteValidationResult(
        success=accepted,
        results=results,
        suite_name=source,
        statistics=statistics,
        meta={
            "great_expectations_version": gx.__version__,
            "run_id": run.to_json_dict(),
            "batch_spec": batch,
            "batch_markers": first.get("batch_markers", {}),
            "active_batch_definition": {**first.get("active_batch_definition", {}), "data_asset_name": file_name},
        },
        batch_id=load_id,
    )


def write_load_page(
    layout: WarehouseLayout,
    source: str,
    file_name: str,
    load_id: str,
    run_id: str,
    parts: Sequence[ExpectationSuiteValidationResult],
) -> Path | None:
    """Keep the load's validation result and render its Data Docs page; the page's path (None if GX rendered
    nothing: it logs why)."""
    run = RunIdentifier(run_name=run_id or "ingest", run_time=datetime.now(UTC))
    key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=source), run, load_id)
    context = data_docs_context(layout)
    context.validation_results_store.set(key, load_validation_result(source, file_name, load_id, run, parts))
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=[key], build_index=False)
    return _path(_page_url(context, key))


def build_index(layout: WarehouseLayout) -> Path | None:
    """GX's index of every validation kept (`quality/index.html`, newest first) and the site's static files.

    A load page that is missing (a run killed while writing it) is rendered again from its kept result. GX
    renders every page when given no page to render, so with none missing the newest load's page is rendered
    again (from its kept result: the same page)."""
    context = data_docs_context(layout)
    kept = sorted(context.validation_results_store.list_keys(), key=lambda k: k.run_id.run_time)
    if not kept:
        return None
    missing = [k for k in kept if not _page_url(context, k)]
    urls = context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=missing or kept[-1:])
    return _path(urls.get(SITE_NAME))


def _page_url(context: AbstractDataContext, key: ValidationResultIdentifier) -> str | None:
    [site] = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME, only_if_exists=True)
    return site["site_url"]


def _path(url: str | None) -> Path | None:
    return Path(unquote(urlparse(url).path)) if url else None
