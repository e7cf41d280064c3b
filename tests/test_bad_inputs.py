"""The bad-input catalogue (SPEC §4-5): every kind of bad landing file a studio delivers, each a test.

Most cases run at the ingest level: a lake is built once per module from the small studio's good files
(plus a few reference rows the production sources need), each test copies it and delivers one file with
`ingest_source`, then reads the `LoadOutcome`, the quarantine folder and the lake. One end-to-end run
delivers several bad files at once through `studio-budget run`.

Expected counts, rows and values are worked out by hand from the file each test writes. Rows are counted
from the first data row (row 1 is the line after the header), as the quarantine report says.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.contract import SOURCES
from orchestration.lib.gate.context import RunContext, referenced_sources
from orchestration.lib.lake import DATA_FILE
from orchestration.lib.loads import LoadOutcome, ingest_source
from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, copy_warehouse, query, run_cli
from tests.test_docs_sites import html_text, page_rows

RUN = RunContext(base_currency="USD", as_of=date(2025, 3, 15))
# sources other sources' rules read load first (see `referenced_sources` in quality.py)
REFERENCE_ORDER = ("departments", "accounts", "fx_rates", "projects", "people", "purchase_orders", "tasks")

GL = "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
TIMESHEETS = "entry_id,work_date,person_id,project_code,account_code,task_id,regular_hours,overtime_hours\n"
PROJECTS = (
    "project_code,project_name,department_code,client,project_type,status,start_date,end_date,contract_value,currency\n"
)
RENTALS = "rental_id,project_code,account_code,item,vendor,start_date,end_date,day_rate,damage_charge,currency\n"
BUDGETS = "budget_version,version_status,project_code,account_code,period,amount,currency\n"
INVOICES = "invoice_id,vendor,invoice_date,project_code,account_code,amount,currency,status,po_id\n"
ETC = "project_code,account_code,estimated_on,etc_amount,currency,note\n"
BUDGETS_FULL = (
    "budget_version,version_status,project_code,account_code,period,amount,currency,quantity,unit,rate,approved_at\n"
)
# the small studio's approved V2 of P1 (tests/fixtures/small_studio/budgets_v2.csv)
V2_LINES = (
    "V2,approved,P1,5100,,12000.00,USD,150,hour,80.00,2025-02-15T09:00:00\n",
    "V2,approved,P1,5200,2025-01,2000.00,USD,,,,2025-02-15T09:00:00\n",
    "V2,approved,P1,4000,2025-02,20000.00,USD,,,,2025-02-15T09:00:00\n",
)

# reference rows the small studio lacks, so that timesheets, invoices and task dependencies can be checked
EXTRA_REFERENCE = {
    "people.csv": "person_id,person_name,department_code,worker_type,weekly_capacity_hours,hourly_rate,currency\n"
    "U1,Ann Editor,D1,staff,40,50.00,USD\n"
    "U2,Bob Grip,D2,freelance,40,40.00,GBP\n",
    "purchase_orders.csv": "po_id,vendor,issued_date,project_code,account_code,amount,currency,status\n"
    "PO1,Lens House,2025-01-10,P1,5200,2000.00,USD,open\n",
    "tasks.csv": "task_id,project_code,department_code,task_name,owner_person_id,priority,estimate_hours,"
    "start_date,due_date,created_at\n"
    "T1,P1,D1,Edit,U1,1,10,2025-01-05,2025-02-01,2025-01-02T09:00:00\n"
    "T2,P1,D1,Grade,U1,2,5,2025-02-01,2025-02-10,2025-01-02T09:00:00\n"
    "T3,P1,D1,Deliver,U1,1,2,2025-02-10,2025-02-14,2025-01-02T09:00:00\n",
}

# rule names as the suites word them (they are also what audit.check_results holds)
AMOUNT_IS_DECIMAL = "amount is a plain decimal number such as -1234.50 (no currency symbol, no thousands separator)"
READABLE = "the file is readable"
ROWS_READABLE = "every row has the header's columns and is UTF-8 text"
PLAIN_NAME = "the file name is plain"
HAS_RATE = "currency has an fx rate for the period"
LOCKED = "budget version is approved or locked and cannot change: submit a reforecast as a new budget_version"
CYCLE = "dependencies form no cycle (with the dependencies already loaded, the task would wait on itself)"
ONE_STATUS_PER_MOMENT = "a task has one status per changed_at (with two, the order of the changes is unknown)"
REOPENED = "a done task is reopened by a later change (metrics count from its first done)"
LEDGER_CONFLICT = "txn_id already loaded with different content (send a reversing entry instead)"
SOURCE_REF = "source_ref names a timesheet entry_id, rental_id, invoice_id or po_id loaded before or in this run"
PO_ABOVE_TOLERANCE = (
    "a purchase order's invoices total at most its amount plus invoice_po_tolerance_pct (studio.toml)"
)
PO_ABOVE = "a purchase order's invoices total at most its amount (above it, within the tolerance)"
PO1_AT_2300 = "PO1: invoices total 2300.00 against its 2000.00, 300.00 above (15.00%); tolerance 10%"


# ---------------------------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Bad:
    """What one failed blocking rule must report."""

    column: str | None
    rows: int | None  # bad-row count worked out by hand; None for a file-level problem
    examples: tuple[tuple[int, str | None], ...] = ()  # (row, offending value) the message and report show
    words: tuple[str, ...] = ()  # further text the message must hold


def gl(*rows: str) -> str:
    return GL + "".join(f"{row}\n" for row in rows)


def shown(value: str | None) -> str:
    return "NULL" if value is None else repr(value)


def lake_loads(layout: WarehouseLayout, source: str) -> set[str]:
    folder = layout.lake / source
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def deliver(layout: WarehouseLayout, source: str, file_name: str, content: str | bytes) -> LoadOutcome:
    """Ingest one file from a landing folder of its own; unless accepted, it leaves no trace in the lake."""
    landing = layout.root.parent / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir()
    (landing / file_name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    before = lake_loads(layout, source)
    outcomes = ingest_source(SOURCES[source], landing, layout, "test", RUN)
    assert [o.file_name for o in outcomes] == [file_name]
    outcome = outcomes[0]
    after = lake_loads(layout, source)
    if outcome.status == "accepted":
        assert after == before | {f"load_id={outcome.load_id}"}
    else:
        assert after == before, "a rejected or skipped file must not reach the lake"
    return outcome


def failed(outcome: LoadOutcome, blocking: bool = True) -> dict[str, object]:
    return {c.rule: c for c in outcome.checks if not c.passed and c.blocking == blocking}


def assert_quarantined(outcome: LoadOutcome, layout: WarehouseLayout, original: bytes, kept_as: str) -> str:
    """The file is kept byte for byte in its own quarantine folder beside a readable report; returns the report."""
    report = outcome.quarantine_report
    assert report is not None and report.name == "report.txt"
    assert report.parent.parent == layout.quarantine
    kept = sorted(p.name for p in report.parent.iterdir())
    assert kept == sorted(["_load.json", "report.txt", kept_as])
    assert (report.parent / kept_as).read_bytes() == original
    text = report.read_text(encoding="utf-8")
    assert f"Rejected load: {outcome.file_name} (source: {outcome.source})" in text
    return text


def assert_rejected(outcome: LoadOutcome, layout: WarehouseLayout, original: bytes, expected: dict[str, Bad]) -> None:
    assert outcome.status == "rejected", outcome.checks
    blocking = failed(outcome)
    assert set(blocking) == set(expected), [c.message for c in blocking.values()]
    report = assert_quarantined(outcome, layout, original, outcome.file_name)
    for rule, bad in expected.items():
        check = blocking[rule]
        message = check.message
        assert check.column == bad.column, message
        if bad.rows is not None:
            assert check.bad_rows == bad.rows, message
        if bad.column:
            assert bad.column in message
        for row, value in bad.examples:
            assert re.search(rf"\brow {row}\b.{{0,40}}?{re.escape(shown(value))}", message), message
            assert f"row {row}: {bad.column} = {value!r}" in report
        for words in bad.words:
            assert words in message
        assert f"[BLOCKING] {rule}" in report
        # under its heading, the message without the rule the heading already names
        detail = message.removeprefix(rule).removeprefix(f" (column {check.column})").lstrip(": ")
        assert f"    {detail}" in report
        assert detail == message or f"    {message}" not in report


def lake_rows(layout: WarehouseLayout, outcome: LoadOutcome) -> list[dict]:
    """The accepted load as it sits in the lake's Parquet, in file order."""
    path = layout.lake / outcome.source / f"load_id={outcome.load_id}" / DATA_FILE
    with duckdb.connect() as con:
        cursor = con.execute(
            "SELECT * EXCLUDE (_load_id) FROM read_parquet(?, hive_partitioning = false) ORDER BY _row_number",
            [str(path)],
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def assert_accepted(outcome: LoadOutcome, rows: int) -> None:
    assert outcome.status == "accepted", outcome.reasons
    assert outcome.reasons == []
    assert outcome.rows == rows
    assert outcome.quarantine_report is None


def without_column(text: str, column: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    index = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:index] + r[index + 1 :] for r in rows])
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small studio's good files (and EXTRA_REFERENCE) ingested in reference order, once per module."""
    base = tmp_path_factory.mktemp("bad_inputs")
    landing = base / "landing"
    shutil.copytree(SMALL_STUDIO, landing)
    for name, text in EXTRA_REFERENCE.items():
        (landing / name).write_text(text, encoding="utf-8")
    layout = WarehouseLayout(base / "warehouse")
    accepted = []
    for name in [*REFERENCE_ORDER, *(s for s in SOURCES if s not in REFERENCE_ORDER)]:
        for outcome in ingest_source(SOURCES[name], landing, layout, "test", RUN):
            assert outcome.status == "accepted", (outcome.file_name, outcome.reasons)
            accepted.append(outcome.file_name)
    assert len(accepted) == len(list(landing.iterdir())) == 10
    return layout.root


@pytest.fixture
def layout(base_warehouse: Path, tmp_path: Path) -> WarehouseLayout:
    """A private copy of the module's lake."""
    shutil.copytree(base_warehouse, tmp_path / "warehouse")
    return WarehouseLayout(tmp_path / "warehouse")


# ---------------------------------------------------------------------------------------------------- rejections

REJECTIONS = [
    pytest.param(
        "gl_actuals",
        "gl_actuals_formatted.csv",
        gl("G100,2025-03-02,P1,5100,Crew Co,ok line,100.00,USD,", 'G101,2025-03-03,P1,5100,Crew Co,fmt,"$1,234",USD,'),
        {AMOUNT_IS_DECIMAL: Bad("amount", 1, ((2, "$1,234"),))},
        id="formatted-amount",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_accounting.csv",
        gl(
            'G100,2025-03-02,P1,5100,Crew Co,parentheses,"(1,234.00)",USD,',
            "G101,2025-03-02,P1,5100,Crew Co,trailing minus,1234-,USD,",
            'G102,2025-03-02,P1,5100,Crew Co,decimal comma,"1234,50",USD,',
            "G103,2025-03-02,P1,5100,Crew Co,a plain negative is fine,-1234.00,USD,",
        ),
        {AMOUNT_IS_DECIMAL: Bad("amount", 3, ((1, "(1,234.00)"), (2, "1234-"), (3, "1234,50")))},
        id="accounting-formatted-amounts",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_dates.csv",
        gl(
            "G100,15/03/2025,P1,5100,Crew Co,day first,1.00,USD,",
            "G101,2025-02-30,P1,5100,Crew Co,no such day,1.00,USD,",
            "G102,3/15/2025,P1,5100,Crew Co,excel,1.00,USD,",
            "G103,2025-03-02,P1,5100,Crew Co,fine,1.00,USD,",
        ),
        {
            # 2025-02-30 is written right but is no date; the other two are neither
            "posted_date is a date YYYY-MM-DD": Bad(
                "posted_date", 3, ((1, "15/03/2025"), (2, "2025-02-30"), (3, "3/15/2025"))
            ),
            "posted_date is written YYYY-MM-DD": Bad("posted_date", 2, ((1, "15/03/2025"), (3, "3/15/2025"))),
        },
        id="bad-dates",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_timestamps.csv",
        gl("G100,2025-03-02 00:00:00,P1,5100,Crew Co,spreadsheet added a time,1.00,USD,"),
        {"posted_date is written YYYY-MM-DD": Bad("posted_date", 1, ((1, "2025-03-02 00:00:00"),))},
        id="time-in-a-date-column",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_zero_date.csv",
        gl("G100,1899-12-30,P1,5100,Crew Co,spreadsheet zero date,1.00,USD,"),
        {"posted_date is between 1990 and 2100": Bad("posted_date", 1, ((1, "1899-12-30"),))},
        id="spreadsheet-zero-date",
    ),
    pytest.param(
        "budgets",
        "budgets_periods.csv",
        BUDGETS
        + "V9,draft,P1,5100,2025-13,1.00,USD\n"
        + "V9,draft,P1,5100,25-03,1.00,USD\n"
        + "V9,draft,P1,5100,2025-3,1.00,USD\n"
        + "V9,draft,P1,5100,2025-03,1.00,USD\n",
        {"period is written YYYY-MM": Bad("period", 3, ((1, "2025-13"), (2, "25-03"), (3, "2025-3")))},
        id="bad-periods",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_codes.csv",
        gl("G100,2025-03-02,P9,5100,Crew Co,x,1.00,USD,", "G101,2025-03-02,P1,9999,Crew Co,x,1.00,USD,"),
        {
            "project_code exists in projects": Bad("project_code", 1, ((1, "P9"),)),
            "account_code exists in accounts": Bad("account_code", 1, ((2, "9999"),)),
        },
        id="unknown-project-and-account",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_spreadsheet_codes.csv",
        gl("G100,2025-03-02,P1,5100.0,Crew Co,code as a number,1.00,USD,", "G101,2025-03-02,p1,5100,Crew Co,x,1,USD,"),
        {
            # codes are case-sensitive strings (SPEC §4)
            "account_code exists in accounts": Bad("account_code", 1, ((1, "5100.0"),)),
            "project_code exists in projects": Bad("project_code", 1, ((2, "p1"),)),
        },
        id="codes-as-spreadsheets-write-them",
    ),
    pytest.param(
        "projects",
        "projects_new.csv",
        PROJECTS + "P3,New Spot,D9,Acme,commercial,bidding,2025-04-01,2025-06-30,5000,USD\n",
        {"department_code exists in departments": Bad("department_code", 1, ((1, "D9"),))},
        id="unknown-department",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_early_gbp.csv",
        gl("G100,2024-12-20,P2,5100,Crew UK,before GBP's first rate (2025-01),100.00,GBP,"),
        {HAS_RATE: Bad("currency", 1, ((1, "GBP"),))},
        id="currency-before-its-first-rate",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_eur.csv",
        gl("G100,2025-03-02,P1,5100,Crew EU,no EUR rate at all,100.00,EUR,"),
        {HAS_RATE: Bad("currency", 1, ((1, "EUR"),))},
        id="currency-without-any-rate",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_lowercase.csv",
        gl("G100,2025-03-02,P1,5100,Crew Co,lowercase base currency,100.00,usd,"),
        {HAS_RATE: Bad("currency", 1, ((1, "usd"),))},
        id="lowercase-currency",
    ),
    pytest.param(
        "projects",
        "projects_backwards.csv",
        PROJECTS + "P3,New Spot,D1,Acme,commercial,bidding,2025-03-01,2025-02-01,5000,USD\n",
        {"end_date is on or after start_date": Bad("end_date", 1, ((1, "2025-02-01"),))},
        id="project-ends-before-it-starts",
    ),
    pytest.param(
        "equipment_rentals",
        "equipment_rentals_backwards.csv",
        RENTALS
        + "R1,P1,5200,Lens kit,Lens House,2025-03-01,2025-03-05,100.00,0,USD\n"
        + "R2,P1,5200,Dolly,Grip Co,2025-03-10,2025-03-09,80.00,0,USD\n",
        {"end_date is on or after start_date": Bad("end_date", 1, ((2, "2025-03-09"),))},
        id="rental-ends-before-it-starts",
    ),
    pytest.param(
        "timesheets",
        "timesheets_negative.csv",
        TIMESHEETS + "E1,2025-03-03,U1,P1,5100,T1,-8,0\nE2,2025-03-04,U1,P1,5100,,8,-1\n",
        {
            "regular_hours is not negative": Bad("regular_hours", 1, ((1, "-8"),)),
            "overtime_hours is not negative": Bad("overtime_hours", 1, ((2, "-1"),)),
        },
        id="negative-hours",
    ),
    pytest.param(
        "equipment_rentals",
        "equipment_rentals_negative.csv",
        RENTALS + "R1,P1,5200,Lens kit,Lens House,2025-03-01,2025-03-05,-100.00,-5,USD\n",
        {
            "day_rate is not negative": Bad("day_rate", 1, ((1, "-100.00"),)),
            "damage_charge is not negative": Bad("damage_charge", 1, ((1, "-5"),)),
        },
        id="negative-day-rate",
    ),
    pytest.param(
        "timesheets",
        "timesheets_text.csv",
        TIMESHEETS + "E1,2025-03-03,U1,P1,5100,T1,8,0\nE2,2025-03-03,U2,P1,5100,,eight,0\n",
        {AMOUNT_IS_DECIMAL.replace("amount", "regular_hours", 1): Bad("regular_hours", 1, ((2, "eight"),))},
        id="text-in-an-hours-column",
    ),
    pytest.param(
        "timesheets",
        "timesheets_long_day.csv",
        TIMESHEETS
        + "E1,2025-03-03,U1,P1,5100,T1,14,0\n"  # U1 on 3 March: 14 + 12 = 26 h
        + "E2,2025-03-03,U1,P2,5100,,12,0\n"
        + "E3,2025-03-03,U2,P1,5100,,12,0\n"  # another person the same day: 12 h
        + "E4,2025-03-04,U1,P1,5100,,20,4\n",  # U1 the next day: exactly 24 h
        {"a person logs at most 24 hours a day": Bad("person_id", 2, ((1, "U1"), (2, "U1")))},
        id="more-than-24-hours-a-day",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_dup.csv",
        gl(
            "G100,2025-03-02,P1,5100,Crew Co,x,1.00,USD,",
            "G100,2025-03-02,P1,5100,Crew Co,x,1.00,USD,",
            "G101,2025-03-02,P1,5100,Crew Co,x,1.00,USD,",
        ),
        {"txn_id is unique within the file": Bad("txn_id", 2, ((1, "G100"), (2, "G100")))},
        id="duplicate-id-in-the-file",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_edit.csv",
        gl(
            "G100,2025-03-02,P1,5100,Crew Co,new line,1.00,USD,",
            "G1,2025-01-15,P1,5100,Crew Co,January crew,3600.00,USD,",  # loaded as 3500.00
        ),
        {LEDGER_CONFLICT: Bad("txn_id", 1, ((2, "G1"),))},
        id="ledger-id-resent-with-another-amount",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_blank_cell.csv",
        gl("G100,2025-03-02,,5100,Crew Co,x,1.00,USD,"),
        {"project_code is present": Bad("project_code", 1, ((1, None),))},
        id="required-cell-empty",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_header_only.csv",
        GL,
        {"the file has data rows": Bad(None, None, words=("it has none (a header alone, or blank rows only)",))},
        id="header-only",
    ),
    pytest.param(
        "budgets",
        "budgets_final.csv",
        BUDGETS + "V9,final,P1,5100,2025-03,1.00,USD\n",
        {"version_status is one of draft, approved, locked": Bad("version_status", 1, ((1, "final"),))},
        id="invalid-version-status",
    ),
    pytest.param(
        "budgets",
        "budgets_mixed.csv",
        BUDGETS + "V9,draft,P1,5100,2025-03,1.00,USD\nV9,approved,P1,5200,2025-03,1.00,USD\n",
        {
            "lines of one budget_version and project_code share one version_status": Bad(
                "version_status", 2, ((1, "draft"), (2, "approved"))
            )
        },
        id="one-version-two-statuses",
    ),
    pytest.param(
        "invoices",
        "invoices_march.csv",
        "invoice_id,vendor,invoice_date,project_code,account_code,amount,currency,status,po_id\n"
        "I1,Lens House,2025-03-02,P1,5200,10.00,USD,PAID,PO1\n"
        "I2,Lens House,2025-03-02,P1,5200,10.00,USD,paid,PO9\n",
        {
            "status is one of received, approved, paid": Bad("status", 1, ((1, "PAID"),)),
            "po_id exists in purchase_orders": Bad("po_id", 1, ((2, "PO9"),)),
        },
        id="status-in-capitals-and-unknown-po",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_refs.csv",
        gl(
            "G100,2025-03-02,P1,5200,Lens House,pays the PO,100.00,USD,PO1",
            "G101,2025-03-02,P1,5100,Crew Co,pays no timesheet entry,100.00,USD,E404",
            "G102,2025-03-02,P1,5200,Lens House,names nothing in any case,100.00,USD,po1",
        ),
        {SOURCE_REF: Bad("source_ref", 2, ((2, "E404"), (3, "po1")))},
        id="source-ref-names-nothing",
    ),
    pytest.param(
        "invoices",
        "invoices_over_po.csv",
        # PO1 is 2000.00; 1500.00 + 800.00 = 2300.00, 300.00 above = 15% > the 10% tolerance
        INVOICES
        + "I1,Lens House,2025-03-02,P1,5200,1500.00,USD,received,PO1\n"
        + "I2,Lens House,2025-03-09,P1,5200,800.00,USD,received,PO1\n"
        + "I3,Lens House,2025-03-09,P1,5200,900.00,USD,received,\n",
        {
            PO_ABOVE_TOLERANCE: Bad(
                "invoiced_above_po",
                2,
                ((1, PO1_AT_2300), (2, PO1_AT_2300)),
            )
        },
        id="invoices-above-their-po-beyond-the-tolerance",
    ),
    pytest.param(
        "invoices",
        "invoices_gbp.csv",
        INVOICES + "I1,Lens House,2025-03-02,P1,5200,100.00,GBP,received,PO1\n",
        {"currency is its purchase order's currency": Bad("currency", 1, ((1, "GBP"),))},
        id="invoice-in-another-currency-than-its-po",
    ),
    pytest.param(
        "budgets",
        "budgets_no_unit.csv",
        BUDGETS_FULL
        + "V9,draft,P1,5100,2025-04,800.00,USD,10,,80.00,\n"
        + "V9,draft,P1,5200,2025-04,500.00,USD,,,,\n",
        {"unit is present when quantity is given": Bad("unit", 1, ((1, None),))},
        id="budget-quantity-without-unit",
    ),
    pytest.param(
        "estimates_to_complete",
        "estimates_to_complete_bad.csv",
        ETC
        + "P9,5100,2025-03-10,1000.00,USD,\n"
        + "P1,5100,2025-03-10,-500.00,USD,a credit is not an estimate\n"
        + "P1,5200,2025-03-10,400.00,EUR,\n",
        {
            "project_code exists in projects": Bad("project_code", 1, ((1, "P9"),)),
            "etc_amount is not negative": Bad("etc_amount", 1, ((2, "-500.00"),)),
            HAS_RATE: Bad("currency", 1, ((3, "EUR"),)),
        },
        id="estimate-to-complete-unknown-project-negative-no-rate",
    ),
    pytest.param(
        "fx_rates",
        "fx_rates_eur.csv",
        "currency,period,rate_to_base\nEUR,2025-03,-1.08\nCAD,2025-03,0\nJPY,2025-03,0.0067\n",
        {"rate_to_base is more than 0": Bad("rate_to_base", 2, ((1, "-1.08"), (2, "0")))},
        id="negative-and-zero-fx-rate",
    ),
    pytest.param(
        "fx_rates",
        "fx_rates_twice.csv",
        # rows 1 and 3 are one key (currency and period); rows 2 and 4 share one part of it each, not both
        "currency,period,rate_to_base\nEUR,2025-03,1.08\nEUR,2025-04,1.09\nEUR,2025-03,1.07\nCAD,2025-03,0.74\n",
        {"currency, period is unique within the file": Bad("currency", 2, ((1, "EUR"), (3, "EUR")))},
        id="composite-key-twice-in-the-file",
    ),
    pytest.param(
        "task_dependencies",
        "task_dependencies.csv",
        "task_id,depends_on_task_id\nT2,T1\nT1,T1\n",
        {"a task does not depend on itself": Bad("depends_on_task_id", 1, ((2, "T1"),))},
        id="task-depends-on-itself",
    ),
    pytest.param(
        "task_dependencies",
        "task_dependencies.csv",
        # T3 waits on T2, T2 on T1, T1 on T3: all three edges lie on the cycle
        "task_id,depends_on_task_id\nT3,T2\nT2,T1\nT1,T3\n",
        {CYCLE: Bad("depends_on_task_id", 3, ((1, "T2"), (2, "T1"), (3, "T3")))},
        id="task-dependency-cycle",
    ),
    pytest.param(
        "task_events",
        "task_events.csv",
        # rows 2 and 3 put T1 in progress and in review at one moment; row 4 is another task at that moment (fine)
        "task_id,status,changed_at\nT1,todo,2025-01-02T09:00:00\nT1,in_progress,2025-01-03T09:00:00\n"
        "T1,review,2025-01-03T09:00:00\nT2,todo,2025-01-03T09:00:00\n",
        {ONE_STATUS_PER_MOMENT: Bad("changed_at", 2, ((2, "2025-01-03T09:00:00"), (3, "2025-01-03T09:00:00")))},
        id="task-events-at-one-moment",
    ),
    # files that cannot be read as a table at all
    pytest.param(
        "gl_actuals",
        "gl_actuals_semicolon.csv",
        GL.replace(",", ";") + "G100;2025-03-02;P1;5100;Crew Co;x;1.00;USD;\n",
        {READABLE: Bad(None, None, words=("separated by ';'", "not commas"))},
        id="semicolon-delimiter",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_tabs.csv",
        GL.replace(",", "\t") + "G100\t2025-03-02\tP1\t5100\tCrew Co\tx\t1.00\tUSD\t\n",
        {READABLE: Bad(None, None, words=("separated by '\\t'", "not commas"))},
        id="tab-delimiter",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_latin1.csv",
        gl("G100,2025-03-02,P1,5100,Café Lumière,x,1.00,USD,").encode("latin-1"),
        {ROWS_READABLE: Bad(None, 1, words=("row 1 is not UTF-8 text",))},
        id="latin-1-bytes",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_broken.parquet",
        b"PAR1 this is not a parquet file",
        {READABLE: Bad(None, None, words=("cannot be read as parquet",))},
        id="corrupt-parquet",
    ),
    pytest.param(
        "gl_actuals",
        "gl_actuals_unclosed_quote.csv",
        gl('G100,2025-03-02,P1,5100,Crew Co,"Lens, filters,1.00,USD,', "G101,2025-03-02,P1,5100,Crew Co,x,1.00,USD,"),
        {ROWS_READABLE: Bad(None, 1, words=("row 1 has a quote that is not closed properly",))},
        id="unclosed-quote",
    ),
]


@pytest.mark.parametrize(("source", "file_name", "content", "expected"), REJECTIONS)
def test_bad_file_is_rejected_with_row_column_and_value(
    layout: WarehouseLayout, source: str, file_name: str, content: str | bytes, expected: dict[str, Bad]
) -> None:
    outcome = deliver(layout, source, file_name, content)
    original = content.encode("utf-8") if isinstance(content, str) else content
    assert_rejected(outcome, layout, original, expected)


# The good rows the column-level cases below start from; each file is accepted as it is.
GOOD = {
    "projects": PROJECTS + "P3,New Spot,D1,Acme,commercial,bidding,2025-04-01,2025-06-30,5000,USD\n",
    "purchase_orders": "po_id,vendor,issued_date,project_code,account_code,amount,currency,status\n"
    "PO2,Lens House,2025-03-01,P1,5200,500.00,USD,open\n",
    "gl_actuals": gl("G100,2025-03-02,P1,5100,Crew Co,March crew,100.00,USD,"),
    "timesheets": TIMESHEETS + "E1,2025-03-03,U1,P1,5100,T1,8,1\n",
    "budgets": BUDGETS + "V3,draft,P1,5100,2025-03,1500.00,USD\n",
}


@pytest.mark.parametrize("source", sorted(GOOD))
def test_the_good_files_the_column_cases_start_from_are_accepted(layout: WarehouseLayout, source: str) -> None:
    assert_accepted(deliver(layout, source, f"{source}_good.csv", GOOD[source]), rows=1)


@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("projects", "end_date"),
        ("purchase_orders", "amount"),
        pytest.param("gl_actuals", "amount"),
        pytest.param("timesheets", "overtime_hours"),
        pytest.param("budgets", "amount"),
    ],
)
def test_missing_required_column_is_named(layout: WarehouseLayout, source: str, column: str) -> None:
    content = without_column(GOOD[source], column)
    outcome = deliver(layout, source, f"{source}_missing.csv", content)
    assert_rejected(
        outcome, layout, content.encode(), {f"column {column} is in the file": Bad(column, 1, words=(column,))}
    )


@pytest.mark.parametrize(
    "source",
    [
        "projects",
        pytest.param("gl_actuals"),
        pytest.param("budgets"),
    ],
)
def test_empty_file_is_rejected_as_empty(layout: WarehouseLayout, source: str) -> None:
    outcome = deliver(layout, source, f"{source}_empty.csv", b"")
    assert outcome.status == "rejected"
    assert outcome.rows == 0
    assert "the file is empty" in failed(outcome)[READABLE].message
    assert not any("Binder Error" in reason for reason in outcome.reasons), outcome.reasons
    assert_quarantined(outcome, layout, b"", f"{source}_empty.csv")


RAGGED = [
    pytest.param(gl("G100,2025-03-02,P1,5100,Crew Co,x,1.00,USD,", "G101,2025-03-03,P1"), id="truncated-row"),
    pytest.param(
        PROJECTS
        + "P3,New Spot,D1,Acme,commercial,bidding,2025-04-01,2025-06-30,5000,USD\n"
        + "P4,Other Spot,D1,Acme,commercial,bidding,2025-04-01,2025-06-30,5000,USD,stray\n",
        id="row-with-a-cell-too-many",
    ),
]


@pytest.mark.parametrize("content", RAGGED)
def test_ragged_file_is_rejected_whole(layout: WarehouseLayout, content: str) -> None:
    source = "gl_actuals" if content.startswith("txn_id") else "projects"
    outcome = deliver(layout, source, f"{source}_ragged.csv", content)
    assert outcome.status == "rejected"
    assert outcome.reasons
    assert_quarantined(outcome, layout, content.encode(), f"{source}_ragged.csv")


@pytest.mark.parametrize("content", RAGGED)
def test_ragged_file_message_names_the_row(layout: WarehouseLayout, content: str) -> None:
    source = "gl_actuals" if content.startswith("txn_id") else "projects"
    outcome = deliver(layout, source, f"{source}_ragged.csv", content)
    assert outcome.status == "rejected"
    assert len(outcome.reasons) == 1
    assert re.search(r"\b(row 2|line 3)\b", outcome.reasons[0]), outcome.reasons


def test_repeated_header_column_is_rejected(layout: WarehouseLayout) -> None:
    content = GL.replace("source_ref", "amount") + "G100,2025-03-02,P1,5100,Crew Co,which amount?,1.00,USD,2.00\n"
    outcome = deliver(layout, "gl_actuals", "gl_actuals_two_amounts.csv", content)
    assert outcome.status == "rejected"
    assert any("repeat" in r and "amount" in r for r in outcome.reasons), outcome.reasons


def test_corrupt_workbook_is_rejected_not_a_crash(layout: WarehouseLayout) -> None:
    content = b"budget_version,amount\nthis was saved as .xlsx but is text\n"
    outcome = deliver(layout, "budgets", "budgets_v3.xlsx", content)
    assert outcome.status == "rejected"
    assert READABLE in failed(outcome)
    assert_quarantined(outcome, layout, content, "budgets_v3.xlsx")


@pytest.mark.parametrize(
    "file_name", ["gl_actuals_$(rm -rf ~).csv", "gl_actuals;x.csv", "gl_actuals..2025.csv", "gl_actuals_`id`.csv"]
)
def test_unsafe_file_name_is_rejected_and_kept_under_a_safe_name(layout: WarehouseLayout, file_name: str) -> None:
    content = gl("G100,2025-03-02,P1,5100,Crew Co,a perfectly good row,1.00,USD,")
    outcome = deliver(layout, "gl_actuals", file_name, content)
    assert outcome.status == "rejected"
    assert set(failed(outcome)) == {PLAIN_NAME}
    assert "no path parts" in outcome.reasons[0]
    report = assert_quarantined(outcome, layout, content.encode(), "rejected_file")
    assert f"[BLOCKING] {PLAIN_NAME}" in report


# ---------------------------------------------------------------------------------------------------- budgets


def test_changed_approved_budget_tells_to_submit_a_reforecast(layout: WarehouseLayout) -> None:
    # 156.25 hours at 80.00: the amount is still quantity × rate, only the version's lock is broken
    edited = V2_LINES[0].replace("12000.00,USD,150,", "12500.00,USD,156.25,")
    content = BUDGETS_FULL + edited + V2_LINES[1] + V2_LINES[2]
    outcome = deliver(layout, "budgets", "budgets_v2_edit.csv", content)
    # every line of the (version, project) is flagged, not only the changed one
    assert_rejected(
        outcome,
        layout,
        content.encode(),
        {LOCKED: Bad("budget_version", 3, ((1, "V2"), (2, "V2"), (3, "V2")), words=("submit a reforecast",))},
    )


@pytest.mark.parametrize(
    ("lines", "bad_rows"),
    [
        pytest.param([line.replace("approved", "draft") for line in V2_LINES], 3, id="demoted-to-draft"),
        pytest.param(V2_LINES[:2], 2, id="a-line-dropped"),
    ],
)
def test_approved_budget_cannot_be_demoted_or_shrunk(layout: WarehouseLayout, lines: list[str], bad_rows: int) -> None:
    content = BUDGETS_FULL + "".join(lines)
    outcome = deliver(layout, "budgets", "budgets_v2_edit.csv", content)
    assert_rejected(outcome, layout, content.encode(), {LOCKED: Bad("budget_version", bad_rows, ((1, "V2"),))})


def test_approved_budget_resent_identical_is_accepted(layout: WarehouseLayout) -> None:
    # the same lines in another order: another file (another sha256), the same content
    content = BUDGETS_FULL + V2_LINES[2] + V2_LINES[0] + V2_LINES[1]
    assert_accepted(deliver(layout, "budgets", "budgets_v2_resent.csv", content), rows=3)


def test_budget_may_reference_a_project_delivered_in_the_same_run(layout: WarehouseLayout) -> None:
    landing = layout.root.parent / "landing"
    landing.mkdir()
    (landing / "projects_p3.csv").write_text(GOOD["projects"], encoding="utf-8")
    (landing / "budgets_p3.csv").write_text(BUDGETS + "V1,draft,P3,5100,2025-04,4000.00,USD\n", encoding="utf-8")
    # in reference order, as the pipeline runs them
    for source in ("projects", "budgets"):
        [outcome] = ingest_source(SOURCES[source], landing, layout, "test", RUN)
        assert_accepted(outcome, rows=1)


def test_invoices_above_their_po_across_loads_are_rejected(layout: WarehouseLayout) -> None:
    first = INVOICES + "I1,Lens House,2025-03-02,P1,5200,1500.00,USD,approved,PO1\n"
    assert_accepted(deliver(layout, "invoices", "invoices_1.csv", first), rows=1)
    # I1 (1500.00, loaded) + I2 (800.00, this load) = 2300.00 against PO1's 2000.00
    second = INVOICES + "I2,Lens House,2025-03-09,P1,5200,800.00,USD,received,PO1\n"
    outcome = deliver(layout, "invoices", "invoices_2.csv", second)
    expected = {PO_ABOVE_TOLERANCE: Bad("invoiced_above_po", 1, ((1, PO1_AT_2300),))}
    assert_rejected(outcome, layout, second.encode(), expected)
    # I1 re-sent at 1100.00 replaces its first record: 1100.00 + 800.00 = 1900.00 is within PO1
    third = INVOICES + "I1,Lens House,2025-03-02,P1,5200,1100.00,USD,approved,PO1\n" + second.split("\n", 1)[1]
    outcome = deliver(layout, "invoices", "invoices_3.csv", third)
    assert_accepted(outcome, rows=2)
    assert outcome.warnings == []


def test_invoice_above_its_po_within_the_tolerance_is_a_warning(layout: WarehouseLayout) -> None:
    # 2150.00 against PO1's 2000.00: 150.00 (7.5%) above, within 10%
    content = INVOICES + "I1,Lens House,2025-03-02,P1,5200,2150.00,USD,approved,PO1\n"
    outcome = deliver(layout, "invoices", "invoices_march.csv", content)
    assert_accepted(outcome, rows=1)
    warning = failed(outcome, blocking=False)[PO_ABOVE]
    assert warning.bad_rows == 1
    assert outcome.warnings == [warning.message]
    assert "row 1 value 'PO1: invoices total 2150.00 against its 2000.00, 150.00 above (7.50%); tolerance 10%'" in (
        warning.message
    )


def test_the_po_tolerance_is_the_studios_setting(layout: WarehouseLayout) -> None:
    content = INVOICES + "I1,Lens House,2025-03-02,P1,5200,2150.00,USD,approved,PO1\n"
    landing = layout.root.parent / "landing"
    landing.mkdir()
    (landing / "invoices_march.csv").write_text(content, encoding="utf-8")
    strict = RunContext("USD", RUN.as_of, invoice_po_tolerance_pct=5)
    [outcome] = ingest_source(SOURCES["invoices"], landing, layout, "test", strict)
    assert outcome.status == "rejected"
    assert "150.00 above (7.50%); tolerance 5%" in failed(outcome)[PO_ABOVE_TOLERANCE].message
    assert lake_loads(layout, "invoices") == set()


def test_a_posting_may_name_records_arriving_in_the_same_run(layout: WarehouseLayout) -> None:
    landing = layout.root.parent / "landing"
    landing.mkdir()
    (landing / "timesheets_march.csv").write_text(TIMESHEETS + "E1,2025-03-03,U1,P1,5100,T1,8,1\n", encoding="utf-8")
    (landing / "equipment_rentals_march.csv").write_text(
        RENTALS + "R1,P1,5200,Lens kit,Lens House,2025-03-01,2025-03-05,100.00,0,USD\n", encoding="utf-8"
    )
    (landing / "invoices_march.csv").write_text(
        INVOICES + "I1,Lens House,2025-03-02,P1,5200,10.00,USD,paid,\n", encoding="utf-8"
    )
    (landing / "gl_actuals_march.csv").write_text(
        gl(
            "G100,2025-03-07,P1,5100,Payroll,E1 (8h + 1h OT at 50.00),475.00,USD,E1",
            "G101,2025-03-07,P1,5200,Lens House,R1 5 days,500.00,USD,R1",
            "G102,2025-03-07,P1,5200,Lens House,I1,10.00,USD,I1",
            "G103,2025-03-07,P1,5200,Lens House,deposit on PO1,200.00,USD,PO1",
        ),
        encoding="utf-8",
    )
    # in dependency order, as the pipeline runs them (gl_actuals' rules read the other three)
    assert {"timesheets", "equipment_rentals", "invoices", "purchase_orders"} <= set(
        referenced_sources(SOURCES["gl_actuals"])
    )
    for source in ("timesheets", "equipment_rentals", "invoices", "gl_actuals"):
        [outcome] = ingest_source(SOURCES[source], landing, layout, "test", RUN)
        assert_accepted(outcome, rows=4 if source == "gl_actuals" else 1)


def test_budget_amount_other_than_quantity_times_rate_is_a_warning(layout: WarehouseLayout) -> None:
    content = (
        BUDGETS_FULL
        + "V9,draft,P1,5100,2025-04,800.00,USD,10,hour,80.00,\n"  # 10 x 80.00 = 800.00
        + "V9,draft,P1,5100,2025-05,800.01,USD,10,hour,80.00,\n"  # a cent off: fine
        + "V9,draft,P1,5100,2025-06,850.00,USD,10,hour,80.00,\n"  # 50.00 off
        + "V9,draft,P1,5200,2025-04,500.00,USD,,,,\n"
    )
    outcome = deliver(layout, "budgets", "budgets_v9.csv", content)
    assert_accepted(outcome, rows=4)
    warning = failed(outcome, blocking=False)["amount is quantity × rate (within a cent)"]
    assert warning.bad_rows == 1
    assert "row 3 value '850.00'" in warning.message


def test_a_good_estimate_to_complete_is_accepted(layout: WarehouseLayout) -> None:
    content = ETC + "P1,5100,2025-03-10,4200.00,USD,two more shoot days\nP2,5200,2025-03-12,0,GBP,\n"
    outcome = deliver(layout, "estimates_to_complete", "estimates_to_complete_march.csv", content)
    assert_accepted(outcome, rows=2)
    assert outcome.warnings == []
    assert [(r["project_code"], r["etc_amount"], r["note"]) for r in lake_rows(layout, outcome)] == [
        ("P1", Decimal("4200.0000"), "two more shoot days"),
        ("P2", Decimal("0.0000"), None),
    ]


# ---------------------------------------------------------------------------------------------------- accepted


def test_unknown_extra_column_is_a_warning_and_is_not_stored(layout: WarehouseLayout) -> None:
    content = GL.replace("\n", ",cost_center\n") + "G100,2025-03-02,P1,5100,Crew Co,x,1.00,USD,,CC-7\n"
    outcome = deliver(layout, "gl_actuals", "gl_actuals_extra.csv", content)
    assert_accepted(outcome, rows=1)
    assert len(outcome.warnings) == 1
    assert "cost_center" in outcome.warnings[0]
    [row] = lake_rows(layout, outcome)
    assert "cost_center" not in row
    assert (row["txn_id"], row["amount"], row["source_ref"]) == ("G100", Decimal("1.0000"), None)


def test_a_misspelt_optional_column_is_named_beside_the_contracts_columns(layout: WarehouseLayout) -> None:
    """`supplier` for `vendor`: vendor is optional, so the load is accepted with vendor empty; the warning names
    the unread column and the source's columns, vendor among them, so the producer can see the slip."""
    content = GL.replace("vendor", "supplier") + "G100,2025-03-02,P1,5100,Crew Co,x,1.00,USD,\n"
    outcome = deliver(layout, "gl_actuals", "gl_actuals_supplier.csv", content)
    assert_accepted(outcome, rows=1)
    columns = "txn_id, posted_date, project_code, account_code, vendor, description, amount, currency, source_ref"
    assert outcome.warnings == [
        "the file has no columns beyond the contract (extra ones are ignored): supplier "
        f"(not read; the columns of gl_actuals are {columns})"
    ]
    [row] = lake_rows(layout, outcome)
    assert row["vendor"] is None and "supplier" not in row


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            ("\ufeff" + gl("G100,2025-03-02,P1,5100,Crew Co,from Excel,100.00,USD,")).encode("utf-8"),
            [{"txn_id": "G100", "amount": Decimal("100.0000"), "description": "from Excel"}],
            id="utf-8-bom",
        ),
        pytest.param(
            gl("G100,2025-03-02,P1,5100,Crew Co,windows line,100.00,USD,").replace("\n", "\r\n"),
            [{"txn_id": "G100", "description": "windows line", "currency": "USD", "source_ref": None}],
            id="crlf-line-endings",
        ),
        pytest.param(
            gl('G100,2025-03-02,P1,5100,"Lens House, Ltd","Lenses, filters\nand the ""big"" case",100.00,USD,'),
            [{"vendor": "Lens House, Ltd", "description": 'Lenses, filters\nand the "big" case'}],
            id="quoted-comma-newline-and-quotes",
        ),
        pytest.param(
            gl("G100,2025-03-02,P1,5100,Crew Co,x,100.00,USD,") + "\n",
            [{"txn_id": "G100"}],
            id="trailing-empty-line",
        ),
        pytest.param(
            gl("G100 ,2025-03-02 , P1 ,5100 ,Crew Co, x , 100.00 , USD ,"),
            [
                {
                    "txn_id": "G100",
                    "posted_date": date(2025, 3, 2),
                    "project_code": "P1",
                    "account_code": "5100",
                    "description": "x",
                    "amount": Decimal("100.0000"),
                    "currency": "USD",
                }
            ],
            id="whitespace-around-values",
        ),
        pytest.param(
            gl("G100,2025-03-02,P1\u00a0,5100,Crew Co,non-breaking space,100.00,USD,"),
            [{"project_code": "P1"}],
            id="non-breaking-space-after-a-code",
        ),
        pytest.param(
            gl("G100,2025-03-02,P1,5100,Robert'); DROP TABLE lake.gl_actuals;--,'); drop table marts.x; --,1.00,USD,"),
            [{"vendor": "Robert'); DROP TABLE lake.gl_actuals;--", "description": "'); drop table marts.x; --"}],
            id="text-that-looks-like-sql",
        ),
        pytest.param(
            gl(
                "G1,2025-01-15,P1,5100,Crew Co,January crew,3500.00,USD,",  # already loaded, identical
                "G100,2025-03-02,P1,5100,Crew Co,reverses G1,-3500.00,USD,",
            ),
            [{"txn_id": "G1", "amount": Decimal("3500.0000")}, {"txn_id": "G100", "amount": Decimal("-3500.0000")}],
            id="ledger-id-resent-identical-plus-a-reversal",
        ),
    ],
)
def test_awkward_but_valid_file_is_accepted_and_read_back_exactly(
    layout: WarehouseLayout, content: str | bytes, expected: list[dict]
) -> None:
    outcome = deliver(layout, "gl_actuals", "gl_actuals_march.csv", content)
    assert_accepted(outcome, rows=len(expected))
    assert outcome.warnings == []
    stored = lake_rows(layout, outcome)
    assert [{k: row[k] for k in want} for row, want in zip(stored, expected, strict=True)] == expected


def test_trailing_comma_on_every_data_row_is_named_with_how_to_mark_it(layout: WarehouseLayout) -> None:
    """A tool that ends every row (not its header) with a comma writes what a number with an unquoted thousands
    separator writes in every row (`…,8,0,1,250.00,,`): they cannot be told apart, and the second would load
    shifted, so the file is rejected, saying how to mark the first: end the header with a comma too."""
    p3 = "P3,New Spot,D1,Acme,commercial,bidding,2025-04-01,2025-06-30,5000,USD,\n"
    p4 = "P4,Old Spot,D1,Acme,commercial,bidding,2025-04-01,2025-07-31,7000,USD,\n"
    outcome = deliver(layout, "projects", "projects_p3.csv", PROJECTS + p3 + p4)
    assert outcome.status == "rejected"
    [reason] = outcome.reasons
    assert "2 row(s) cannot be read" in reason and "row 1 has more cells than the header (the last one empty)" in reason
    assert "end the header with one too" in reason
    assert "'P3,New Spot,D1,Acme,commercial,bidding,2025-04-01,2025-06-30,5000,USD,'" in reason
    # marked so, the file is read as written (its unnamed last column a warning)
    outcome = deliver(layout, "projects", "projects_p3.csv", PROJECTS.replace("\n", ",\n", 1) + p3 + p4)
    assert_accepted(outcome, rows=2)
    found = lake_rows(layout, outcome)
    assert [(r["project_code"], r["end_date"], r["contract_value"], r["currency"]) for r in found] == [
        ("P3", date(2025, 6, 30), Decimal("5000.0000"), "USD"),
        ("P4", date(2025, 7, 31), Decimal("7000.0000"), "USD"),
    ]


def test_typed_parquet_export_is_accepted(layout: WarehouseLayout, tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 'G100' AS txn_id, DATE '2025-03-02' AS posted_date, 'P1' AS project_code, "
            "'5100' AS account_code, 'Crew Co' AS vendor, 'typed' AS description, "
            "CAST(1234.5 AS DECIMAL(18, 2)) AS amount, 'USD' AS currency, CAST(NULL AS VARCHAR) AS source_ref) "
            f"TO '{path}' (FORMAT parquet)"
        )
    outcome = deliver(layout, "gl_actuals", "gl_actuals_march.parquet", path.read_bytes())
    assert_accepted(outcome, rows=1)
    [row] = lake_rows(layout, outcome)
    assert (row["posted_date"], row["amount"], row["source_ref"]) == (date(2025, 3, 2), Decimal("1234.5000"), None)


def test_budget_workbook_with_numeric_cells_is_accepted(layout: WarehouseLayout, tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(
        ["budget_version", "version_status", "project_code", "account_code", "period", "amount", "currency"]
    )
    workbook.active.append(["V3", "draft", "P1", "5100", "2025-03", 1500.5, "USD"])
    workbook.save(tmp_path / "book.xlsx")
    outcome = deliver(layout, "budgets", "budgets_v3.xlsx", (tmp_path / "book.xlsx").read_bytes())
    assert_accepted(outcome, rows=1)
    [row] = lake_rows(layout, outcome)
    assert (row["budget_version"], row["amount"], row["currency"]) == ("V3", Decimal("1500.5000"), "USD")


def test_exactly_24_hours_a_day_is_accepted(layout: WarehouseLayout) -> None:
    content = TIMESHEETS + "E1,2025-03-03,U1,P1,5100,T1,14,0\nE2,2025-03-03,U1,P2,5100,,8,2\n"
    assert_accepted(deliver(layout, "timesheets", "timesheets_march.csv", content), rows=2)


@pytest.mark.parametrize(
    ("rows", "rule", "flagged", "not_flagged"),
    [
        pytest.param(
            # as-of 2025-03-15 + 31 days = 2025-04-15, still fine; the day after is not
            ("G100,2025-04-16,P1,5100,Crew Co,x,1.00,USD,", "G101,2025-04-15,P1,5100,Crew Co,x,1.00,USD,"),
            "posted_date is at most 31 days after as-of",
            (1, "2025-04-16"),
            "2025-04-15",
            id="posted-far-in-the-future",
        ),
        pytest.param(
            ("G100,2025-03-02,P1,5100,Crew Co,x,1000000.01,USD,", "G101,2025-03-02,P1,5100,Crew Co,x,-1000000.00,USD,"),
            "amount is within ±1,000,000 (an outlier worth a second look)",
            (1, "1000000.01"),
            "-1000000.00",
            id="outlier-amount",
        ),
    ],
)
def test_suspicious_value_is_a_warning_and_the_load_is_accepted(
    layout: WarehouseLayout, rows: tuple[str, ...], rule: str, flagged: tuple[int, str], not_flagged: str
) -> None:
    outcome = deliver(layout, "gl_actuals", "gl_actuals_april.csv", gl(*rows))
    assert_accepted(outcome, rows=2)
    warnings = failed(outcome, blocking=False)
    assert set(warnings) == {rule}
    assert warnings[rule].bad_rows == 1
    assert outcome.warnings == [warnings[rule].message]
    assert f"row {flagged[0]} value {flagged[1]!r}" in outcome.warnings[0]
    assert not_flagged not in outcome.warnings[0]
    assert len(lake_rows(layout, outcome)) == 2


def test_same_file_delivered_again_is_skipped_not_rejected(layout: WarehouseLayout) -> None:
    already = (SMALL_STUDIO / "gl_actuals.csv").read_bytes()
    [first] = [m for m in lake_loads(layout, "gl_actuals")]
    for name in ("gl_actuals.csv", "gl_actuals_copy.csv"):  # the same bytes under its own name or another
        outcome = deliver(layout, "gl_actuals", name, already)
        assert (outcome.status, f"load_id={outcome.load_id}", outcome.rows) == ("skipped", first, 8)
        assert outcome.checks == [] and outcome.quarantine_report is None
    # a new file: accepted once, then skipped on the next delivery
    content = GOOD["gl_actuals"]
    accepted = deliver(layout, "gl_actuals", "gl_actuals_march.csv", content)
    assert_accepted(accepted, rows=1)
    again = deliver(layout, "gl_actuals", "gl_actuals_march.csv", content)
    assert (again.status, again.load_id) == ("skipped", accepted.load_id)
    assert not any(layout.quarantine.iterdir())


# ---------------------------------------------------------------------------------------------------- Data Docs


def expectation_rows(page: Path) -> list[tuple[bool, str, str]]:
    """Each expectation row of a GX Data Docs page: (failed, the expectation's words, its observed value)."""
    rows = []
    for row in page_rows(page.read_text(encoding="utf-8")):
        cells = re.findall(r"<td\b.*?</td>", row, flags=re.S)
        if len(cells) == 3:
            rows.append(("fa-times" in cells[0], html_text(cells[1]), html_text(cells[2])))
    return rows


def data_docs_link(report: Path) -> str:
    [link] = re.findall(r"^Data Docs: (.+)$", report.read_text(encoding="utf-8"), flags=re.M)
    return link


def test_a_rejected_loads_report_links_to_its_data_docs_page(layout: WarehouseLayout) -> None:
    """One formatted amount in row 2: the load's GX page (linked from its report by a relative path) shows that
    expectation, and only it, failed, with its one offending row."""
    content = gl(
        "G100,2025-03-02,P1,5100,Crew Co,ok line,100.00,USD,", 'G101,2025-03-03,P1,5100,Crew Co,fmt,"$1,234",USD,'
    )
    outcome = deliver(layout, "gl_actuals", "gl_actuals_formatted.csv", content)
    assert outcome.status == "rejected"
    link = data_docs_link(outcome.quarantine_report)
    assert not Path(link).is_absolute()
    page = (outcome.quarantine_report.parent / link).resolve()
    assert page.is_file() and page.is_relative_to(layout.quality.resolve() / "validations" / "gl_actuals")
    assert page.name == f"{outcome.load_id}.html"
    text = html_text(page.read_text(encoding="utf-8"))
    assert "Status: Failed" in text and "Data asset: gl_actuals_formatted.csv" in text
    rows = expectation_rows(page)
    assert [(words, observed) for failed, words, observed in rows if failed] == [(AMOUNT_IS_DECIMAL, "1")]
    assert len(rows) == len(outcome.checks)  # every rule of the suite ran and is on the page


def test_an_accepted_load_has_its_data_docs_page_too(layout: WarehouseLayout) -> None:
    outcome = deliver(layout, "gl_actuals", "gl_actuals_more.csv", gl("G100,2025-03-02,P1,5100,Crew Co,x,100.00,USD,"))
    assert_accepted(outcome, 1)
    assert outcome.data_docs is not None and outcome.data_docs.is_relative_to(layout.quality / "validations")
    assert "Status: Succeeded" in html_text(outcome.data_docs.read_text(encoding="utf-8"))
    rows = expectation_rows(outcome.data_docs)
    assert len(rows) == len(outcome.checks) and not any(failed for failed, _, _ in rows)


# ---------------------------------------------------------------------------------------------------- end to end

COMPARED_MARTS = ("fct_actual_costs", "fct_budget_lines", "mart_line_item_variance")
# bad file -> (its content, the one blocking rule that rejects it)
E2E_BAD = {
    "gl_actuals_conflict.csv": (
        gl("G1,2025-01-15,P1,5100,Crew Co,January crew,3600.00,USD,"),
        LEDGER_CONFLICT,
    ),
    "gl_actuals_tbc.csv": (
        gl("G100,2025-03-02,[tbc],5100,Crew Co,project to be confirmed,100.00,USD,"),
        "project_code exists in projects",
    ),
    "gl_actuals_semicolon.csv": (GL.replace(",", ";") + "G101;2025-03-02;P1;5100;Crew Co;x;1.00;USD;\n", READABLE),
    "gl_actuals;x.csv": (gl("G102,2025-03-02,P1,5100,Crew Co,x,1.00,USD,"), PLAIN_NAME),
    "gl_actuals_[draft].csv": (gl("G103,2025-03-02,P1,5100,Crew Co,x,1.00,USD,"), PLAIN_NAME),
    "budgets_v2_edit.csv": (
        BUDGETS_FULL + V2_LINES[0].replace("12000.00,USD,150,", "12500.00,USD,156.25,") + V2_LINES[1] + V2_LINES[2],
        LOCKED,
    ),
    "projects_p3.csv": (
        PROJECTS + "P3,New Spot,D1,Acme,commercial,bidding,2025-03-01,2025-02-01,5000,USD\n",
        "end_date is on or after start_date",
    ),
    # a good line beside a bad one: nothing of the file reaches the marts, not even its good line
    "gl_actuals_march.csv": (
        gl(
            "G100,2025-03-02,P1,5100,Crew Co,ok line,100.00,USD,",
            'G101,2025-03-03,P1,5100,Crew Co,formatted,"$1,234",USD,',
        ),
        AMOUNT_IS_DECIMAL,
    ),
    "gl_actuals_ragged.csv": (
        gl("G200,2025-03-02,P1,5100,Crew Co,ok,100.00,USD,", "G201,2025-03-03,P1"),
        ROWS_READABLE,
    ),
    # `1,234.50` unquoted, the last cell empty: DuckDB alone would read amount 1, currency 234.50
    "gl_actuals_shifted.csv": (gl("G300,2025-03-02,P1,5100,Crew Co,x,1,234.50,USD,"), ROWS_READABLE),
    "gl_actuals_vendor_twice.csv": (
        GL.replace("vendor,", "vendor,Vendor,") + "G301,2025-03-02,P1,5100,Crew Co,Crew Co,x,1.00,USD,\n",
        READABLE,
    ),
    # a QuickBooks export with `2,500.00` unquoted: cut to the header, its Amount would be 2
    "quickbooks_gl_shifted.csv": (
        'Small Studio Ltd\nGeneral Ledger\n"March, 2025"\n\n'
        ",Date,Transaction Type,Num,Name,Class,Memo/Description,Split,Amount,Balance\n"
        "5100 Crew,,,,,,,,,\n"
        ',03/02/2025,Bill,,Crew Co,P1,mics,AP,2,500.00,"2,900.00"\n',
        READABLE,
    ),
}
# the ledger's G1 again, identical, in another file: accepted and a no-op
E2E_RESENT = ("gl_actuals_resent.csv", gl("G1,2025-01-15,P1,5100,Crew Co,January crew,3500.00,USD,"))


@dataclass(frozen=True)
class BadRun:
    landing: Path
    warehouse: Path
    before: dict[str, list[tuple]]
    stderr: str
    exit_code: int


UNREAD = ("GL_Actuals_nov.csv", "notes.txt")  # a source's name in capitals; a stray note


@pytest.fixture(scope="session")  # one worker runs its group: built once, whatever runs between
def bad_run(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> BadRun:
    """The published small studio, run again with every E2E file delivered at once."""
    base = tmp_path_factory.mktemp("bad_run")
    landing, warehouse = base / "landing", base / "warehouse"
    shutil.copytree(SMALL_STUDIO, landing)
    copy_warehouse(small_warehouse, warehouse)
    args = ("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    database = warehouse / "studio.duckdb"
    before = {m: query(database, f"SELECT * FROM marts.{m} ORDER BY ALL") for m in COMPARED_MARTS}
    for name, (content, _) in E2E_BAD.items():
        (landing / name).write_bytes(content.encode("utf-8"))
    (landing / E2E_RESENT[0]).write_bytes(E2E_RESENT[1].encode("utf-8"))
    for name in UNREAD:  # named so that nothing reads them: the run says so
        (landing / name).write_text("txn_id,posted_date\n", encoding="utf-8")
    second = run_cli(*args)
    return BadRun(landing, warehouse, before, " ".join(second.stderr.split()), second.returncode)


@pytest.mark.slow
@pytest.mark.xdist_group("bad_run")
def test_bad_files_together_are_each_rejected_and_the_marts_stay_as_they_were(bad_run: BadRun) -> None:
    assert bad_run.exit_code == 3, bad_run.stderr
    assert f"already loaded; {len(E2E_BAD)} rejected; " in bad_run.stderr  # the run's summary counts them
    database = bad_run.warehouse / "studio.duckdb"
    for name in E2E_BAD:
        if "[" not in name:  # see the console-markup test below
            assert f"REJECTED {name}:" in bad_run.stderr, name
    # the file re-sending a loaded line as it was is a new file, accepted (its summary names it), never rejected
    assert f"1 new file ({E2E_RESENT[0]})" in bad_run.stderr and f"REJECTED {E2E_RESENT[0]}" not in bad_run.stderr
    assert f"NOT READ {', '.join(UNREAD)}: no landing source or mapping takes these names." in bad_run.stderr
    assert {m: query(database, f"SELECT * FROM marts.{m} ORDER BY ALL") for m in COMPARED_MARTS} == bad_run.before

    loads = dict(query(database, "SELECT file_name, status FROM audit.loads"))
    assert {name: loads.get(name) for name in E2E_BAD} == dict.fromkeys(E2E_BAD, "rejected")
    assert not set(UNREAD) & set(loads)
    assert loads[E2E_RESENT[0]] == "accepted"
    for name, (content, rule) in E2E_BAD.items():
        failed_rules = query(
            database,
            "SELECT rule FROM audit.check_results WHERE file_name = ? AND NOT passed AND blocking",
            [name],
        )
        assert failed_rules == [(rule,)], name
        manifests = (bad_run.warehouse / "quarantine").glob("*/_load.json")
        [folder] = [m.parent for m in manifests if json.loads(m.read_text(encoding="utf-8"))["file_name"] == name]
        kept_as = "rejected_file" if rule == PLAIN_NAME else name
        assert (folder / kept_as).read_bytes() == content.encode("utf-8")
        assert rule in (folder / "report.txt").read_text(encoding="utf-8")
        # a file the suite ran on links to its Data Docs page, where the rule is the one failed expectation
        link = data_docs_link(folder / "report.txt")
        if rule in (PLAIN_NAME, READABLE, ROWS_READABLE):  # read before any suite runs
            assert link.startswith("none"), name
        else:
            rows = expectation_rows(folder / link)
            assert [words for failed, words, _ in rows if failed and words == rule] == [rule], name

    # nothing of the rejected files is in the lake: gl_actuals holds the first load and the re-sent G1 only
    lake = bad_run.warehouse / "lake"
    assert [len(list((lake / s).glob("load_id=*"))) for s in ("gl_actuals", "budgets", "projects")] == [2, 2, 1]
    # the re-sent G1 is a no-op: staging keeps one G1, from the first load
    [(first_load,)] = query(database, "SELECT load_id FROM audit.loads WHERE file_name = 'gl_actuals.csv'")
    work = bad_run.warehouse / "_internal" / "work.duckdb"  # the staging models have a file of their own
    assert query(work, "SELECT load_id FROM staging.stg_gl_actuals WHERE txn_id = 'G1'") == [(first_load,)]


@pytest.mark.slow
@pytest.mark.xdist_group("bad_run")
def test_the_same_files_again_are_nothing_new_and_their_rejections_are_named_again(
    bad_run: BadRun, tmp_path: Path
) -> None:
    """Run again with nothing changed (in a copy: the landing folder with its rejected files, the warehouse), the
    publication is current: nothing is rebuilt or published, each rejected file is named again with its report in
    the copy's quarantine, and the run exits 3 as the first did."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(bad_run.landing, landing)
    copy_warehouse(bad_run.warehouse, warehouse)
    published = (warehouse / "studio.duckdb").stat().st_mtime_ns
    again = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    assert again.returncode == 3, again.stderr
    assert "nothing new" in again.stderr
    assert (warehouse / "studio.duckdb").stat().st_mtime_ns == published
    said = again.stderr.splitlines()
    rejected = [line.removeprefix("REJECTED ").split(":", 1)[0] for line in said if line.startswith("REJECTED ")]
    assert sorted(rejected) == sorted(E2E_BAD)
    # each report named is the copy's own, and is the report of that file
    reports = [line.split("report: ", 1)[1] for line in said if line.strip().startswith("report: ")]
    assert len(reports) == len(E2E_BAD)
    for name, report in zip(rejected, reports, strict=True):
        assert Path(report).is_relative_to(warehouse / "quarantine")
        assert f"Rejected load: {name}" in Path(report).read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.xdist_group("bad_run")
def test_a_rejection_on_stderr_names_the_row_column_and_value(bad_run: BadRun) -> None:
    assert "gl_actuals_march.csv" in bad_run.stderr
    assert "row 2" in bad_run.stderr and "amount" in bad_run.stderr and "'$1,234'" in bad_run.stderr
    [report] = [
        r for r in (bad_run.warehouse / "quarantine").glob("*/report.txt") if "gl_actuals_march.csv" in r.read_text()
    ]
    assert "row 2: amount = '$1,234'" in report.read_text(encoding="utf-8")
    assert "gl_actuals_ragged.csv" in bad_run.stderr and "row 2 has fewer cells than the header" in bad_run.stderr
    assert "REJECTED gl_actuals_shifted.csv:" in bad_run.stderr
    assert "row 1 has more cells than the header (the last one empty)" in bad_run.stderr
    assert "the header has column(s) vendor twice, in another case" in bad_run.stderr
    assert "row 7 has more cells than the header's 10" in bad_run.stderr
    # the audit keeps the rejected load (SPEC §5); nothing of it is among the loads making up the publication
    database = bad_run.warehouse / "studio.duckdb"
    march = "file_name = 'gl_actuals_march.csv'"
    assert query(database, f"SELECT status FROM audit.loads WHERE {march}") == [("rejected",)]
    assert query(database, f"SELECT count(*) FROM audit.publication_loads WHERE {march}") == [(0,)]


@pytest.mark.slow
@pytest.mark.xdist_group("bad_run")
def test_names_and_values_that_look_like_console_markup_are_printed_verbatim(bad_run: BadRun) -> None:
    assert "REJECTED gl_actuals_[draft].csv:" in bad_run.stderr
    assert "'[tbc]'" in bad_run.stderr


# ---------------------------------------------------------------------------------------------------- fx base

FX = "currency,period,rate_to_base\n"
QUOTED_TO = "rates are quoted to the base currency of studio.toml (its own rate is 1); this file quotes them to"


def deliver_fx(layout: WarehouseLayout, content: str, base: str) -> LoadOutcome:
    """An fx file checked for a studio whose base currency is `base`."""
    landing = layout.root.parent / "fx_landing"
    landing.mkdir()
    (landing / "fx_rates_more.csv").write_text(content, encoding="utf-8")
    [outcome] = ingest_source(SOURCES["fx_rates"], landing, layout, "test", RunContext(base, RUN.as_of))
    return outcome


def test_rates_quoted_to_usd_are_rejected_for_a_gbp_studio(layout: WarehouseLayout) -> None:
    """The sample's fx file (USD 1, GBP 1.2661) under base_currency = "GBP" must not convert USD at 1 and GBP at
    1.2661 to GBP: rows 2 and 3 (GBP not at 1) are named, with USD as the currency the file quotes."""
    content = FX + "USD,2025-04,1\nGBP,2025-04,1.2661\nGBP,2025-05,1.2702\nUSD,2025-05,1\n"
    outcome = deliver_fx(layout, content, "GBP")
    assert_rejected(
        outcome, layout, content.encode(), {QUOTED_TO: Bad("quotes_rates_to", 2, ((2, "USD"), (3, "USD")))}
    )


def test_rates_without_the_base_but_with_another_currency_at_one_are_rejected(layout: WarehouseLayout) -> None:
    """A EUR studio receiving rates quoted to USD (no EUR row; USD at 1 throughout): the two USD rows are named."""
    content = FX + "USD,2025-04,1\nGBP,2025-04,1.2661\nUSD,2025-05,1.0000\n"
    outcome = deliver_fx(layout, content, "EUR")
    assert_rejected(
        outcome, layout, content.encode(), {QUOTED_TO: Bad("quotes_rates_to", 2, ((1, "USD"), (3, "USD")))}
    )


@pytest.mark.parametrize(
    "content",
    [
        FX + "GBP,2025-04,1.2661\n",  # the base need not appear
        FX + "USD,2025-04,1\nGBP,2025-04,1.2661\n",  # where it does, at 1
        FX + "USD,2025-04,1\nBMD,2025-04,1\n",  # a currency pegged 1:1 beside the base is fine
    ],
    ids=["base-absent", "base-at-one", "pegged-currency"],
)
def test_rates_quoted_to_the_base_are_accepted(layout: WarehouseLayout, content: str) -> None:
    assert_accepted(deliver_fx(layout, content, "USD"), content.count("\n") - 1)


# ---------------------------------------------------------------------------------------------------- production


def test_dependency_closing_a_cycle_with_loaded_dependencies_is_rejected(layout: WarehouseLayout) -> None:
    # T3 -> T2 -> T1 is loaded first (a chain, accepted); T1 -> T3 then closes the cycle T1 -> T3 -> T2 -> T1
    assert_accepted(deliver(layout, "task_dependencies", "task_dependencies_chain.csv",
                            "task_id,depends_on_task_id\nT3,T2\nT2,T1\n"), rows=2)
    content = "task_id,depends_on_task_id\nT1,T3\n"
    outcome = deliver(layout, "task_dependencies", "task_dependencies_more.csv", content)
    assert_rejected(outcome, layout, content.encode(), {CYCLE: Bad("depends_on_task_id", 1, ((1, "T3"),))})


def test_status_at_a_moment_already_loaded_with_another_status_is_rejected(layout: WarehouseLayout) -> None:
    first = "task_id,status,changed_at\nT1,todo,2025-01-02T09:00:00\nT1,in_progress,2025-01-03T09:00:00\n"
    assert_accepted(deliver(layout, "task_events", "task_events_1.csv", first), rows=2)
    # row 1 re-sends a loaded event (a no-op); row 2 gives T1 a second status at 2025-01-03 09:00
    content = "task_id,status,changed_at\nT1,todo,2025-01-02T09:00:00\nT1,blocked,2025-01-03T09:00:00\n"
    outcome = deliver(layout, "task_events", "task_events_2.csv", content)
    assert_rejected(
        outcome, layout, content.encode(), {ONE_STATUS_PER_MOMENT: Bad("changed_at", 1, ((2, "2025-01-03T09:00:00"),))}
    )


def test_reopening_a_done_task_is_a_warning_and_the_history_is_kept(layout: WarehouseLayout) -> None:
    first = "task_id,status,changed_at\nT1,in_progress,2025-01-03T09:00:00\nT1,done,2025-01-10T17:00:00\n"
    assert_accepted(deliver(layout, "task_events", "task_events_1.csv", first), rows=2)
    # the client sends notes: T1 goes back to in_progress (row 1) and is done again (row 2, not a reopen)
    content = "task_id,status,changed_at\nT1,retake,2025-01-12T10:00:00\nT1,done,2025-01-14T12:00:00\n"
    outcome = deliver(layout, "task_events", "task_events_2.csv", content)
    assert_accepted(outcome, rows=2)
    warnings = failed(outcome, blocking=False)
    assert set(warnings) == {REOPENED}
    assert warnings[REOPENED].bad_rows == 1
    assert "row 1 value 'retake'" in outcome.warnings[0]
    assert [r["status"] for r in lake_rows(layout, outcome)] == ["retake", "done"]
