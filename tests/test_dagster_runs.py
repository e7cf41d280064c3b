"""Refreshes that Dagster starts are planned, locked and recorded as `studio-budget run` does them
(orchestration/defs/guard.py, orchestration/defs/automation.py).

The small studio is refreshed through the code location's own job and executor, as the daemon launches a run
(`execute_job` of the reconstructable job on a temporary instance), each run requested by the schedule or the
landing sensor."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    execute_job,
    instance_for_test,
    reconstructable,
)

from orchestration.definitions import REFRESH_JOB, studio_definitions
from orchestration.defs.automation import ScheduleSettings, daily_schedule, landing_sensor
from orchestration.defs.resources import StudioSettings
from orchestration.lib.dbt import prepare_manifest
from orchestration.lib.freshness import forget_clean_publication, landing_fingerprint, read_clean_publication
from orchestration.lib.refresh_lock import refresh_lock
from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, query

GL_HEADER = "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"


def refresh_job():
    """The refresh job as `dagster dev` loads it (settings from the STUDIO_* environment)."""
    prepare_manifest()
    return studio_definitions(StudioSettings.from_environment()).resolve_job_def(REFRESH_JOB)


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StudioSettings:
    landing = tmp_path / "landing"
    shutil.copytree(SMALL_STUDIO, landing)
    monkeypatch.setenv("STUDIO_LANDING", str(landing))
    monkeypatch.setenv("STUDIO_WAREHOUSE", str(tmp_path / "warehouse"))
    monkeypatch.setenv("STUDIO_AS_OF", SMALL_AS_OF)
    return StudioSettings.from_environment()


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def scheduled(settings: StudioSettings) -> RunRequest | SkipReason:
    context = build_schedule_context(resources={"settings": settings})
    return daily_schedule(REFRESH_JOB, ScheduleSettings())(context)


def sensed(settings: StudioSettings, instance: DagsterInstance) -> RunRequest | SkipReason:
    context = build_sensor_context(instance=instance, resources={"settings": settings})
    return landing_sensor(REFRESH_JOB)(context)


def launch(request: RunRequest, instance: DagsterInstance):
    """Execute a requested run as a run worker does. A worker is a new process for each run, which loads the
    definitions (and their settings) afresh; here one process runs them all, so Dagster's cache of the last job
    loaded (another test's settings) is cleared first."""
    job = reconstructable(refresh_job)
    type(job).get_definition.cache_clear()
    type(job).get_repository_definition.cache_clear()
    return execute_job(
        job,
        instance,
        run_config=request.run_config,
        tags=request.tags,
        asset_selection=request.asset_selection,
    )


def materialized(instance: DagsterInstance, run_id: str) -> set[str]:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    return {record.event_log_entry.dagster_event.asset_key.to_user_string() for record in records}


def checked(instance: DagsterInstance, run_id: str) -> set[str]:
    """The assets whose checks (dbt's data tests, the gate's) a run evaluated."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    return {record.event_log_entry.dagster_event.event_specific_data.asset_key.to_user_string() for record in records}


def run_error(instance: DagsterInstance, run_id: str) -> str:
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE).records
    return " ".join(str(record.event_log_entry.dagster_event.event_specific_data) for record in records)


def posted(settings: StudioSettings) -> Decimal:
    (total,) = query(settings.layout.published_db, "SELECT sum(amount_base) FROM marts.fct_actual_costs")[0]
    return total


def deliver(settings: StudioSettings, name: str, lines: list[str]) -> Decimal:
    """A new ledger file of USD lines of P1 (whose amounts are its base amounts); returns their sum, by hand."""
    (settings.landing / name).write_text(GL_HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    with (settings.landing / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(row["project_code"], row["currency"]) for row in rows} == {("P1", "USD")}
    return sum((Decimal(row["amount"]) for row in rows), Decimal(0))


def test_scheduled_and_sensed_refreshes_are_planned_and_recorded(
    studio: StudioSettings, instance: DagsterInstance
) -> None:
    """1. The first scheduled refresh materializes every asset and records its clean publication; the next tick
    finds nothing new. 2. A new ledger file: the sensor requests what it reaches (the ledger's ingest, not the
    budgets'), the run publishes it and records it. 3. A request planned before the warehouse changed (here its
    clean publication's record is gone, so a publication now needs every asset) fails before its first step and
    publishes nothing; the next tick plans every asset."""
    first = scheduled(studio)
    assert isinstance(first, RunRequest) and first.asset_selection is None
    assert first.tags["studio/scope"].startswith("every model (no clean publication")
    result = launch(first, instance)
    assert result.success
    record = read_clean_publication(studio.layout)
    assert record is not None
    assert [tuple(item) for item in record["landing"]] == list(landing_fingerprint(studio.landing, studio.layout))
    nothing = scheduled(studio)
    assert isinstance(nothing, SkipReason) and nothing.skip_message.startswith("nothing new")
    before = posted(studio)

    added = deliver(
        studio,
        "gl_actuals_day2.csv",
        [
            "D1,2025-03-10,P1,5100,Crew Co,Extra crew day,410.25,USD,",
            "D2,2025-03-11,P1,5200,Lens House,Lens,89.75,USD,",
        ],
    )
    day = sensed(studio, instance)
    assert isinstance(day, RunRequest)
    chosen = {key.to_user_string() for key in day.asset_selection}
    assert {"lake/gl_actuals", "published/studio_duckdb", "marts/fct_actual_costs"} <= chosen
    assert not {"lake/budgets", "lake/projects", "staging/stg_budgets"} & chosen
    assert day.run_config["ops"]["studio_dbt_models"]["config"]["scoped"] is True
    result = launch(day, instance)
    assert result.success
    done = materialized(instance, result.run_id)
    assert "lake/gl_actuals" in done and "published/studio_duckdb" in done and "lake/budgets" not in done
    assert {"lake/gl_actuals", "marts/fct_actual_costs"} <= checked(instance, result.run_id)  # tests ran too
    assert posted(studio) == before + added
    assert isinstance(scheduled(studio), SkipReason)

    late = deliver(studio, "gl_actuals_day3.csv", ["D3,2025-03-12,P1,5100,Crew Co,Overtime,120.00,USD,"])
    stale = sensed(studio, instance)
    assert isinstance(stale, RunRequest) and stale.asset_selection is not None
    forget_clean_publication(studio.layout)  # the warehouse changes between the request and the run
    published = studio.layout.published_db.stat().st_mtime_ns
    result = launch(stale, instance)
    assert not result.success
    assert "changed since this run was planned" in run_error(instance, result.run_id)
    assert materialized(instance, result.run_id) == set()
    assert studio.layout.published_db.stat().st_mtime_ns == published
    again = scheduled(studio)
    assert isinstance(again, RunRequest) and again.asset_selection is None
    assert again.tags["studio/scope"] == "every model (no clean publication to build on)"
    assert late > 0 and posted(studio) == before + added  # the day's third file waits for that run


def test_a_run_started_while_another_refresh_runs_does_nothing(
    studio: StudioSettings, instance: DagsterInstance
) -> None:
    """While a refresh holds the warehouse (here the test holds its lock, as `studio-budget run` does), the
    schedule requests nothing, and a run started anyway fails before its first step, creating nothing."""
    studio.layout.ensure()
    with refresh_lock(studio.layout):
        waiting = scheduled(studio)
        assert isinstance(waiting, SkipReason) and "is running" in waiting.skip_message
        result = launch(RunRequest(run_config={}), instance)
    assert not result.success
    assert "another refresh of" in run_error(instance, result.run_id)
    assert materialized(instance, result.run_id) == set()
    assert not studio.layout.published_db.exists() and not any(studio.layout.lake.iterdir())


def test_the_departments_email_job_does_not_take_the_refresh_lock() -> None:
    """Only refreshes are guarded: the email job (an op job) runs beside a refresh."""
    from orchestration.defs.guard import run_materializes_assets

    class Run:
        def __init__(self, job_name: str, asset_selection: frozenset | None) -> None:
            self.job_name = job_name
            self.asset_selection = asset_selection

    assert run_materializes_assets(Run(REFRESH_JOB, None))
    assert run_materializes_assets(Run("__ASSET_JOB", frozenset({AssetKey(["lake", "gl_actuals"])})))
    assert not run_materializes_assets(Run("department_email", None))


def test_the_schedule_plans_for_the_as_of_its_run_will_have(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dagster dev` loads the settings once for the schedules and sensors, and again for each run: a default
    as-of (the landing's AS_OF, else today) is resolved again when a refresh is planned; a given one is kept."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "AS_OF").write_text("2026-10-15\n", encoding="utf-8")
    monkeypatch.setenv("STUDIO_LANDING", str(landing))
    monkeypatch.delenv("STUDIO_AS_OF", raising=False)
    loaded = StudioSettings.from_environment()
    assert (loaded.as_of, loaded.as_of_given) == ("2026-10-15", False)
    (landing / "AS_OF").write_text("2026-10-16\n", encoding="utf-8")  # `generate --next-day`, or a new day
    assert loaded.as_of_now().as_of == "2026-10-16"
    assert loaded.as_of_now().landing_dir == loaded.landing_dir
    monkeypatch.setenv("STUDIO_AS_OF", "2026-10-01")
    given = StudioSettings.from_environment()
    assert given.as_of_now() is given and given.as_of == "2026-10-01"
