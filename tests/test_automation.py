"""The daily schedule and the landing-folder sensor (orchestration/defs/automation.py), on a tmp landing folder
and an ephemeral Dagster instance: no refresh runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    SkipReason,
    build_sensor_context,
)
from dagster._core.test_utils import create_run_for_test

from orchestration.definitions import REFRESH_JOB, studio_definitions
from orchestration.defs.automation import (
    DAILY_SCHEDULE,
    DEFAULT_CRON,
    DEFAULT_TIMEZONE,
    LANDING_SENSOR,
    ScheduleSettings,
    landing_sensor,
)
from orchestration.defs.resources import StudioSettings
from orchestration.lib.dbt import prepare_manifest

GL = "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


def evaluate(
    landing: Path, instance: DagsterInstance, cursor: str | None
) -> tuple[RunRequest | SkipReason, str | None]:
    """One evaluation of the sensor; what it returned and the cursor it leaves."""
    settings = StudioSettings(landing_dir=str(landing), warehouse_dir=str(landing.parent / "wh"), as_of="2025-03-15")
    context = build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings})
    result = landing_sensor(REFRESH_JOB)(context)
    return result, context.cursor


def test_a_new_file_starts_a_refresh_and_the_same_files_do_not(landing: Path, instance: DagsterInstance) -> None:
    (landing / "gl_actuals_march.csv").write_text(GL + "G1,2025-03-02,P1,5100,Crew Co,x,1.00,USD,\n")
    (landing / "notes.txt").write_text("not a landing file: no source has this prefix")

    first, cursor = evaluate(landing, instance, None)
    assert isinstance(first, RunRequest)
    assert first.tags["studio/landing_files"] == "gl_actuals_march.csv"
    assert set(json.loads(cursor)) == {"gl_actuals_march.csv"}

    again, same_cursor = evaluate(landing, instance, cursor)
    assert isinstance(again, SkipReason) and same_cursor == cursor

    (landing / "budgets_v2.csv").write_text("budget_version\n")
    second, cursor2 = evaluate(landing, instance, cursor)
    assert isinstance(second, RunRequest)
    assert second.tags["studio/landing_files"] == "budgets_v2.csv"
    assert second.run_key != first.run_key
    assert set(json.loads(cursor2)) == {"gl_actuals_march.csv", "budgets_v2.csv"}


def test_a_changed_file_starts_a_refresh(landing: Path, instance: DagsterInstance) -> None:
    path = landing / "gl_actuals_march.csv"
    path.write_text(GL)
    _, cursor = evaluate(landing, instance, None)
    path.write_text(GL + "G1,2025-03-02,P1,5100,Crew Co,x,1.00,USD,\n")  # delivered again, longer
    resent, cursor = evaluate(landing, instance, cursor)
    assert isinstance(resent, RunRequest) and resent.tags["studio/landing_files"] == "gl_actuals_march.csv"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # delivered again: same size, newer
    touched, _ = evaluate(landing, instance, cursor)
    assert isinstance(touched, RunRequest) and touched.run_key != resent.run_key


def test_an_empty_or_missing_landing_folder_is_skipped(landing: Path, instance: DagsterInstance) -> None:
    assert isinstance(evaluate(landing, instance, None)[0], SkipReason)
    assert isinstance(evaluate(landing / "absent", instance, None)[0], SkipReason)


def test_one_refresh_at_a_time(landing: Path, instance: DagsterInstance) -> None:
    """While a refresh runs, new files wait (the cursor stays), then start the next one."""
    create_run_for_test(instance, job_name=REFRESH_JOB, status=DagsterRunStatus.STARTED)
    (landing / "gl_actuals_march.csv").write_text(GL)
    waiting, cursor = evaluate(landing, instance, None)
    assert isinstance(waiting, SkipReason) and "running refresh" in waiting.skip_message
    assert cursor is None
    for record in instance.get_run_records():
        instance.report_run_failed(record.dagster_run)
    assert isinstance(evaluate(landing, instance, cursor)[0], RunRequest)


def test_the_schedule_and_sensor_are_in_the_definitions() -> None:
    prepare_manifest()
    settings = StudioSettings(landing_dir="landing", warehouse_dir="wh", as_of="2025-03-15")
    defs = studio_definitions(settings)
    schedule = defs.resolve_schedule_def(DAILY_SCHEDULE)
    assert (
        (schedule.cron_schedule, schedule.execution_timezone)
        == (DEFAULT_CRON, DEFAULT_TIMEZONE)
        == (
            "0 6 * * *",
            "UTC",
        )
    )
    assert schedule.job_name == REFRESH_JOB
    sensor = defs.resolve_sensor_def(LANDING_SENSOR)
    assert sensor.job_name == REFRESH_JOB
    assert {s.name for s in defs.sensors} == {LANDING_SENSOR, "alert_delivery"}

    custom = ScheduleSettings.from_environment(
        {"STUDIO_SCHEDULE_CRON": "30 5 * * 1-5", "STUDIO_SCHEDULE_TIMEZONE": "Europe/London"}
    )
    schedule = studio_definitions(settings, custom).resolve_schedule_def(DAILY_SCHEDULE)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 5 * * 1-5", "Europe/London")
    assert ScheduleSettings.from_environment({}) == ScheduleSettings(DEFAULT_CRON, DEFAULT_TIMEZONE)
