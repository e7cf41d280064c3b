"""Great Expectations Data Docs for every load: GX's own site, with one page per load's validation.

The gate validates a load in parts (its column and table expectations on `landed`, its row rules on `offending`;
see `checks.py`), each part once per result format. The parts are merged here into one GX validation result per
load, the suite's (suite = the source, batch = the load id, data asset = the file name, run = the Dagster run),
kept in a GX validation results store (`_internal/gx_validation_results/`), and rendered by GX's own site builder
into `quality/validations/<source>/<run>/<run time>/<load id>.html`. `quality/index.html`, GX's index of every
validation, is rebuilt once per refresh (`build_index`), not per load; what it shows of each validation is kept in
`_internal/gx_index_links.json` (`IndexBuilder`), so that a refresh does not read every validation kept again.

Our `blocking` flag maps onto GX's severity: a blocking expectation is `critical`, a non-blocking one a `warning`.
The page's status is the load's verdict: it succeeded when no critical expectation failed (GX's own `success`
would also count a failed warning; its statistics still count every expectation).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
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
from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from great_expectations.validator.validation_statistics import calc_validation_statistics

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.gate.gx_duckdb import INDEX_KEY

SITE_NAME = "quality"
INDEX_LINKS = "gx_index_links.json"  # in _internal: what the index shows of each validation kept (`IndexBuilder`)
LINK_META = ("batch_kwargs", "batch_spec", "active_batch_definition")  # what GX's index reads of a result's meta


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


class _KnownResults:
    """A GX context whose `get_validation_result` answers from what the index shows of each validation (`known`,
    by its key) when it is known, and otherwise reads the validation and adds it to `known`: its success and the
    parts of its meta that name its batch (`LINK_META`). Everything else is the context's own."""

    def __init__(self, context: AbstractDataContext, known: dict[str, dict[str, Any]]) -> None:
        self._context = context
        self.known = known

    def __getattr__(self, name: str) -> object:
        return getattr(self._context, name)

    def get_validation_result(
        self, expectation_suite_name: str, run_id: RunIdentifier, batch_identifier: str, **kwargs: Any
    ) -> ExpectationSuiteValidationResult | dict:
        key = _link_key(expectation_suite_name, run_id, batch_identifier)
        if key not in self.known:
            result = self._context.get_validation_result(
                expectation_suite_name, run_id=run_id, batch_identifier=batch_identifier, **kwargs
            )
            if not isinstance(result, ExpectationSuiteValidationResult):
                return result  # none kept under that key: GX's index skips it
            meta = {name: result.meta[name] for name in LINK_META if name in result.meta}
            self.known[key] = {"success": bool(result.success), "meta": json.loads(json.dumps(meta, default=str))}
        link = self.known[key]
        return ExpectationSuiteValidationResult(
            success=link["success"], results=[], suite_name=expectation_suite_name, meta=link["meta"]
        )


class IndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, told what the index shows of each kept validation (`_KnownResults`) by a file of the
    warehouse (`links_file`, JSON), not by the validation itself: GX reads every validation kept whole, through
    its schema, at every build (about 4 ms each, a cost that would grow with every load). The file keeps, for
    every validation kept, what the index shows of it and the size and modification time of its result file
    (under `results_dir`); a validation not in it, or whose result file changed since, is read as GX reads it.
    The file names the GX version and the meta it keeps (`_links_version`): another one is not read."""

    # GX hands the builder only the arguments its signature names (`instantiate_class_from_config`): GX's own
    # builder's, and the two of this one
    def __init__(
        self,
        name: str,
        site_name: str,
        data_context: AbstractDataContext,
        target_store: Any,
        site_section_builders_config: Any,
        custom_styles_directory: str | None = None,
        custom_views_directory: str | None = None,
        show_how_to_buttons: bool = True,
        validation_results_limit: int | None = None,
        renderer: dict | None = None,
        view: dict | None = None,
        data_context_id: str | None = None,
        source_stores: dict | None = None,
        links_file: str | None = None,
        results_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name,
            site_name,
            data_context,
            target_store,
            site_section_builders_config,
            custom_styles_directory=custom_styles_directory,
            custom_views_directory=custom_views_directory,
            show_how_to_buttons=show_how_to_buttons,
            validation_results_limit=validation_results_limit,
            renderer=renderer,
            view=view,
            data_context_id=data_context_id,
            source_stores=source_stores,
            **kwargs,
        )
        # both, or GX's own reading of every validation
        self.links_file = Path(links_file) if links_file and results_dir else None
        self.results_dir = Path(results_dir) if links_file and results_dir else None

    def _add_validations_to_index_links(
        self, index_links_dict: Any, validation_and_profiling_result_site_keys: list[ValidationResultIdentifier]
    ) -> None:
        if self.links_file is None or self.results_dir is None:
            super()._add_validations_to_index_links(index_links_dict, validation_and_profiling_result_site_keys)
            return
        files = {
            _key_of(key): _file_stamp(self.results_dir, key, ".json")
            for key in validation_and_profiling_result_site_keys
        }
        known = {key: link for key, link in _read_links(self.links_file).items() if link["file"] == files.get(key)}
        context, reading = self.data_context, _KnownResults(self.data_context, dict(known))
        self.data_context = reading  # type: ignore[assignment]  # what GX's loop reads the validations through
        try:
            super()._add_validations_to_index_links(index_links_dict, validation_and_profiling_result_site_keys)
        finally:
            self.data_context = context
        links = {key: {**link, "file": files[key]} for key, link in reading.known.items() if key in files}
        incoming = self.links_file.with_name(f".{self.links_file.name}.incoming")
        incoming.write_text(
            json.dumps({"version": _links_version(), "links": links}, indent=1, sort_keys=True), encoding="utf-8"
        )
        os.replace(incoming, self.links_file)


def _link_key(suite: str, run_id: RunIdentifier, batch_identifier: str) -> str:
    """A validation's key in the index's links file (`IndexBuilder`)."""
    run_time = run_id.run_time.isoformat() if run_id.run_time else ""
    return json.dumps([suite, run_id.run_name, run_time, batch_identifier])


def _key_of(key: ValidationResultIdentifier) -> str:
    return _link_key(key.expectation_suite_identifier.name, key.run_id, key.batch_identifier)


def _store_path(folder: Path, key: ValidationResultIdentifier, suffix: str) -> Path:
    """Where GX's filesystem store keeps what it keeps under `key` (a validation result, `.json`; its page, `.html`
    under the site's `validations/`): the key's parts as folders, the last one the file's name."""
    *folders, name = key.to_tuple()
    return folder.joinpath(*folders, f"{name}{suffix}")


def _file_stamp(folder: Path, key: ValidationResultIdentifier, suffix: str) -> list[int] | None:
    """The size and modification time of what the store keeps under `key`; None when there is no such file."""
    try:
        stat = _store_path(folder, key, suffix).stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _links_version() -> list[str]:
    return [gx.__version__, *LINK_META]


def _read_links(path: Path) -> dict[str, dict[str, Any]]:
    """The index's links file: each well-formed link (a success, a meta and its result file's stamp) if the file is
    of this GX version and meta; none when it is missing, unreadable or of another (the index then reads every
    validation)."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("version") != _links_version() or not isinstance(kept.get("links"), dict):
        return {}
    return {
        key: link
        for key, link in kept["links"].items()
        if isinstance(link, dict)
        and isinstance(link.get("success"), bool)
        and isinstance(link.get("meta"), dict)
        and isinstance(link.get("file"), list)
    }


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
            "site_index_builder": {
                **_view(IndexBuilder),
                "view": _view(IndexPageView),
                "links_file": str(layout.internal / INDEX_LINKS),
                "results_dir": str(layout.validation_results),
            },
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

    A load page that is missing (a run killed while writing it, a page deleted) is rendered again from its kept
    result; whether it is there is one look at its file (`_store_path`), not GX's own look-up, which builds the
    site anew for every page. GX renders every page when given no page to render, so with none missing the newest
    load's page is rendered again (from its kept result: the same page)."""
    context = data_docs_context(layout)
    kept = sorted(context.validation_results_store.list_keys(), key=lambda k: k.run_id.run_time)
    if not kept:
        return None
    missing = [k for k in kept if not _store_path(layout.quality / "validations", k, ".html").is_file()]
    urls = context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=missing or kept[-1:])
    return _path(urls.get(SITE_NAME))


def _page_url(context: AbstractDataContext, key: ValidationResultIdentifier) -> str | None:
    [site] = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME, only_if_exists=True)
    return site["site_url"]


def _path(url: str | None) -> Path | None:
    return Path(unquote(urlparse(url).path)) if url else None
