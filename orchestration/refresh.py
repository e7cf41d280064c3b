"""One refresh of the warehouse: materialize every asset of the definitions in this process (`studio-budget run`)."""

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

from orchestration.definitions import studio_assets, studio_resources
from orchestration.defs.resources import StudioSettings
from orchestration.defs.transform import DBT_OP
from orchestration.lib.config import WarehouseLayout
from orchestration.lib.dbt import (
    REFERENCE_SOURCES_OF_POSTINGS,
    StudioDbtTranslator,
    dbt_project,
    incremental_inputs,
    incremental_rebuild_reasons,
    prepare_manifest,
    read_incremental_state,
)
from orchestration.lib.freshness import RunInputs, run_inputs
from orchestration.lib.lake import accepted_manifests
from orchestration.lib.loads import source_for_landing_file
from orchestration.lib.mappings import load_mappings
from orchestration.lib.refresh_lock import refresh_lock
from orchestration.lib.scope import RefreshScope, models_reading, publication_base, read_manifest, refresh_scope

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def run_config(full_refresh: bool = False, scoped: bool = False) -> dict:
    """A refresh's run config: quiet console logs, whether dbt rebuilds from the lake, and whether the run builds
    only the models its scope names (`plan_refresh`)."""
    return {**QUIET_LOGS, "ops": {DBT_OP: {"config": {"full_refresh": full_refresh, "scoped": scoped}}}}


@dataclass
class RefreshResult:
    success: bool
    log_path: Path
    rejected: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    metadata: dict[str, dict] = field(default_factory=dict)
    scope: RefreshScope = field(default_factory=lambda: RefreshScope("not planned"))

    def number(self, asset_prefix: str, key: str) -> int:
        """Sum of one numeric metadata entry over the assets whose key starts with the prefix."""
        total = 0
        for asset_key, metadata in self.metadata.items():
            if asset_key.startswith(asset_prefix) and key in metadata:
                total += int(getattr(metadata[key], "value", metadata[key]) or 0)
        return total

    @property
    def models_built(self) -> int:
        return sum(1 for k in self.metadata if k.split("/")[0] in ("staging", "intermediate", "marts", "reference"))


STEP_SECONDS = "step_seconds.json"


def write_step_seconds(layout: WarehouseLayout, instance: DagsterInstance, run_id: str) -> None:
    """How long each step of the last run took, from Dagster's own step statistics
    (`_internal/step_seconds.json`): where a refresh's time goes, for the benchmark and for an engineer."""
    steps = {
        stats.step_key: round(stats.end_time - stats.start_time, 3)
        for stats in instance.get_run_step_stats(run_id)
        if stats.start_time is not None and stats.end_time is not None
    }
    (layout.internal / STEP_SECONDS).write_text(json.dumps(steps, indent=1, sort_keys=True), encoding="utf-8")


def current_base(settings: StudioSettings) -> dict:
    """The warehouse as a publication now would be made from (`scope.publication_base`)."""
    layout = settings.layout
    loads = [(m["source"], m["load_id"]) for m in accepted_manifests(layout)]
    return publication_base(settings.engine, read_incremental_state(layout, settings.engine), loads)


def plan_refresh(settings: StudioSettings, full_refresh: bool = False, inputs: RunInputs | None = None) -> RefreshScope:
    """What this run materializes (`lib/scope.py`): every asset, or what the new landing files and as-of reach."""
    layout = settings.layout
    config_file = Path(settings.config_file) if settings.config_file else None
    inputs = inputs or run_inputs(settings.landing, layout, settings.as_of, config_file)
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


def refresh(
    settings: StudioSettings,
    output: TextIO | None = None,
    locked: bool = False,
    full_refresh: bool = False,
    inputs: RunInputs | None = None,
) -> RefreshResult:
    """Run ingest → checks → dbt build → publish → report; dbt's output goes to `output` and the run log.
    A run materializes what its scope names (`plan_refresh`); `inputs` are the run's inputs when the caller has
    them already.

    Takes the warehouse's refresh lock unless the caller holds it already (`locked`)."""
    prepare_manifest()
    layout = settings.layout
    layout.ensure()
    log_path = layout.internal / "last_run.log"
    with (
        contextlib.nullcontext() if locked else refresh_lock(layout),
        log_path.open("w", encoding="utf-8") as log,
        contextlib.redirect_stdout(output or log),
    ):
        scope = plan_refresh(settings, full_refresh, inputs)  # under the lock: no other run changes it meanwhile
        instance = DagsterInstance.ephemeral()
        result = materialize(
            studio_assets(),
            resources=studio_resources(settings),
            run_config=run_config(full_refresh, scoped=not scope.everything),
            raise_on_error=False,
            instance=instance,
            selection=scope_selection(scope),
        )
        write_step_seconds(layout, instance, result.run_id)
    metadata = {
        event.asset_key.to_user_string(): dict(event.step_materialization_data.materialization.metadata)
        for event in result.get_asset_materialization_events()
    }
    rejected: list[dict] = []
    for key, values in metadata.items():
        if key.startswith("lake/") and "rejected" in values:
            data = getattr(values["rejected"], "data", values["rejected"])
            rejected.extend(json.loads(data) if isinstance(data, str) else data)
    failures = []
    for failure in result.get_step_failure_events():
        error = failure.event_specific_data.error
        failures.append(f"{failure.step_key}: {error.message.strip() if error else 'unknown error'}")
    return RefreshResult(result.success, log_path, rejected, failures, metadata, scope)
