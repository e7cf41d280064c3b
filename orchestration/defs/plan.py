"""How a refresh is planned, whoever starts it: `studio-budget run` (`orchestration/refresh.py`), or Dagster's
schedule, sensor and run executor (`defs/automation.py`, `defs/guard.py`): what the run materializes (`lib/scope.py`)
as asset keys and run config, and whether what it published is a clean publication to plan the next run on."""

from __future__ import annotations

import json
from pathlib import Path

from dagster import AssetKey, AssetSelection, Definitions

from orchestration.defs.assets import studio_assets, studio_resources
from orchestration.defs.resources import StudioSettings
from orchestration.defs.transform import DBT_OP
from orchestration.lib.dbt import (
    REFERENCE_SOURCES_OF_POSTINGS,
    StudioDbtTranslator,
    dbt_project,
    incremental_inputs,
    incremental_rebuild_reasons,
    prepare_manifest,
    read_incremental_state,
)
from orchestration.lib.freshness import RunInputs, lake_loads, record_clean_publication, run_inputs
from orchestration.lib.loads import source_for_landing_file
from orchestration.lib.mappings import load_mappings
from orchestration.lib.scope import RefreshScope, models_reading, publication_base, read_manifest, refresh_scope

# a failed step is told by `refresh` (its summary on stderr, the whole error in the run log), not by Dagster's
# console logger, which would print its stack on stderr once per event
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_config(full_refresh: bool = False, scoped: bool = False) -> dict:
    """A refresh's run config: quiet console logs, whether dbt rebuilds from the lake, and whether the run builds
    only the models its scope names (`plan_refresh`)."""
    return {**QUIET_LOGS, "ops": {DBT_OP: {"config": {"full_refresh": full_refresh, "scoped": scoped}}}}


def current_base(settings: StudioSettings) -> dict:
    """The warehouse as a publication now would be made from (`scope.publication_base`)."""
    layout = settings.layout
    loads = lake_loads(layout)
    return publication_base(settings.engine, read_incremental_state(layout, settings.engine), loads)


def settings_inputs(settings: StudioSettings) -> RunInputs:
    """The inputs of a run with these settings (`freshness.run_inputs`)."""
    config_file = Path(settings.config_file) if settings.config_file else None
    return run_inputs(settings.landing, settings.layout, settings.as_of, config_file)


def plan_refresh(settings: StudioSettings, full_refresh: bool = False, inputs: RunInputs | None = None) -> RefreshScope:
    """What this run materializes (`lib/scope.py`): every asset, or what the new landing files and as-of reach."""
    layout = settings.layout
    inputs = inputs or settings_inputs(settings)
    mappings = load_mappings()

    def source_of(file_name: str) -> str | None:
        source = source_for_landing_file(file_name, mappings)
        return source.name if source else None

    base = current_base(settings)
    reasons = []
    if settings.engine == "duckdb" and base["build_state"] is not None:
        reasons = incremental_rebuild_reasons(base["build_state"], incremental_inputs(layout, settings.dbt_vars()))
    return refresh_scope(layout, inputs, source_of, base, REFERENCE_SOURCES_OF_POSTINGS, reasons, full_refresh)


def scope_selection(scope: RefreshScope) -> AssetSelection | None:
    """The assets a scope materializes: the new files' ingest assets and the models that read them, the load ledger
    or the as-of date, and everything downstream of those (None: every asset)."""
    if scope.everything:
        return None
    translator = StudioDbtTranslator()
    models = models_reading(read_manifest(dbt_project.manifest_path), scope.sources, scope.as_of_moved)
    keys = [AssetKey(["lake", source]) for source in scope.sources]
    keys += [translator.get_asset_key(node) for node in models]
    return AssetSelection.assets(*keys).downstream()


_graphs: dict[str, object] = {}


def _asset_graph(settings: StudioSettings) -> object:
    """The refresh's asset graph (the same whatever the settings; resolved once)."""
    if "graph" not in _graphs:
        definitions = Definitions(assets=studio_assets(), resources=studio_resources(settings))
        _graphs["graph"] = definitions.resolve_asset_graph()
    return _graphs["graph"]


def resolved_selection(scope: RefreshScope, settings: StudioSettings) -> set[AssetKey] | None:
    """The asset keys a scope materializes (None: every asset), for a run request."""
    if scope.everything:
        return None
    prepare_manifest()  # the scope and the graph read the dbt project's manifest
    return set(scope_selection(scope).resolve(_asset_graph(settings)))


SITES = ("docs/dbt_docs", "quality/data_docs")


def rejections(metadata: dict[str, dict]) -> list[dict]:
    """The files a run's ingest assets rejected, from their materializations' metadata (by asset key)."""
    rejected: list[dict] = []
    for key, values in metadata.items():
        if key.startswith("lake/") and "rejected" in values:
            rejected.extend(_json_entry(values["rejected"]))
    return rejected


def load_warnings(metadata: dict[str, dict]) -> list[dict]:
    """The warnings (non-blocking rules that failed) of the files a run's ingest assets loaded, as
    {"file", "warnings"}; a rejected file's are in its report."""
    found: list[dict] = []
    for key, values in metadata.items():
        if key.startswith("lake/") and "warnings" in values:
            rejected = {item["file"] for item in _json_entry(values.get("rejected"))}
            found.extend(item for item in _json_entry(values["warnings"]) if item["file"] not in rejected)
    return found


def _json_entry(value: object) -> list[dict]:
    data = getattr(value, "data", value)
    return (json.loads(data) if isinstance(data, str) else data) or []


def stale_sites(metadata: dict[str, dict]) -> list[str]:
    """The documentation sites a run could not rebuild (their previous pages stay)."""
    return [key for key in SITES if "error" in metadata.get(key, {})]


def record_if_clean(settings: StudioSettings, inputs: RunInputs, metadata: dict[str, dict]) -> bool:
    """After a run that published without a failed step (`metadata`: its materializations', by asset key): record
    the clean publication (`freshness.record_clean_publication`), with the files its gate rejected, when both
    sites were rebuilt; a run with a stale site is not one to stand on. Returns whether it recorded."""
    if stale_sites(metadata):
        return False
    record_clean_publication(settings.layout, inputs, current_base(settings), rejections(metadata))
    return True
