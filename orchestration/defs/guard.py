"""Runs Dagster starts (the schedule, the landing sensor, the UI) refresh the warehouse as `studio-budget run` does.

The code location's executor is the in-process executor with a guard around each run that materializes assets:
- **one refresh at a time**: the run holds the warehouse's refresh lock from its first step to its last; a run
  started while another refresh (a run of either kind) holds it fails before any step, saying so;
- **a publication covers its plan**: a run that publishes checks, under the lock, that it materializes at least
  what a run planned now would (`defs/plan.py`: every asset, or what the new landing files and the new
  as-of date reach). The schedule and the sensor request what they planned a moment before; if the warehouse
  changed in between (another refresh published, a build failed, a file arrived), the run fails before any step
  and nothing is published: the next evaluation plans again. A run that does not publish (the UI materializing a
  few assets) is not checked: what it leaves behind, the next publishing run's plan sees;
- **the clean publication is recorded** as the command line records it (`freshness.record_clean_publication`):
  after a run that published with no step failed and both documentation sites rebuilt (with the files its gate
  rejected), so that the next run (of either kind) can be planned on it, or be skipped when nothing is new.

`studio-budget run` materializes the same assets in its own process (`refresh.refresh`), holding the lock and
recording the publication itself; this executor is not used there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dagster import (
    AssetKey,
    DagsterEvent,
    DagsterEventType,
    Executor,
    ExecutorDefinition,
    InitExecutorContext,
    executor,
    in_process_executor,
)
from dagster._core.definitions.executor_definition import IN_PROC_CONFIG

from orchestration.defs.plan import plan_refresh, record_if_clean, resolved_selection, settings_inputs
from orchestration.defs.publish import PUBLISHED
from orchestration.defs.resources import StudioSettings
from orchestration.defs.transform import DBT_OP
from orchestration.lib.freshness import RunInputs
from orchestration.lib.refresh_lock import refresh_lock

if TYPE_CHECKING:
    from dagster._core.execution.context.system import PlanOrchestrationContext
    from dagster._core.execution.plan.plan import ExecutionPlan
    from dagster._core.execution.retries import RetryMode
    from dagster._core.execution.step_dependency_config import StepDependencyConfig


class PlanChanged(RuntimeError):
    """The warehouse changed since the run was planned: publishing what it selected would leave models stale."""


REFRESH_JOB = "studio_refresh"


def run_materializes_assets(run: object) -> bool:
    """Whether a run is a refresh (the refresh job, or assets the UI materializes) rather than an op job (the
    departments' email)."""
    return getattr(run, "asset_selection", None) is not None or getattr(run, "job_name", None) == REFRESH_JOB


def check_plan(settings: StudioSettings, selected: set[AssetKey] | None, full_refresh: bool) -> RunInputs:
    """Under the refresh lock, before a publishing run's first step: the run's selection (None: every asset)
    covers what a run planned now materializes. Returns the run's inputs (`freshness.RunInputs`), recorded after a
    clean publication."""
    inputs = settings_inputs(settings)
    if selected is None:
        return inputs
    scope = plan_refresh(settings, full_refresh, inputs)
    needed = resolved_selection(scope, settings)
    missing = [] if needed is None else sorted(key.to_user_string() for key in needed - selected)
    if needed is None or missing:
        what = "every asset" if needed is None else f"{len(missing)} more asset(s), {', '.join(missing[:5])}"
        raise PlanChanged(
            f"the warehouse changed since this run was planned: a publication now needs {what} "
            f"({scope.describe()}); nothing was done, and the next refresh plans again"
        )
    return inputs


class GuardedExecutor(Executor):
    """The in-process executor, with the refresh's guard around a run that materializes assets."""

    def __init__(self, inner: Executor, settings: StudioSettings) -> None:
        self._inner = inner
        self._settings = settings

    @property
    def retries(self) -> RetryMode:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._inner.step_dependency_config

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        run = plan_context.dagster_run
        if not run_materializes_assets(run):
            yield from self._inner.execute(plan_context, execution_plan)
            return
        settings = self._settings
        settings.layout.ensure()
        selected = set(run.asset_selection) if run.asset_selection is not None else None
        publishes = selected is None or PUBLISHED in selected
        dbt_config = (run.run_config or {}).get("ops", {}).get(DBT_OP, {}).get("config", {})
        with refresh_lock(settings.layout):
            inputs = check_plan(settings, selected if publishes else None, bool(dbt_config.get("full_refresh")))
            failed = False
            metadata: dict[str, dict] = {}
            for event in self._inner.execute(plan_context, execution_plan):
                if event.event_type == DagsterEventType.STEP_FAILURE:
                    failed = True
                elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                    materialization = event.step_materialization_data.materialization
                    metadata[materialization.asset_key.to_user_string()] = dict(materialization.metadata)
                yield event
            if publishes and not failed and PUBLISHED.to_user_string() in metadata:
                with contextlib.suppress(OSError):  # unrecorded, the next run builds every asset: never wrong
                    record_if_clean(settings, inputs, metadata)


def guarded_executor(settings: StudioSettings) -> ExecutorDefinition:
    """The code location's executor: in-process, each refresh guarded (module docstring)."""

    @executor(name="studio_in_process", config_schema=IN_PROC_CONFIG)
    def _guarded(init_context: InitExecutorContext) -> GuardedExecutor:
        return GuardedExecutor(in_process_executor.executor_creation_fn(init_context), settings)

    return _guarded
