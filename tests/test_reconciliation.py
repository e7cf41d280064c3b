"""Marts tie back to the loaded files and to each other, to the cent (SPEC §9)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import SAMPLE_LANDING_DIR
from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, build_once, query, run_cli, shared_root
from tests.reconcile import (
    accruals,
    accrued_line_items,
    actual_line_items,
    budget_line_items,
    budget_local_totals,
    committed_line_items,
    gl_base_totals,
    phase,
)

# the sample as of a day before its reforecasts' approval (2026-06-26): their projects' current budget is the
# version before, and the months after hold no actual yet
SAMPLE_EARLY_AS_OF = "2026-06-15"


@pytest.fixture(scope="session")
def early_sample_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The bundled sample published as of SAMPLE_EARLY_AS_OF, once per session."""

    def build(folder: Path) -> None:
        done = run_cli("run", "--warehouse", str(folder / "warehouse"), "--as-of", SAMPLE_EARLY_AS_OF)
        assert done.returncode == 0, done.stderr

    return build_once(shared_root(tmp_path_factory, worker_id), "sample_early", build) / "warehouse" / "studio.duckdb"


@pytest.fixture(params=["small", "sample", "sample_before_its_reforecasts"])
def published(request: pytest.FixtureRequest) -> tuple[Path, Path, date]:
    """(published database, landing folder, as-of) for the small studio and the bundled sample (at its own date,
    and at an earlier one)."""
    if request.param == "small":
        return request.getfixturevalue("small_db"), SMALL_STUDIO, date.fromisoformat(SMALL_AS_OF)
    if request.param == "sample_before_its_reforecasts":
        db = request.getfixturevalue("early_sample_db")
        return db, SAMPLE_LANDING_DIR, date.fromisoformat(SAMPLE_EARLY_AS_OF)
    run = request.getfixturevalue("sample_run")
    return run.warehouse / "studio.duckdb", run.landing, run.as_of


def test_posted_costs_equal_the_ledger_files_in_base_currency(published) -> None:
    database, landing, as_of = published
    expected = gl_base_totals(landing, as_of)
    found = dict(
        query(
            database,
            "SELECT project_code, sum(amount_base) FROM marts.fct_actual_costs WHERE status = 'posted' GROUP BY 1",
        )
    )
    assert found == expected
    assert sum(found.values()) == sum(expected.values())


def test_total_actual_is_posted_ledger_plus_unreleased_accruals_to_the_cent(published) -> None:
    """Second method: GL lines up to as-of in base currency, plus every cost record's unreleased part (SPEC §4)."""
    database, landing, as_of = published
    posted = sum(actual_line_items(landing, as_of).values(), Decimal(0))
    unreleased = accruals(landing, as_of)
    accrued = sum((a.amount_base for a in unreleased), Decimal(0))
    found = dict(query(database, "SELECT status, sum(amount_base) FROM marts.fct_actual_costs GROUP BY 1"))
    assert found.get("posted") == posted
    assert found.get("accrued", Decimal(0)) == accrued
    counted = query(database, "SELECT count(*) FROM marts.fct_actual_costs WHERE status = 'accrued'")[0][0]
    assert counted == len(unreleased)
    assert query(database, "SELECT sum(actual) FROM marts.mart_line_item_variance")[0][0] == posted + accrued


def test_budget_lines_equal_the_budget_files(published) -> None:
    database, landing, _ = published
    expected = budget_local_totals(landing)
    found = {
        (v, p): a
        for v, p, a in query(
            database, "SELECT budget_version, project_code, sum(amount) FROM marts.fct_budget_lines GROUP BY 1, 2"
        )
    }
    assert found == expected


def _line_items(database: Path, column: str) -> dict[tuple[str, str, str], Decimal]:
    """One column of mart_line_item_variance per (project, account, 'YYYY-MM-DD')."""
    found = query(
        database,
        f"SELECT project_code, account_code, CAST(period AS VARCHAR), {column} FROM marts.mart_line_item_variance",
    )
    return {(p, a, m): v for p, a, m, v in found}


def _differences(found: dict, expected: dict) -> dict:
    """Keys whose figures differ, a missing side counting as 0 (a line item with nothing on one side)."""
    zero = Decimal(0)
    return {
        k: (found.get(k), expected.get(k))
        for k in found.keys() | expected.keys()
        if found.get(k, zero) != expected.get(k, zero)
    }


def _up_to_as_of(found: dict[tuple[str, str, str], Decimal], as_of: date) -> dict[tuple[str, str, str], Decimal]:
    last = f"{as_of.isoformat()[:7]}-01"
    return {k: v for k, v in found.items() if k[2] <= last}


def test_line_item_actuals_equal_ledger_plus_accruals_by_project_account_and_period(published) -> None:
    """Second method: posted = each GL line converted at its period's rate (or the latest earlier) and rounded to
    the cent, txn ids deduplicated (first file wins), lines after as-of left out; accrued = each timesheet, rental
    and invoice record's part no GL line naming it has released, to 0.0001, then to base at its month's rate, to the
    cent; actual = posted + accrued."""
    database, landing, as_of = published
    posted = actual_line_items(landing, as_of)
    accrued = accrued_line_items(landing, as_of)
    assert posted, "the landing files post no ledger line up to as-of"
    assert accrued or landing == SMALL_STUDIO, "the sample's timesheets, rentals and invoices accrue nothing"
    actual = {k: posted.get(k, Decimal(0)) + accrued.get(k, Decimal(0)) for k in posted.keys() | accrued.keys()}
    assert _differences(_up_to_as_of(_line_items(database, "posted_actual"), as_of), posted) == {}
    assert _differences(_up_to_as_of(_line_items(database, "accrued_actual"), as_of), accrued) == {}
    assert _differences(_up_to_as_of(_line_items(database, "actual"), as_of), actual) == {}


def test_line_item_commitments_equal_open_purchase_orders_less_invoices_and_postings(published) -> None:
    """Second method: each open PO issued up to as-of, less invoices naming it and GL lines whose source_ref names
    it (both up to as-of, other currencies at the PO month's rates), never below 0, in base at the PO month's rate,
    to the cent, in its project × account × issue month."""
    database, landing, as_of = published
    expected = committed_line_items(landing, as_of)
    # the sample's open purchase orders were all issued after its early as-of (its others are closed)
    early = as_of == date.fromisoformat(SAMPLE_EARLY_AS_OF)
    assert expected or landing == SMALL_STUDIO or early, "the sample has no open purchase order"
    assert _differences(_up_to_as_of(_line_items(database, "committed"), as_of), expected) == {}


def test_line_item_budgets_equal_the_budget_files_phased_and_converted(published) -> None:
    """Second method: approved/locked versions only, original = first and current = latest by
    approved_at, unphased lines spread over the project's days (cents, remainder in the last month),
    converted at the period's rate; up to the as-of month."""
    database, landing, as_of = published
    expected = budget_line_items(landing, as_of)
    # every official version in these fixtures says when it was approved, so no project is left out
    assert expected.undated == set()
    assert expected.current and expected.original
    assert _differences(_line_items(database, "budget"), expected.current) == {}
    assert _differences(_line_items(database, "original_budget"), expected.original) == {}


def test_second_method_phases_by_hand() -> None:
    """The reconciliation's own phasing, on the worked examples of the dbt unit tests."""
    # 2024-12-16..2025-01-15: 16 + 15 = 31 days; 100000 * 16/31 = 51612.90 -> 516.13, last 483.87
    assert phase(Decimal("1000.00"), date(2024, 12, 16), date(2025, 1, 15)) == {
        "2024-12": Decimal("516.13"),
        "2025-01": Decimal("483.87"),
    }
    # leap February: 29 + 31 = 60 days; 100050 * 29/60 = 48357.5 -> 483.58 (half up), last 1000.50 - 483.58 = 516.92
    assert phase(Decimal("1000.50"), date(2024, 2, 1), date(2024, 3, 31)) == {
        "2024-02": Decimal("483.58"),
        "2024-03": Decimal("516.92"),
    }
    # the credit is the mirror of the debit (half away from zero)
    assert phase(Decimal("-1000.50"), date(2024, 2, 1), date(2024, 3, 31)) == {
        "2024-02": Decimal("-483.58"),
        "2024-03": Decimal("-516.92"),
    }


def test_a_credit_line_is_phased_as_the_mirror_of_the_same_debit(small_warehouse: Path) -> None:
    """The model's own compiled SQL (from the small studio's build) on two lines, against the second method."""
    compiled = next((small_warehouse / "_internal" / "dbt_target" / "compiled").rglob("int_budget_lines_phased.sql"))
    start, end = date(2024, 2, 1), date(2024, 3, 31)
    with duckdb.connect() as con:
        con.execute("ATTACH ':memory:' AS work")  # the staging and intermediate models' database
        con.execute("CREATE SCHEMA work.staging")
        con.execute("CREATE SCHEMA work.intermediate")
        con.execute(
            "CREATE TABLE work.staging.stg_budgets (load_id VARCHAR, source_row_number BIGINT, "
            "budget_version VARCHAR, project_code VARCHAR, account_code VARCHAR, period DATE, amount DECIMAL(18, 4), "
            "currency VARCHAR, unit VARCHAR, rate DECIMAL(18, 4))"
        )
        con.execute(
            "INSERT INTO work.staging.stg_budgets VALUES "
            "('L1', 1, 'V1', 'LEAP', 'debit', NULL, 1000.50, 'USD', NULL, NULL), "
            "('L1', 2, 'V1', 'LEAP', 'credit', NULL, -1000.50, 'USD', NULL, NULL)"
        )
        con.execute("CREATE TABLE work.staging.stg_projects (project_code VARCHAR, start_date DATE, end_date DATE)")
        con.execute("INSERT INTO work.staging.stg_projects VALUES ('LEAP', ?, ?)", [start, end])
        con.execute("CREATE TABLE work.intermediate.int_months AS SELECT DATE '2024-02-01' AS period")
        con.execute("INSERT INTO work.intermediate.int_months VALUES (DATE '2024-03-01')")
        found = con.execute(
            f"SELECT account_code, strftime(period, '%Y-%m'), amount FROM (\n{compiled.read_text()}\n) AS phased"
        ).fetchall()
    by_line: dict[str, dict[str, Decimal]] = {}
    for account, period, amount in found:
        by_line.setdefault(account, {})[period] = Decimal(amount).quantize(Decimal("0.01"))
    assert by_line["debit"] == phase(Decimal("1000.50"), start, end)
    assert by_line["credit"] == phase(Decimal("-1000.50"), start, end)


def _pairs(database: Path, left: str, right: str) -> list[tuple]:
    """Keys k whose budget b or actual a differ between two queries (either side missing counts)."""
    return query(
        database,
        f"SELECT * FROM ({left}) l FULL OUTER JOIN ({right}) r USING (k) "
        "WHERE l.b IS DISTINCT FROM r.b OR l.a IS DISTINCT FROM r.a",
    )


@pytest.mark.parametrize(
    ("line_items", "roll_up"),
    [
        (
            "SELECT project_code AS k, sum(budget) AS b, sum(actual) AS a FROM marts.mart_line_item_variance "
            "WHERE account_type = 'expense' GROUP BY 1",
            "SELECT project_code AS k, budget AS b, actual AS a FROM marts.mart_project_variance WHERE has_activity",
        ),
        (
            "SELECT department_code || period AS k, sum(budget) AS b, sum(actual) AS a "
            "FROM marts.mart_line_item_variance WHERE account_type = 'expense' GROUP BY 1",
            "SELECT department_code || period AS k, budget AS b, actual AS a FROM marts.mart_department_variance "
            "WHERE budget <> 0 OR actual <> 0",
        ),
        (
            "SELECT category || period AS k, sum(budget) AS b, sum(actual) AS a "
            "FROM marts.mart_line_item_variance GROUP BY 1",
            "SELECT category || period AS k, budget AS b, actual AS a FROM marts.mart_category_variance "
            "WHERE budget <> 0 OR actual <> 0",
        ),
        (
            "SELECT CAST(period AS VARCHAR) AS k, sum(budget) AS b, sum(actual) AS a FROM "
            "marts.mart_department_variance GROUP BY 1",
            "SELECT CAST(period AS VARCHAR) AS k, budget AS b, actual AS a FROM marts.mart_studio_variance",
        ),
        (
            "SELECT project_code || account_code || period AS k, sum(amount_base) AS b, 0 AS a "
            "FROM marts.fct_budget_lines "
            "WHERE is_current AND period <= (SELECT max(period) FROM marts.mart_studio_variance) GROUP BY 1",
            "SELECT project_code || account_code || period AS k, budget AS b, 0 AS a "
            "FROM marts.mart_line_item_variance "
            "WHERE has_budget",
        ),
    ],
    ids=["line_items=project", "line_items=department", "line_items=category", "departments=studio", "budget"],
)
def test_roll_ups_add_up(published, line_items: str, roll_up: str) -> None:
    database, _, _ = published
    assert _pairs(database, line_items, roll_up) == []


def test_ytd_is_the_running_sum_of_the_fiscal_year(published) -> None:
    database, _, _ = published
    broken = query(
        database,
        "SELECT period, ytd_actual, (SELECT sum(actual) FROM marts.mart_studio_variance i "
        "WHERE i.fiscal_year_start = o.fiscal_year_start AND i.period <= o.period) AS expected "
        "FROM marts.mart_studio_variance o WHERE ytd_actual <> expected",
    )
    assert broken == []
    assert Decimal(0) != query(database, "SELECT sum(actual) FROM marts.mart_studio_variance")[0][0]


def _landing(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_second_method_accrues_releases_and_commits_by_hand(tmp_path: Path) -> None:
    """The reconciliation's own accruals and commitments on hand-made files: a person's default rate with overtime
    and fringe, a re-sent timesheet entry, a rental over two months released in another currency, a credit note
    released in part, and a purchase order consumed by an invoice in another currency and a posting."""
    landing = _landing(
        tmp_path,
        {
            "fx_rates.csv": "currency,period,rate_to_base\nGBP,2025-01,1.25\nGBP,2025-02,1.30\nEUR,2025-01,1.10\n",
            "people.csv": "person_id,hourly_rate,currency\nP1,40.00,GBP\n",
            "timesheets.csv": "entry_id,work_date,person_id,project_code,account_code,regular_hours,overtime_hours,"
            "hourly_rate,overtime_multiplier,fringe_pct\nT1,2025-01-10,P1,PRJ,5100,8,2,,,10\n",
            # a later file re-sending T1 does not change it (the first record of a ledger id stands)
            "timesheets_b.csv": "entry_id,work_date,person_id,project_code,account_code,regular_hours,overtime_hours,"
            "hourly_rate,overtime_multiplier,fringe_pct\nT1,2025-01-10,P1,PRJ,5100,80,0,,,\n",
            "equipment_rentals.csv": "rental_id,project_code,account_code,start_date,end_date,day_rate,damage_charge,"
            "currency\nR1,PRJ,5200,2025-01-30,2025-02-20,100.00,50.00,GBP\n",
            "invoices.csv": "invoice_id,invoice_date,project_code,account_code,amount,currency,po_id\n"
            "I1,2025-02-01,PRJ,5300,-300.00,USD,\nI2,2025-01-20,PRJ,5300,110.00,EUR,PO1\n",
            "purchase_orders.csv": "po_id,issued_date,project_code,account_code,amount,currency,status\n"
            "PO1,2025-01-15,PRJ,5300,1000.00,GBP,open\nPO2,2025-01-15,PRJ,5300,500.00,USD,closed\n"
            "PO3,2025-02-11,PRJ,5300,500.00,USD,open\n",
            "gl_actuals.csv": "txn_id,posted_date,project_code,account_code,amount,currency,source_ref\n"
            "G2,2025-02-05,PRJ,5200,330.00,EUR,R1\nG3,2025-02-08,PRJ,5300,-100.00,USD,I1\n"
            "G4,2025-01-25,PRJ,5300,200.00,GBP,PO1\nG5,2025-02-12,PRJ,5300,-200.00,USD,I1\n",
        },
    )
    as_of = date(2025, 2, 10)
    found = {a.record.record_id: (a.amount, a.amount_base) for a in accruals(landing, as_of)}
    assert found == {
        # (8 + 2 × 1.5) × 40 × 1.10 = 484 GBP; × 1.25 (January) = 605.00
        "T1": (Decimal("484.0000"), Decimal("605.00")),
        # R1 to as-of: January 30-31 = 200 GBP, February 1-10 = 1,000 GBP, damage 50 GBP on 2025-02-10.
        # G2 releases 330 EUR × 1.10 / 1.25 (rates of R1's first month) = 290.40 GBP: January in full (left out),
        # then 90.40 of February: 909.60 × 1.30 = 1,182.48; the damage is untouched: 50 × 1.30 = 65.00
        "R1:2025-02-01": (Decimal("909.6000"), Decimal("1182.48")),
        "R1:damage": (Decimal("50.0000"), Decimal("65.00")),
        # a credit note of -300 released by -100 posted up to as-of (G5 is after it): -200 left
        "I1": (Decimal("-200.0000"), Decimal("-200.00")),
        # 110 EUR × 1.10 = 121.00, no posting names it
        "I2": (Decimal("110.0000"), Decimal("121.00")),
    }
    assert accrued_line_items(landing, as_of) == {
        ("PRJ", "5100", "2025-01-01"): Decimal("605.00"),
        ("PRJ", "5200", "2025-02-01"): Decimal("1247.48"),
        ("PRJ", "5300", "2025-01-01"): Decimal("121.00"),
        ("PRJ", "5300", "2025-02-01"): Decimal("-200.00"),
    }
    # PO1: 1,000 GBP - I2 110 EUR × 1.10 / 1.25 (96.80 GBP) - G4 200 GBP = 703.20 GBP × 1.25 = 879.00;
    # PO2 is closed, PO3 issued after as-of
    assert committed_line_items(landing, as_of) == {("PRJ", "5300", "2025-01-01"): Decimal("879.00")}


def test_the_tasks_of_an_earlier_as_of_are_those_that_existed_then(early_sample_db: Path) -> None:
    """As of 2026-06-15 the production marts hold the tasks created by the end of that day or with an event by
    then, worked out from the landing files, and each one's status is its latest event by then (else to do)."""
    import csv
    import io
    from datetime import datetime, timedelta

    def landed(name: str) -> list[dict]:
        return list(csv.DictReader(io.StringIO((SAMPLE_LANDING_DIR / name).read_text(encoding="utf-8"))))

    end = datetime.fromisoformat(SAMPLE_EARLY_AS_OF) + timedelta(days=1)
    events = sorted(
        (e for e in landed("task_events.csv") if datetime.fromisoformat(e["changed_at"]) < end),
        key=lambda e: e["changed_at"],
    )
    latest = {e["task_id"]: e["status"] for e in events}
    expected = {
        t["task_id"]: latest.get(t["task_id"], "todo")
        for t in landed("tasks.csv")
        if datetime.fromisoformat(t["created_at"]) < end or t["task_id"] in latest
    }
    assert 0 < len(expected) < len(landed("tasks.csv"))  # some tasks came later
    assert dict(query(early_sample_db, "SELECT task_id, current_status FROM marts.mart_task_flow")) == expected
