"""The reforecast draft (SPEC §8): its rows, and the file as written passing the gate and, approved, becoming the
current budget of every line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from orchestration.lib.config import DBT_PROJECT_DIR, WarehouseLayout
from orchestration.lib.contract import SOURCES
from orchestration.lib.gate.context import RunContext
from orchestration.lib.lake import register_lake_views
from orchestration.lib.loads import ingest_source
from orchestration.lib.reforecast import (
    BUDGET_COLUMNS,
    ForecastLine,
    approve,
    quantity_and_rate,
    reforecast_rows,
    reforecast_version,
    write_reforecast_draft,
)
from tests.conftest import SMALL_AS_OF, CliRun, copy_warehouse, rows

AS_OF = date.fromisoformat(SMALL_AS_OF)


def test_a_draft_line_is_actual_plus_committed_plus_etc_in_base_currency_unphased() -> None:
    lines = [
        # 1,000.00 + 250.50 + 749.495 = 1,999.995 → 2,000.00 (half up, to the cent)
        ForecastLine("P2", "5100", "V1", Decimal("1000.00"), Decimal("250.50"), Decimal("749.495")),
        ForecastLine("P1", "5200", None, Decimal("0"), Decimal("0"), Decimal("0")),
    ]
    drafted = reforecast_rows(lines, date(2026, 10, 15), "EUR")
    assert [r["project_code"] for r in drafted] == ["P1", "P2"]
    assert drafted[1] == {
        "budget_version": "V1-RF20261015",
        "version_status": "draft",
        "project_code": "P2",
        "account_code": "5100",
        "period": "",
        "amount": "2000.00",
        "currency": "EUR",
        "quantity": "",
        "unit": "",
        "rate": "",
        "approved_at": "",
    }
    assert drafted[0]["budget_version"] == "RF20261015" and drafted[0]["amount"] == "0.00"


def test_a_line_planned_in_one_unit_keeps_it_at_the_current_versions_rate() -> None:
    lines = [
        # 1,350 hours of EFC at 72.00 an hour: 97,200.00 / 72 = 1,350 exactly
        ForecastLine("P1", "5100", "V2", Decimal("90000.00"), Decimal("0"), Decimal("7200.00"), unit="hour",
                     rate=Decimal("72")),
        # a rate in base currency from a pound budget: 62.4999999 → 62.5000; 1,000.00 / 62.5 = 16 hours
        ForecastLine("P1", "5110", "V2", Decimal("1000.00"), Decimal("0"), Decimal("0"), unit="hour",
                     rate=Decimal("62.4999999")),
        # no quantity to 4 decimals gives 1,000.00 at 650.1234 a day within a cent: 1.5382 × 650.1234 = 1,000.0198
        ForecastLine("P1", "5120", "V2", Decimal("1000.00"), Decimal("0"), Decimal("0"), unit="day",
                     rate=Decimal("650.1234")),
        ForecastLine("P1", "5200", "V2", Decimal("500.00"), Decimal("0"), Decimal("0")),
    ]  # fmt: skip
    drafted = {r["account_code"]: r for r in reforecast_rows(lines, date(2026, 10, 15), "USD")}
    assert [(r["quantity"], r["unit"], r["rate"]) for r in drafted.values()] == [
        ("1350.00", "hour", "72.00"),
        ("16.00", "hour", "62.50"),
        ("", "day", "650.1234"),
        ("", "", ""),
    ]
    assert Decimal(drafted["5100"]["quantity"]) * Decimal(drafted["5100"]["rate"]) == Decimal(drafted["5100"]["amount"])


def test_the_version_names_the_version_it_reforecasts() -> None:
    assert reforecast_version("V2-reforecast", date(2026, 10, 15)) == "V2-reforecast-RF20261015"


def _write(path: Path, table: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=BUDGET_COLUMNS)
        writer.writeheader()
        writer.writerows(table)


def test_the_draft_passes_the_gate_and_approved_becomes_each_lines_current_budget(
    small_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"
    copy_warehouse(small_warehouse, warehouse)
    layout = WarehouseLayout(warehouse)
    draft = write_reforecast_draft(layout.published_db, tmp_path / "reports", AS_OF, "USD")
    assert draft.name == "budgets_reforecast_draft_2025-03-15.csv"
    with draft.open(encoding="utf-8", newline="") as handle:
        drafted = list(csv.DictReader(handle))
    # the expected figures by a second route: the published cost report's lines of active projects, and their
    # current revenue budget as it stands (a new version replaces the whole budget: revenue must not fall to 0)
    report = rows(layout.published_db, "SELECT * FROM marts.mart_line_item_cost_report WHERE project_status = 'active'")
    expected = {(r["project_code"], r["account_code"]): r["actual"] + r["committed"] + r["etc"] for r in report}
    revenue = {
        (r["project_code"], r["account_code"]): r["budget"]
        for r in rows(
            layout.published_db,
            "SELECT project_code, account_code, sum(amount_base) AS budget FROM marts.fct_budget_lines "
            "WHERE is_current AND account_type = 'revenue' GROUP BY ALL",
        )
        if r["project_code"] in {line["project_code"] for line in report}
    }
    assert revenue and not set(revenue) & set(expected)
    expected |= revenue
    totals: dict[tuple[str, str], Decimal] = {}
    for r in drafted:
        key = (r["project_code"], r["account_code"])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(r["amount"])
    assert expected and totals == expected
    # P1's revenue, budgeted in February (budgets_v2.csv: 4000, 2025-02, 20,000.00), keeps its month
    assert [(r["project_code"], r["period"], r["amount"]) for r in drafted if r["account_code"] == "4000"] == [
        ("P1", "2025-02", "20000.00")
    ]
    assert {r["version_status"] for r in drafted} == {"draft"}
    # P1's crew, planned in V2 as 150 hours at 80.00 (budgets_v2.csv), keeps its unit and rate: the draft's hours
    # are its amount / 80; the other lines were planned without a unit
    p1_crew = next(r for r in drafted if (r["project_code"], r["account_code"]) == ("P1", "5100"))
    crew_hours = expected[("P1", "5100")] / Decimal(80)
    assert (p1_crew["unit"], p1_crew["rate"]) == ("hour", "80.00")
    assert Decimal(p1_crew["quantity"]) == crew_hours.quantize(Decimal("0.0001"))
    assert {(r["unit"], r["rate"]) for r in drafted if r is not p1_crew} == {("", "")}

    run = RunContext("USD", AS_OF)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / draft.name).write_bytes(draft.read_bytes())
    outcomes = ingest_source(SOURCES["budgets"], landing, layout, run=run)
    assert [(o.status, o.rows) for o in outcomes] == [("accepted", len(drafted))], [o.reasons() for o in outcomes]

    # finance approves it as written: status approved, approved the day after as-of
    _write(landing / "budgets_reforecast_approved.csv", approve(drafted, "2025-03-16T09:00:00"))
    outcomes = ingest_source(SOURCES["budgets"], landing, layout, run=run)
    accepted = [(o.file_name, o.status) for o in outcomes if o.status != "skipped"]
    assert accepted == [("budgets_reforecast_approved.csv", "accepted")], [o.reasons() for o in outcomes]

    # rebuild only the budget models over the copy's lake (no full refresh), as of the approval day: a version is
    # current from the day it was approved
    register_lake_views(layout)
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [
            str(dbt), "run", "--select",
            "stg_budgets int_budget_versions int_budget_lines_phased fct_budget_lines mart_labor_variance",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
            "--vars", json.dumps(
                {"build_db": str(layout.build_db), "work_db": str(layout.work_db), "as_of": "2025-03-16"}
            ),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    current = rows(
        layout.build_db,
        "SELECT project_code, account_code, budget_version, sum(amount_base) AS budget FROM marts.fct_budget_lines"
        " WHERE is_current GROUP BY ALL",
    )
    active = {r["project_code"] for r in drafted}
    current_active = {
        (r["project_code"], r["account_code"]): r["budget"] for r in current if r["project_code"] in active
    }
    assert current_active == expected
    assert {r["budget_version"] for r in current if r["project_code"] in active} == {
        r["budget_version"] for r in drafted
    }
    # approved, the draft still plans P1's crew in hours: its labour variance has budget hours (P1 ends in March,
    # so every month of it is to date)
    labour = rows(
        layout.build_db,
        "SELECT sum(budget_hours) AS hours, count(*) AS months, sum(budget) AS budget FROM marts.mart_labor_variance"
        " WHERE project_code = 'P1' AND account_code = '5100'",
    )
    assert labour[0]["budget"] == expected[("P1", "5100")]
    # each month's hours shown to 4 decimals
    assert abs(labour[0]["hours"] - crew_hours) <= Decimal("0.00005") * labour[0]["months"]


def test_the_sample_writes_its_draft_after_each_refresh_and_it_loads_back(sample_run: CliRun, tmp_path: Path) -> None:
    assert sample_run.exit_code == 0
    draft = sample_run.warehouse / "reports" / f"budgets_reforecast_draft_{sample_run.as_of.isoformat()}.csv"
    with draft.open(encoding="utf-8", newline="") as handle:
        drafted = list(csv.DictReader(handle))
    assert drafted and {r["version_status"] for r in drafted} == {"draft"}
    # every line of the projects still spending: active ones, and wrapped ones whose last costs arrive (DOC-2504
    # wrapped and still posting in the as-of month); not the bidding or closed ones
    projects = csv.DictReader((sample_run.landing / "projects.csv").read_text(encoding="utf-8").splitlines())
    spending = {r["project_code"] for r in projects if r["status"] in ("active", "wrapped")}
    assert "DOC-2504" in spending
    assert {r["project_code"] for r in drafted} == spending
    # a cost line keeps the unit its current version planned it in, read a second way from the landing files: the
    # version's lines of the project × account all in one unit with a rate; for lines all in dollars (the base
    # currency) the rate is their amount / their quantity (amount / rate, line by line)
    accounts = csv.DictReader((sample_run.landing / "accounts.csv").read_text(encoding="utf-8").splitlines())
    expense = {r["account_code"] for r in accounts if r["account_type"] == "expense"}
    landed: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for path in sample_run.landing.glob("budgets*.csv"):
        for r in csv.DictReader(path.read_text(encoding="utf-8").splitlines()):
            landed.setdefault((r["budget_version"], r["project_code"], r["account_code"]), []).append(r)
    units = {}
    for r in drafted:
        if r["account_code"] not in expense:
            continue
        version = r["budget_version"].rsplit("-RF", 1)[0]
        planned = landed.get((version, r["project_code"], r["account_code"]), [])
        one_unit = len({x["unit"] for x in planned}) == 1 and all(x["unit"] and x["rate"] for x in planned)
        one_unit = one_unit and planned[0]["unit"] != "flat"  # a flat fee carries no quantity
        if planned and one_unit:
            quantity = sum(Decimal(x["amount"]) / Decimal(x["rate"]) for x in planned)
            dollars = {x["currency"] for x in planned} == {"USD"}
            rate = (sum(Decimal(x["amount"]) for x in planned) / quantity).quantize(Decimal("0.0001"))
            units[(r["project_code"], r["account_code"])] = (planned[0]["unit"], rate if dollars else None)
    assert {u for u, _ in units.values()} == {"hour", "day"}
    for r in drafted:
        key = (r["project_code"], r["account_code"])
        if key not in units:
            assert (r["unit"], r["rate"]) == ("", ""), r
            continue
        unit, rate = units[key]
        assert r["unit"] == unit and (rate is None or Decimal(r["rate"]) == rate), (r, units[key])
        # a quantity to 4 decimals is within a cent of the amount whenever the rate is at most 200
        assert r["quantity"] or Decimal(r["rate"]) > 200, r
        if r["quantity"]:
            assert abs(Decimal(r["quantity"]) * Decimal(r["rate"]) - Decimal(r["amount"])) <= Decimal("0.01"), r
    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / draft.name).write_bytes(draft.read_bytes())
    run = RunContext("USD", sample_run.as_of)
    outcomes = ingest_source(SOURCES["budgets"], landing, WarehouseLayout(warehouse), run=run)
    assert [(o.status, o.rows) for o in outcomes] == [("accepted", len(drafted))], [o.reasons() for o in outcomes]


def test_a_rate_that_rounds_to_nothing_carries_no_unit() -> None:
    # 0.00004 an hour is 0.0000 to 4 decimals: no rate to divide by, so no unit (rather than a failed draft)
    assert quantity_and_rate(Decimal("1000.00"), "hour", Decimal("0.00004")) == ("", "", "")
