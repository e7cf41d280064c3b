"""One refresh of the warehouse: materialize every asset of the definitions in this process (`studio-budget run`)."""

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from dagster import DagsterInstance, ExecuteInProcessResult, materialize, mem_io_manager
from rich.text import Text

from orchestration.defs.assets import studio_assets, studio_resources
from orchestration.defs.plan import (
    current_base,
    plan_refresh,
    record_if_clean,
    rejections,
    resolved_selection,
    run_config,
    scope_selection,
    stale_sites,
)
from orchestration.defs.resources import StudioSettings
from orchestration.lib.config import WarehouseLayout
from orchestration.lib.dbt import prepare_manifest
from orchestration.lib.freshness import RunInputs
from orchestration.lib.refresh_lock import refresh_lock
from orchestration.lib.scope import RefreshScope

if TYPE_CHECKING:
    from dagster._utils.error import SerializableErrorInfo

# the planning (`defs/plan.py`) is used by the command line and the tests through this entry point too
__all__ = [
    "RefreshResult",
    "current_base",
    "plan_refresh",
    "record_if_clean",
    "refresh",
    "rejections",
    "resolved_selection",
    "run_config",
    "scope_selection",
    "stale_sites",
]


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

    def names(self, asset_prefix: str, key: str) -> list[str]:
        """One list metadata entry (JSON) over the assets whose key starts with the prefix, in asset order."""
        found: list[str] = []
        for asset_key, metadata in sorted(self.metadata.items()):
            if asset_key.startswith(asset_prefix) and key in metadata:
                found += [str(name) for name in getattr(metadata[key], "value", metadata[key]) or []]
        return found

    @property
    def models_built(self) -> int:
        """dbt models built (their asset keys: staging, intermediate, marts), seeds apart."""
        return sum(1 for k in self.metadata if k.split("/")[0] in ("staging", "intermediate", "marts"))

    @property
    def seeds_built(self) -> int:
        """dbt seeds loaded (the reference tables)."""
        return sum(1 for k in self.metadata if k.split("/")[0] == "reference")


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
        # disposed on leaving: its temporary artifact folder is removed here, not left to the interpreter's
        # teardown, which `studio-budget` skips (cli.entry_point)
        DagsterInstance.ephemeral() as instance,
    ):
        scope = plan_refresh(settings, full_refresh, inputs)  # under the lock: no other run changes it meanwhile
        result = materialize(
            studio_assets(),
            # the run is one process and its assets hand each other no values (they read the warehouse's files):
            # nothing to pickle, and Dagster's filesystem IO manager took 0.1 s to set up (fsspec, UPath) for none
            resources={**studio_resources(settings), "io_manager": mem_io_manager},
            run_config=run_config(full_refresh, scoped=not scope.everything),
            raise_on_error=False,
            instance=instance,
            selection=scope_selection(scope),
        )
        write_step_seconds(layout, instance, result.run_id)
        failures = run_failures(result, log)
    metadata = {
        event.asset_key.to_user_string(): dict(event.step_materialization_data.materialization.metadata)
        for event in result.get_asset_materialization_events()
    }
    rejected = rejections(metadata)
    return RefreshResult(result.success, log_path, rejected, failures, metadata, scope)


def run_failures(result: ExecuteInProcessResult, log: TextIO) -> list[str]:
    """What failed in a run, one summary each (`failure_summary`): each failed step, or the run itself when it
    failed outside any step; the whole error of each, its stack included, is written to `log`."""
    failures = []
    for failure in result.get_step_failure_events():
        error = failure.event_specific_data.error
        raised = _raised(error).message if error else "unknown error"
        failures.append(f"{failure.step_key}: {failure_summary(raised)}")
        if error is not None:
            print(f"step {failure.step_key} failed:\n{error.to_string()}", file=log)
    if not result.success and not failures:  # the run failed outside any step (its executor, its plan)
        run_failure = next((e for e in result.all_events if e.is_run_failure), None)
        error = run_failure.job_failure_data.error if run_failure and run_failure.job_failure_data else None
        said = _raised(error).message if error else (run_failure.message if run_failure else "")
        failures.append(f"run: {failure_summary(said or 'unknown error')}")
        if error is not None:
            print(f"the run failed:\n{error.to_string()}", file=log)
    return failures


def _raised(error: "SerializableErrorInfo") -> "SerializableErrorInfo":
    """What the step's own code raised: Dagster wraps it in an error that names only the step."""
    while error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None:
        error = error.cause
    return error


DBT_ERRORS = "Errors parsed from dbt logs:"
DBT_PROGRESS_LINE = re.compile(r"^\d+ of \d+ ")


def failure_summary(message: str) -> str:
    """A failed step's message for the person running the refresh: for the dbt build, what dbt says failed (each
    failing model or test and why), without the command line and dbt's progress lines; colour codes removed."""
    message = Text.from_ansi(message).plain.strip()
    if DBT_ERRORS not in message:
        return message
    parsed = [line.strip() for line in message.split(DBT_ERRORS, 1)[1].splitlines()]
    kept = [line for line in parsed if line and not DBT_PROGRESS_LINE.match(line)]
    return "\n".join(["the dbt build failed:", *(f"  {line}" for line in kept)])
