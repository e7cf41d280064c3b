"""Mappings (SPEC §4b): exports as QuickBooks, Xero, Harvest, Toggl and Clockify write them, turned into
contract rows before the gate. Expected rows are worked out by hand from the export each test writes; row
numbers are the export's own rows as a spreadsheet shows them (row 1 = the file's first line)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import EXIT_USAGE, main
from orchestration.lib.config import REPO_ROOT, WarehouseLayout
from orchestration.lib.contract import SOURCES
from orchestration.lib.loads import ingest_source
from orchestration.lib.mappings import (
    MAPPINGS_DIR,
    MappingError,
    load_mapping,
    load_mappings,
    map_export,
    unread_landing_files,
    unread_landing_files_message,
)
from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, refresh, rows
from tests.test_bad_inputs import RUN, base_warehouse, deliver, lake_rows, layout  # noqa: F401 - fixtures

EXPORTS = REPO_ROOT / "tests" / "fixtures" / "exports"
SAMPLE_EXPORTS = REPO_ROOT / "seeds" / "sample_exports"
MAPPINGS = load_mappings()

QB_PREAMBLE = 'Small Studio Ltd\nGeneral Ledger\n"January - March, 2025"\n\n'
QB_HEADER = ",Date,Transaction Type,Num,Name,Class,Memo/Description,Split,Amount,Balance\n"


def mapped(path: Path, name: str) -> tuple[list[tuple], list]:
    """The contract rows an export maps to (row number first) and the mapping's failed checks."""
    with duckdb.connect() as con:
        checks = map_export(con, path, MAPPINGS[name])
        columns = ", ".join(f'"{c}"' for c in MAPPINGS[name].target.column_names)
        return con.execute(f"SELECT _row_number, {columns} FROM landed ORDER BY _row_number").fetchall(), checks


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- the six mappings


def test_shipped_mappings_are_valid_and_cover_the_sample_exports() -> None:
    assert sorted(MAPPINGS) == [
        "clockify_time", "harvest_time", "quickbooks_gl", "toggl_time", "xero_account_transactions", "xero_budget",
    ]  # fmt: skip
    for path in SAMPLE_EXPORTS.iterdir():
        name = next(n for n in sorted(MAPPINGS, key=len, reverse=True) if path.name.startswith(n))
        _, checks = mapped(path, name)
        assert checks == [], (path.name, [c.message for c in checks])


def test_files_no_source_or_mapping_reads_are_named(tmp_path: Path) -> None:
    """Read: a source's prefix (SPEC §4) or a mapping's name (§4b) and a landing suffix. Not read, by hand: a name in
    capitals, an unknown prefix, a source's prefix with another suffix; never listed: AS_OF and hidden files."""
    for name in (
        "AS_OF", ".DS_Store", "gl_actuals_nov.csv", "budgets_v2.xlsx", "harvest_time_report.csv",
        "GL_Actuals_nov.csv", "ledger.csv", "timesheets_oct.txt", "gl_actuals_nov.xlsx", "harvest_time_report.parquet",
    ):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    (tmp_path / "gl_actuals_november").mkdir()  # a folder: a refresh reads the landing folder's own files only
    (tmp_path / "gl_actuals_november" / "gl_actuals_1.csv").write_text("x\n", encoding="utf-8")
    mappings = load_mappings()
    found = unread_landing_files(tmp_path, mappings)
    # a ledger as a spreadsheet (budgets only may be one); a mapped export as Parquet (exports are CSV or .xlsx)
    assert found == [
        "GL_Actuals_nov.csv", "gl_actuals_nov.xlsx", "gl_actuals_november/", "harvest_time_report.parquet",
        "ledger.csv", "timesheets_oct.txt",
    ]  # fmt: skip
    message = unread_landing_files_message(["ledger.csv"], mappings)
    assert message.startswith("ledger.csv: no landing source or mapping takes this name.")
    assert "gl_actuals" in message and "harvest_time" in message and "(.xlsx too for budgets)" in message


def test_quickbooks_gl_drops_preamble_balances_and_totals_and_carries_the_account_down() -> None:
    got, checks = mapped(SAMPLE_EXPORTS / "quickbooks_gl_2026_10.csv", "quickbooks_gl")
    assert checks == []
    # file lines 1-5 preamble + header; 6 heading 4000, 7 Beginning Balance, 8 the invoice, 9 Total for, ...
    by_row = {r[0]: r[2:] for r in got}
    assert by_row == {
        8: ("2026-10-02", "CM-2602", "4000", "Meridian Air", "Holiday spot - second stage payment", "52000.00", "USD", None),  # noqa: E501
        12: ("2026-10-05", "CM-2602", "5200", "Lens House", "Alexa 35 package - 3 days", "4250.00", "USD", None),
        # "(1,250.00)": parentheses are a negative, the comma a thousands separator
        13: ("2026-10-09", "CM-2602", "5200", "Lens House", "Returned zoom lens - credit", "-1250.00", "USD", None),
        16: ("2026-10-07", "CM-2603", "5310", "Skyline Air", "Crew flights London - recce", "2980.40", "USD", None),
        17: ("2026-10-07", "CM-2603", "5310", "Skyline Air", "Crew flights London - recce", "2980.40", "USD", None),
        20: ("2026-10-01", "OVH-STUDIO", "6200", "Frame Cloud", "Review & approval seats", "780.00", "USD", None),
        21: ("2026-10-12", "OVH-STUDIO", "6200", "Frame Cloud", "Seat refund", "-60.00", "USD", None),
    }  # fmt: skip
    ids = {r[0]: r[1] for r in got}
    # two identical flights: the same content hash, told apart by their occurrence count
    assert ids[16][:-2] == ids[17][:-2] and ids[16].endswith("-1") and ids[17].endswith("-2")
    assert len(set(ids.values())) == 7


def test_xero_account_transactions_signs_debit_and_credit_and_reads_text_and_date_cells() -> None:
    got, checks = mapped(SAMPLE_EXPORTS / "xero_account_transactions_2026_10.xlsx", "xero_account_transactions")
    assert checks == []
    assert [(r[0], r[2], r[3], r[4], r[7]) for r in got] == [
        (8, "2026-10-06", "CM-2603", "4000", "38000.0000"),  # a credit on a revenue account lands positive
        (13, "2026-10-02", "CM-2603", "5520", "412.5000"),  # "2 Oct 2026" as text, debit 412.50
        (14, "2026-10-08", "CM-2603", "5520", "-62.5000"),  # a date cell; credit 62.50 on a cost account
    ]


def test_xero_budget_turns_months_across_into_one_row_a_month() -> None:
    got, checks = mapped(SAMPLE_EXPORTS / "xero_budget_V3-xero_POD-2604.csv", "xero_budget")
    assert checks == []
    assert len(got) == 4 * 12  # four accounts × twelve months; the Total column and Total rows dropped
    crew = [r for r in got if r[4] == "5100"]
    assert [(r[0], r[5], r[6]) for r in crew[8:10]] == [(6, "2026-09", "6960.00"), (6, "2026-10", "7540.00")]
    colour = [r for r in got if r[4] == "5410"]
    # "1,166.67" × 9 + "1,400.00" × 3 = 10,500.03 + 4,200.00 = 14,700.03, the export's own Total
    assert sum(float(r[6]) for r in colour) == pytest.approx(14700.03)


def test_time_trackers_map_people_projects_and_hours() -> None:
    harvest, toggl, clockify = (
        mapped(SAMPLE_EXPORTS / f"{n}_2026_10.csv", n)[0] for n in ("harvest_time", "toggl_time", "clockify_time")
    )
    # (row, work_date, person, project, account, regular hours, overtime hours, hourly rate)
    shape = [(r[0], r[2], r[3], r[4], r[5], r[7], r[8], r[9]) for r in harvest]
    assert shape == [
        (2, "2026-10-12", "P014", "POD-2604", "5100", "3.5", "0", "62.00"),  # Eli Brooks, Cost Rate 62.00
        (3, "2026-10-13", "P015", "POD-2604", "5100", "4.25", "0", "58.00"),
        (4, "2026-10-13", "P009", "CM-2602", "5100", "6.0", "0", None),  # no cost rate: the person's
    ]
    # Toggl's 02:20:00 = 2 + 20/60 = 2.3333 h (four places, the contract's); 05:45:00 = 5.75 h
    assert [(r[2], r[3], r[4], r[7]) for r in toggl] == [
        ("2026-10-12", "P010", "CM-2602", "2.3333"),
        ("2026-10-14", "P011", "CM-2603", "5.7500"),
    ]
    # Clockify's 10/13/2026 is month first, as the mapping states
    assert [(r[2], r[3], r[4], r[7]) for r in clockify] == [
        ("2026-10-13", "P004", "EP-2601", "6.50"),
        ("2026-10-14", "P020", "OVH-STUDIO", "1.50"),
    ]


# --------------------------------------------------------------------------------------- formats and crosswalks


def test_day_first_date_in_a_month_first_mapping_is_rejected_with_row_column_and_value(layout) -> None:  # noqa: F811
    text = QB_PREAMBLE + QB_HEADER + "5100 Crew,,,,,,,,,\n,15/03/2025,Bill,,Crew Co,P1,March crew,AP,100.00,100.00\n"
    outcome = deliver(layout, "gl_actuals", "quickbooks_gl_march.csv", text)
    assert outcome.status == "rejected"
    messages = " | ".join(outcome.reasons)
    # line 7 of the file: 4 preamble lines, the header, the heading, the bill
    assert "Date is a date as %m/%d/%Y: 1 row(s) do not, e.g. row 7 Date = '15/03/2025'" in messages
    assert "row 7" in outcome.quarantine_report.read_text() and "15/03/2025" in messages
    assert not (layout.lake / "gl_actuals").exists() or len(list((layout.lake / "gl_actuals").iterdir())) == 1


def test_malformed_amount_stays_text_and_is_rejected(tmp_path: Path) -> None:
    text = QB_PREAMBLE + QB_HEADER + '5100 Crew,,,,,,,,,\n,01/15/2025,Bill,,Crew Co,P1,x,AP,"4,25.00",\n'
    got, checks = mapped(write(tmp_path, "quickbooks_gl_x.csv", text), "quickbooks_gl")
    assert got[0][7] == "4,25.00"  # "4,25.00" has a misplaced separator: left as written for the gate to name
    assert [c.message for c in checks] == [
        "Amount is a number as the mapping states it: 1 row(s) do not, e.g. row 7 Amount = '4,25.00'"
    ]


def test_rows_after_an_empty_line_keep_the_exports_numbers(tmp_path: Path) -> None:
    """A line with nothing on it is a row of the export as a spreadsheet opens it, though the CSV reader passes
    over it; a quoted memo over two lines is one row. Numbers worked out by hand from the file below."""
    text = (
        QB_PREAMBLE + QB_HEADER + "5100 Crew,,,,,,,,,\n"  # rows 1-4 preamble, 5 header, 6 heading
        ',01/15/2025,Bill,,Crew Co,P1,crew,AP,"400.00",\n'  # row 7
        "\n"  # row 8: nothing
        ',01/16/2025,Bill,,Crew Co,P1,"two\nlines",AP,50.00,\n'  # row 9
        "\n\n"  # rows 10 and 11: nothing
        ',01/17/2025,Bill,,Crew Co,P1,x,AP,"4,25.00",\n'  # row 12
    )
    got, checks = mapped(write(tmp_path, "quickbooks_gl_gaps.csv", text), "quickbooks_gl")
    assert [r[0] for r in got] == [7, 9, 12]
    assert [c.message for c in checks] == [
        "Amount is a number as the mapping states it: 1 row(s) do not, e.g. row 12 Amount = '4,25.00'"
    ]


def test_a_row_with_a_cell_beyond_the_header_is_rejected_not_cut_to_the_header(tmp_path: Path) -> None:
    """`2,500.00` left unquoted by a hand edit: the row has 11 cells under a 10-column header, and cut to the
    header its Amount would be 2."""
    text = (
        QB_PREAMBLE + QB_HEADER + "5100 Crew,,,,,,,,,\n"
        ',01/15/2025,Bill,,Crew Co,P1,crew,AP,"400.00",\n'  # file row 7: fits
        ',01/16/2025,Bill,,Crew Co,P1,mics,AP,2,500.00,"2,900.00"\n'  # file row 8: one cell too many
        ",01/17/2025,Bill,,Crew Co,P1,gaffer,AP,100.00,,,\n"  # row 9: two empty cells beyond: trailing commas
    )
    with duckdb.connect() as con:
        checks = map_export(con, write(tmp_path, "quickbooks_gl_edited.csv", text), MAPPINGS["quickbooks_gl"])
    assert [c.message for c in checks] == [
        "every row has the header's columns: 1 row(s) cannot be read, e.g. row 8 has more cells than the header's "
        "10: is a number written with a comma unquoted?: ',01/16/2025,Bill,,Crew Co,P1,mics,AP,2,500.00,2,900.00'"
    ]


def test_an_export_that_cannot_be_cut_into_rows_is_rejected_as_unreadable(layout) -> None:  # noqa: F811
    """Through the gate: the row with a cell beyond the header is named; a quote never closed (the rest of the file
    one cell of over 128 KiB) is a rejection, not a crash of the run."""
    shifted = '5100 Crew,,,,,,,,,\n,01/16/2025,Bill,,Crew Co,P1,mics,AP,2,500.00,"2,900.00"\n'
    outcome = deliver(layout, "gl_actuals", "quickbooks_gl_shifted.csv", QB_PREAMBLE + QB_HEADER + shifted)
    assert outcome.status == "rejected"
    assert [r for r in outcome.reasons if "row 7 has more cells than the header's 10" in r]
    report = outcome.quarantine_report.read_text(encoding="utf-8")
    assert "Rows are the export's own: row 1 is the file's first line, preamble included." in report
    unclosed = ',01/15/2025,Bill,,Crew Co,P1,"memo with an unclosed quote,AP,400.00,\n'
    rows = "".join(f",01/15/2025,Bill,,Crew Co,P1,crew {n},AP,400.00,\n" for n in range(3000))
    outcome = deliver(layout, "gl_actuals", "quickbooks_gl_unclosed.csv", QB_PREAMBLE + QB_HEADER + unclosed + rows)
    assert outcome.status == "rejected"
    assert [r for r in outcome.reasons if r.startswith("cannot be read as an export")]


def test_a_memo_on_two_lines_is_read(tmp_path: Path) -> None:
    """A quoted cell may hold a line break (a memo typed on two lines): the row is one row."""
    row = ',01/15/2025,Bill,,Crew Co,P1,"Clip licence\r\ntwo lines",AP,"400.00",\n'
    text = QB_PREAMBLE + QB_HEADER + "5100 Crew,,,,,,,,,\n" + row
    got, checks = mapped(write(tmp_path, "quickbooks_gl_memo.csv", text), "quickbooks_gl")
    assert checks == []
    assert [(r[0], r[6], r[7]) for r in got] == [(7, "Clip licence\r\ntwo lines", "400.00")]


def test_crosswalk_miss_is_rejected_naming_the_value_and_the_crosswalk(layout) -> None:  # noqa: F811
    text = (
        "Date,Client,Project,Project Code,Task,Notes,Hours,First Name,Last Name,Cost Rate\n"
        "2025-01-15,Acme,Spring Spot,P1,Edit,,2.0,Ann,Editor,\n"
    )
    outcome = deliver(layout, "timesheets", "harvest_time_jan.csv", text)
    assert outcome.status == "rejected"
    messages = " | ".join(outcome.reasons)
    assert "every First Name Last Name is in the crosswalk crosswalks/people.csv" in messages
    assert "row 2 First Name Last Name = 'Ann Editor'" in messages
    assert "to mappings/crosswalks/people.csv" in messages
    assert "row 2 Project = 'Spring Spot'" in messages and "crosswalks/projects.csv" in messages


def test_a_harvest_rate_in_another_currency_than_the_persons_is_rejected(layout, tmp_path: Path) -> None:  # noqa: F811
    """Harvest states each row's currency (the account's); the contract reads a timesheet's rate in the person's
    (people.currency): Ann Editor (U1) costs in USD, Bob Grip (U2) in GBP. Rows 3 and 5 state another currency
    than their person's, and only those are named."""
    mappings_dir = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, mappings_dir)
    with (mappings_dir / "crosswalks" / "people.csv").open("a") as handle:
        handle.write("Ann Editor,U1\nBob Grip,U2\n")
    with (mappings_dir / "crosswalks" / "projects.csv").open("a") as handle:
        handle.write("Spring Spot,P1\n")
    mappings = load_mappings(mappings_dir)
    header = "Date,Client,Project,Project Code,Task,Notes,Hours,First Name,Last Name,Cost Rate,Currency\n"
    rows = [
        "2025-01-15,Acme,Spring Spot,P1,Edit,,2.0,Ann,Editor,50.00,US Dollar - USD\n",  # row 2
        "2025-01-15,Acme,Spring Spot,P1,Grip,,3.0,Bob,Grip,40.00,US Dollar - USD\n",  # row 3: Bob costs in GBP
        "2025-01-16,Acme,Spring Spot,P1,Grip,,1.5,Bob,Grip,40.00,British Pound - GBP\n",  # row 4
        "2025-01-16,Acme,Spring Spot,P1,Edit,,1.0,Ann,Editor,45.00,Euro - EUR\n",  # row 5: Ann costs in USD
    ]

    def deliver_export(name: str, text: str):
        landing = tmp_path / "landing"
        shutil.rmtree(landing, ignore_errors=True)
        landing.mkdir()
        (landing / name).write_text(text, encoding="utf-8")
        [outcome] = ingest_source(SOURCES["timesheets"], landing, layout, "test", RUN, mappings=mappings)
        return outcome

    outcome = deliver_export("harvest_time_jan.csv", header + "".join(rows))
    assert outcome.status == "rejected"
    [check] = [c for c in outcome.checks if not c.passed]
    assert check.rule == "Currency is the person's currency (people.currency), the one the rate is read in"
    assert check.bad_rows == 2 and [(e["row"], e["value"]) for e in check.examples] == [
        (3, "US Dollar - USD"),
        (5, "Euro - EUR"),
    ]
    assert "row 3 Currency = 'US Dollar - USD' (U2 costs in GBP)" in check.message
    # kept whole in quarantine beside a report naming the rows, and nothing of it in the lake
    kept = outcome.quarantine_report.parent
    assert (kept / "harvest_time_jan.csv").read_text(encoding="utf-8") == header + "".join(rows)
    assert "row 5 Currency = 'Euro - EUR' (U1 costs in USD)" in outcome.quarantine_report.read_text(encoding="utf-8")
    assert not list((layout.lake / "timesheets").glob("*/data.parquet"))
    # the rows in their person's currency load, their rates as written
    outcome = deliver_export("harvest_time_jan_ok.csv", header + rows[0] + rows[2])
    assert outcome.status == "accepted", outcome.reasons
    with duckdb.connect() as con:
        loaded = con.execute(
            f"SELECT person_id, hourly_rate FROM read_parquet('{layout.lake}/timesheets/*/data.parquet') ORDER BY 1"
        ).fetchall()
    assert [(p, float(r)) for p, r in loaded] == [("U1", 50.0), ("U2", 40.0)]
    # Bob's currency corrected to USD in people.csv: his latest record is the one read, so his USD row loads and
    # only Ann's EUR row (row 3 of this file) is named
    people = tmp_path / "people_landing"
    people.mkdir()
    (people / "people_fix.csv").write_text(
        "person_id,person_name,department_code,worker_type,weekly_capacity_hours,hourly_rate,currency\n"
        "U2,Bob Grip,D2,freelance,40,40.00,USD\n",
        encoding="utf-8",
    )
    [fixed] = ingest_source(SOURCES["people"], people, layout, "test", RUN)
    assert fixed.status == "accepted", fixed.reasons
    outcome = deliver_export("harvest_time_feb.csv", header + rows[1] + rows[3])
    assert [(e["row"], e["value"]) for c in outcome.checks if not c.passed for e in c.examples] == [(3, "Euro - EUR")]


def test_a_gate_rejection_of_an_export_names_the_exports_column(layout) -> None:  # noqa: F811
    """SPEC §4b: a row with no Class fails the gate's `project_code is present`, named as the export's column."""
    text = QB_PREAMBLE + QB_HEADER + "5100 Crew,,,,,,,,,\n" + ',01/15/2025,Bill,,Crew Co,,crew,AP,"400.00",\n'
    outcome = deliver(layout, "gl_actuals", "quickbooks_gl_noclass.csv", text)
    assert outcome.status == "rejected"
    [reason] = [r for r in outcome.reasons if r.startswith("project_code is present")]
    assert "row 7 value NULL" in reason and reason.endswith("(the export's column 'Class')")


def test_an_export_of_a_quiet_week_is_a_load_of_no_rows(layout) -> None:  # noqa: F811
    """Only a beginning balance and totals: accepted with no rows and a warning (a contract file with no rows is
    rejected)."""
    rows = '5100 Crew,,,,,,,,,\n,Beginning Balance,,,,,,,,"1,000.00"\nTotal for 5100 Crew,,,,,,,,$0.00,\n'
    outcome = deliver(layout, "gl_actuals", "quickbooks_gl_quiet.csv", QB_PREAMBLE + QB_HEADER + rows)
    assert outcome.status == "accepted", outcome.reasons
    assert outcome.rows == 0
    assert outcome.warnings == ["the file has data rows: the export has no transactions (a quiet week?): loaded empty"]


def test_currency_captured_from_a_header_and_a_column_found_by_pattern(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "bank_feed.toml").write_text(
        'target = "gl_actuals"\n[header]\ncontains = ["Posted"]\n[number]\nnegatives = ["trailing_minus"]\n'
        "[columns]\n"
        'txn_id = { column = "Ref" }\nposted_date = { column = "Posted", date = "%d.%m.%Y" }\n'
        'project_code = { value = "P1" }\naccount_code = { value = "5900" }\n'
        "amount = { column_matching = '^Amount \\(' , number = true }\n"
        "currency = { header_of = '^Amount \\((\\w+)\\)$' }\n"
    )
    export = write(tmp_path, "bank_feed_1.csv", "Ref,Posted,Amount (GBP)\nB1,03.02.2025,120.50-\n")
    with duckdb.connect() as con:
        assert map_export(con, export, load_mapping(folder / "bank_feed.toml")) == []
        got = con.execute("SELECT txn_id, posted_date, amount, currency FROM landed").fetchall()
    assert got == [("B1", "2025-02-03", "-120.50", "GBP")]  # a trailing minus, day-first as stated


# -------------------------------------------------------------------------------------------- re-exports


def test_overlapping_year_to_date_re_export_loads_nothing_twice(layout) -> None:  # noqa: F811
    january = QB_HEADER + (
        "5100 Crew,,,,,,,,,\n"
        ',01/15/2025,Bill,,Crew Co,P1,Crew,AP,"1,000.00","1,000.00"\n'
        ',01/15/2025,Bill,,Crew Co,P1,Crew,AP,"1,000.00","2,000.00"\n'
        'Total for 5100 Crew,,,,,,,,"$2,000.00",\n'
    )
    # the year to date: the same two January bills (other running balances, other rows) and one February bill
    to_february = (
        QB_PREAMBLE
        + QB_HEADER
        + (
            "5100 Crew,,,,,,,,,\n"
            ",Beginning Balance,,,,,,,,0.00\n"
            ',01/15/2025,Bill,,Crew Co,P1,Crew,AP,"1,000.00","1,000.00"\n'
            ',01/15/2025,Bill,,Crew Co,P1,Crew,AP,"1,000.00","2,000.00"\n'
            ',02/03/2025,Bill,,Crew Co,P1,Crew,AP,(250.00),"1,750.00"\n'
            'Total for 5100 Crew,,,,,,,,"$1,750.00",\n'
        )
    )
    first = deliver(layout, "gl_actuals", "quickbooks_gl_2025_01.csv", january)
    second = deliver(layout, "gl_actuals", "quickbooks_gl_2025_ytd.csv", to_february)
    assert first.status == second.status == "accepted", (first.reasons, second.reasons)
    loaded = [r["txn_id"] for r in lake_rows(layout, first)]
    again = [r["txn_id"] for r in lake_rows(layout, second)]
    assert again[:2] == loaded and len(set(again)) == 3  # January's two ids come back identical: no-ops
    distinct = {(r["txn_id"], r["amount"]) for r in [*lake_rows(layout, first), *lake_rows(layout, second)]}
    # each transaction once: 1,000.00 + 1,000.00 - 250.00 = 1,750.00, the export's own total
    assert len(distinct) == 3 and sum(amount for _, amount in distinct) == 1750


# -------------------------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("[columns]", "[colums]"), "unknown key 'colums'"),
        (("[columns]", '[rate_currency]\ncolumn = "Currency"\n[columns]'),
         "[rate_currency]: only for a target that reads a rate in the person's currency (timesheets)"),
        (('amount = { column = "Amount", number = true }', 'amount = { colum = "Amount", number = true }'),
         "[columns] amount: unknown key 'colum'"),
        (('amount = { column = "Amount", number = true }', ""), "required column(s) of gl_actuals not mapped: amount"),
        (('date = "%m/%d/%Y"', 'date = "%m/%q/%Y"'), "[columns] posted_date key 'date'"),
        (('vendor = { column = "Name" }', 'vendr = { column = "Name" }'), "key 'vendr' is not a column of gl_actuals"),
    ],
)  # fmt: skip
def test_mapping_with_an_error_names_the_key(tmp_path: Path, edit: tuple[str, str], words: str) -> None:
    text = (MAPPINGS_DIR / "quickbooks_gl.toml").read_text()
    assert edit[0] in text
    (tmp_path / "quickbooks_gl.toml").write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(MappingError) as error:
        load_mappings(tmp_path)
    assert "mapping quickbooks_gl.toml" in str(error.value) and words in str(error.value)


def test_run_with_a_broken_mapping_is_a_usage_error(monkeypatch, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, broken)
    path = broken / "harvest_time.toml"
    path.write_text(path.read_text().replace("[header]", "[heading]"))
    monkeypatch.setattr("orchestration.lib.mappings.MAPPINGS_DIR", broken)
    monkeypatch.setattr("orchestration.lib.mappings.load_mappings.__defaults__", (broken,))
    assert main(["run", "--landing", str(SMALL_STUDIO), "--warehouse", str(tmp_path / "wh")]) == EXIT_USAGE
    assert "mapping harvest_time.toml: unknown key 'heading'" in capsys.readouterr().err
    assert not (tmp_path / "wh" / "studio.duckdb").exists()


# -------------------------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_quickbooks_export_reaches_the_marts_as_the_contract_file_does(tmp_path: Path, small_db: Path) -> None:
    """The small studio with its USD ledger (G1-G4) as a QuickBooks export instead of gl_actuals.csv: the same
    line items to the cent. The GBP postings (G5-G8, a second company in its own currency) stay a contract file."""
    landing = tmp_path / "landing"
    shutil.copytree(SMALL_STUDIO, landing)
    ledger = (landing / "gl_actuals.csv").read_text().splitlines()
    (landing / "gl_actuals.csv").unlink()
    (landing / "gl_actuals_uk.csv").write_text("\n".join([ledger[0], *ledger[5:]]) + "\n")
    shutil.copy(EXPORTS / "quickbooks_gl_2025_q1.csv", landing)
    result = refresh(landing, tmp_path / "warehouse", SMALL_AS_OF)
    assert result.success and not result.rejected
    sql = (
        "SELECT period, project_code, account_code, budget, actual, variance FROM marts.mart_line_item_variance "
        "ORDER BY ALL"
    )
    assert rows(tmp_path / "warehouse" / "studio.duckdb", sql) == rows(small_db, sql)
    assert WarehouseLayout(tmp_path / "warehouse").published_db.exists()
