"""The production marts of the sample run against a second method: the status histories replayed in Python
straight from the landing files, labour costed in Python decimals, blockers walked as a graph; and the report's
production section and the per-project summary against their report models.

The formulas themselves are checked on hand-made histories by the dbt unit tests in the marts' YAML.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from orchestration.lib.report_production import print_project_production
from tests.conftest import CliRun, query, rows
from tests.reconcile import CENT, fx_lookup, landing_rows

FINISHED = ("done", "omitted")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T"))


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def replay_histories(landing: Path, as_of: date) -> dict[str, dict]:
    """Per task, from the files: each status lasts until the next event, the last until midnight after as-of."""
    end_of_as_of = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    events: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for row in landing_rows(landing, "task_events"):
        at = _at(row["changed_at"])
        if at < end_of_as_of:
            events[row["task_id"]].append((at, row["status"]))
    found = {}
    for task in landing_rows(landing, "tasks"):
        history = sorted(set(events[task["task_id"]]))
        ends = [at for at, _ in history[1:]] + [end_of_as_of]
        spent: dict[str, float] = defaultdict(float)
        for (at, status), end in zip(history, ends, strict=True):
            spent[status] += _days(at, end)
        statuses = [s for _, s in history]
        first = {s: min(at for at, x in history if x == s) for s in set(statuses)}
        created = _at(task["created_at"])
        done = first.get("done")
        found[task["task_id"]] = {
            "current_status": statuses[-1] if statuses else "todo",
            "lead_time_days": _days(created, done) if done else None,
            "cycle_time_days": _days(first["in_progress"], done) if done and "in_progress" in first else None,
            "review_days": spent["review"],
            "blocked_days": spent["blocked"],
            # entries into retake from another status
            "retake_count": sum(1 for i, s in enumerate(statuses) if s == "retake" and statuses[i - 1 : i] != [s]),
            "is_on_time": done.date() <= date.fromisoformat(task["due_date"]) if done and task["due_date"] else None,
        }
    return found


def test_task_flow_is_the_status_history_replayed_from_the_files(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    expected = replay_histories(sample_run.landing, sample_run.as_of)
    found = {r["task_id"]: r for r in rows(database, "SELECT * FROM marts.mart_task_flow")}
    assert set(found) == set(expected)
    for task_id, want in expected.items():
        got = found[task_id]
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value, abs=1e-9), (task_id, column)
            else:
                assert got[column] == value, (task_id, column)


def test_labour_cost_per_project_is_the_timesheets_costed_in_decimals(sample_run: CliRun) -> None:
    """SPEC §4: (regular + overtime × multiplier) × rate × (1 + fringe/100), in the person's currency, converted at
    the work month's rate and rounded to the cent per entry; rework = hours on a task from the day of its first
    retake."""
    landing, as_of = sample_run.landing, sample_run.as_of.isoformat()
    rate = fx_lookup(landing)
    people = {p["person_id"]: p for p in landing_rows(landing, "people")}
    first_retake: dict[str, str] = {}
    for event in landing_rows(landing, "task_events"):
        day = event["changed_at"][:10]
        if event["status"] == "retake" and day <= as_of:
            first_retake[event["task_id"]] = min(day, first_retake.get(event["task_id"], day))
    labour: dict[str, Decimal] = defaultdict(Decimal)
    rework: dict[str, Decimal] = defaultdict(Decimal)
    for entry in landing_rows(landing, "timesheets"):
        if entry["work_date"][:10] > as_of:
            continue
        person = people[entry["person_id"]]
        hourly = Decimal(entry["hourly_rate"] or person["hourly_rate"])
        multiplier = Decimal(entry["overtime_multiplier"] or "1.5")
        fringe = Decimal(entry["fringe_pct"] or "0")
        paid_hours = Decimal(entry["regular_hours"]) + Decimal(entry["overtime_hours"]) * multiplier
        local = paid_hours * hourly * (1 + fringe / 100)
        cost = (local * rate(person["currency"], entry["work_date"][:7])).quantize(CENT, ROUND_HALF_UP)
        labour[entry["project_code"]] += cost
        task = entry["task_id"]
        if task and task in first_retake and entry["work_date"][:10] >= first_retake[task]:
            rework[entry["project_code"]] += cost
    database = sample_run.warehouse / "studio.duckdb"
    found = {r[0]: (r[1], r[2]) for r in query(database, "SELECT project_code, labour_cost, rework_cost FROM "
                                                         "marts.mart_project_production WHERE labour_cost <> 0")}
    assert found == {p: (labour[p], rework[p]) for p in labour}
    assert sum(rework.values()) > 0  # the sample's retakes cost something


def test_blockers_are_the_open_tasks_on_unfinished_dependencies(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    status = {t: v["current_status"] for t, v in replay_histories(sample_run.landing, sample_run.as_of).items()}
    starts = {t["task_id"]: t["start_date"] for t in landing_rows(sample_run.landing, "tasks")}
    waits_on: dict[str, set[str]] = defaultdict(set)
    for d in landing_rows(sample_run.landing, "task_dependencies"):
        if status[d["task_id"]] not in FINISHED and status[d["depends_on_task_id"]] not in FINISHED:
            waits_on[d["task_id"]].add(d["depends_on_task_id"])

    def chain(task: str) -> int:
        return max((1 + chain(u) for u in waits_on.get(task, ())), default=0)

    def above(task: str) -> set[str]:
        return set().union(set(), *({u} | above(u) for u in waits_on.get(task, ())))

    expected = {
        t: (chain(t), sum(1 for other in waits_on if t in above(other)))
        for t in waits_on
        if status[t] == "blocked" or not starts[t] or starts[t] <= sample_run.as_of.isoformat()
    }
    found = {r[0]: (r[1], r[2]) for r in query(database, "SELECT task_id, chain_length, downstream_waiting "
                                                         "FROM marts.mart_blockers")}
    assert found == expected
    assert found  # the sample holds work waiting on unfinished upstream tasks


def test_capacity_finds_the_planted_overloaded_person_in_the_as_of_week(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    monday = sample_run.as_of - timedelta(days=sample_run.as_of.weekday())
    week = rows(database, "SELECT * FROM marts.mart_capacity_weekly WHERE week_start = ?", [monday])
    assert {r["worker_type"] for r in week} == {"staff", "freelance"}
    overloaded = [r for r in week if r["is_overcommitted"]]
    assert [r["person_id"] for r in overloaded] == ["P010"]
    [marcus] = overloaded
    assert marcus["allocated_hours"] > marcus["available_hours"] == 40


def test_printed_production_section_is_the_report_model(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    summary = rows(database, "SELECT * FROM marts.rpt_production_summary ORDER BY row_type = 'studio', project_code")
    lines = sample_run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "TASKS" in line and "REWORK" in line)
    printed = [line.split() for line in lines[start + 2 : start + 2 + len(summary)]]
    for shown, row in zip(printed, summary, strict=True):
        assert shown[0] == (row["project_code"] or "STUDIO")
        assert [int(x) for x in shown[1:4]] == [row["tasks"], row["open_tasks"], row["delivered_tasks"]]
        on_time = row["on_time_rate_pct"]
        assert float(shown[4].rstrip("%")) == pytest.approx(on_time, abs=0.05)
        assert Decimal(shown[9].replace(",", "")) == row["labour_cost"].quantize(Decimal(1), ROUND_HALF_UP)
    studio = summary[-1]
    assert studio["row_type"] == "studio" and studio["overcommitted_names"] == "Marcus Bell"
    assert "Overcommitted in the as-of week (logged or allocated hours above capacity): 1: Marcus Bell." in " ".join(
        sample_run.stdout.split()
    )
    blockers = rows(database, "SELECT task_id FROM marts.rpt_production_blockers ORDER BY blocker_rank")
    start = next(i for i, line in enumerate(lines) if line.startswith(" Task") and "Waits on" in line)
    printed_blockers = [line.split()[0] for line in lines[start + 2 : start + 2 + len(blockers)]]
    assert printed_blockers == [b["task_id"] for b in blockers]


def test_project_production_summary_prints_the_report_model(sample_run: CliRun) -> None:
    console = Console(width=120, file=io.StringIO(), record=True)
    with duckdb.connect(str(sample_run.warehouse / "studio.duckdb"), read_only=True) as con:
        assert print_project_production(con, console, "EP-2601")
        assert not print_project_production(con, console, "NO-SUCH-PROJECT")
        [row] = rows(sample_run.warehouse / "studio.duckdb",
                     "SELECT * FROM marts.rpt_project_production WHERE project_code = 'EP-2601'")
    text = " ".join(console.export_text().split())
    assert "Production — EP-2601 The Night Desk - Season 1 at 2026-10-15" in text
    assert f"Tasks (open / done) {row['tasks']} ({row['open_tasks']} / {row['done_tasks']})" in text
    assert f"Rework cost (after a first retake) {row['rework_cost']:,.0f}" in text
    assert f"On-time delivery {row['on_time_rate_pct']:.1f}%" in text
    assert "TSK-0086 Ep106 online, colour & mix blocked TSK-0085" in text  # its blocked work
    assert "Eps 101-104 delivered 2026-08-31 2026-09-12 met_late 12" in text  # its milestones
