"""Landing files become typed, immutable lake loads (SPEC §5): formats, types, the load ledger."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.contract import SOURCES
from orchestration.lib.gate.context import RunContext
from orchestration.lib.lake import accepted_manifests
from orchestration.lib.loads import LoadOutcome, ingest_source
from tests.conftest import SMALL_STUDIO

RUN = RunContext("USD", date(2025, 3, 15))
REFERENCE_ORDER = ("departments", "accounts", "fx_rates", "projects")


@pytest.fixture
def reference_lake(tmp_path: Path) -> WarehouseLayout:
    """A lake holding the small studio's reference data only."""
    landing = tmp_path / "reference"
    landing.mkdir()
    for name in REFERENCE_ORDER:
        shutil.copy(SMALL_STUDIO / f"{name}.csv", landing)
    layout = WarehouseLayout(tmp_path / "warehouse")
    for name in REFERENCE_ORDER:
        assert [o.status for o in ingest_source(SOURCES[name], landing, layout, "test", RUN)] == ["accepted"]
    return layout


GL_HEADER = "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"


def ingest_ledger(layout: WarehouseLayout, landing: Path) -> list[LoadOutcome]:
    return ingest_source(SOURCES["gl_actuals"], landing, layout, "t", RUN)


def deliver_ledger(layout: WarehouseLayout, tmp_path: Path, name: str, text: str) -> LoadOutcome:
    """What became of one ledger file delivered alone (in `tmp_path/gl`, emptied first)."""
    landing = tmp_path / "gl"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir()
    (landing / name).write_text(text)
    [outcome] = ingest_ledger(layout, landing)
    return outcome


def lake_rows(layout: WarehouseLayout, source: str, sql: str = "SELECT * EXCLUDE (_load_id)") -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"{sql} FROM read_parquet('{layout.lake}/{source}/*/data.parquet') ORDER BY ALL").fetchall()


def test_budgets_from_a_spreadsheet(reference_lake: WarehouseLayout, tmp_path: Path) -> None:
    import openpyxl

    landing = tmp_path / "xlsx"
    landing.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["budget_version", "version_status", "project_code", "account_code", "period", "amount", "currency"])
    sheet.append(["V9", "draft", "P1", "5100", "2025-02", 1234.5, "USD"])
    sheet.append(["V9", "draft", "P1", "5200", None, 99, "USD"])
    # a notes sheet first: the budget is the sheet that has the contract's header
    notes = book.create_sheet("Notes", 0)
    notes.append(["Budget prepared by Daniel"])
    book.save(landing / "budgets_draft.xlsx")
    [outcome] = ingest_source(SOURCES["budgets"], landing, reference_lake, "test", RUN)
    assert outcome.status == "accepted", outcome.reasons
    found = lake_rows(reference_lake, "budgets", "SELECT account_code, period, amount, _row_number")
    assert found == [("5100", "2025-02", Decimal("1234.5000"), 1), ("5200", None, Decimal("99.0000"), 2)]


def test_a_budget_line_of_tens_of_billions_is_checked_not_refused(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """quantity × rate of two DECIMAL(18,4)s passes 10^10 (here 1,000 days at 98,765,432.10 = 98,765,432,100.00):
    the product is checked, not an overflow that refused the file as "could not be checked"."""
    landing = tmp_path / "big"
    landing.mkdir()
    header = "budget_version,version_status,project_code,account_code,period,amount,currency,quantity,unit,rate\n"
    (landing / "budgets_big.csv").write_text(
        header
        + "V9,draft,P1,5100,2025-02,98765432100.00,USD,1000,day,98765432.10\n"  # 1,000 × 98,765,432.10 exactly
        + "V9,draft,P1,5200,2025-02,98765432100.05,USD,1000,day,98765432.10\n"  # 5 cents off: the rule's warning
    )
    [outcome] = ingest_source(SOURCES["budgets"], landing, reference_lake, "test", RUN)
    assert outcome.status == "accepted", outcome.reasons
    [product] = [c for c in outcome.checks if c.rule == "amount is quantity × rate (within a cent)"]
    assert not product.passed and not product.blocking and product.bad_rows == 1
    found = lake_rows(reference_lake, "budgets", "SELECT account_code, amount")
    assert found == [("5100", Decimal("98765432100.0000")), ("5200", Decimal("98765432100.0500"))]


def test_lake_load_is_typed_by_the_contract(reference_lake: WarehouseLayout) -> None:
    with duckdb.connect() as con:
        types = dict(
            con.execute(
                f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                f"read_parquet('{reference_lake.lake}/projects/*/data.parquet'))"
            ).fetchall()
        )
    expected = {c.name: c.type for c in SOURCES["projects"].columns}
    assert {k: v for k, v in types.items() if k in expected} == expected
    assert types["_load_id"] == "VARCHAR" and types["_row_number"] == "BIGINT"


def test_ledger_resend_identical_is_a_no_op_and_same_file_is_skipped(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    landing = tmp_path / "gl"
    landing.mkdir()
    header = GL_HEADER
    (landing / "gl_actuals_a.csv").write_text(header + "G1,2025-01-15,P1,5100,Crew Co,crew,3500.00,USD,\n")
    assert [o.status for o in ingest_source(SOURCES["gl_actuals"], landing, reference_lake, "t", RUN)] == ["accepted"]
    # the same file again: skipped; the same record in another file (written 3500.0): accepted, no new content
    (landing / "gl_actuals_b.csv").write_text(header + "G1,2025-01-15,P1,5100,Crew Co,crew,3500.0,USD,\n")
    outcomes = {o.file_name: o.status for o in ingest_source(SOURCES["gl_actuals"], landing, reference_lake, "t", RUN)}
    assert outcomes == {"gl_actuals_a.csv": "skipped", "gl_actuals_b.csv": "accepted"}
    assert len(accepted_manifests(reference_lake, "gl_actuals")) == 2
    distinct = lake_rows(reference_lake, "gl_actuals", "SELECT DISTINCT txn_id, amount")
    assert distinct == [("G1", Decimal("3500.0000"))]
    # what a terminal's status line shows of it (SPEC §3, rows loaded): each file as its turn comes, then its fate
    (landing / "gl_actuals_c.csv").write_text(header + "G2,2025-01-16,P1,5100,Crew Co,crew,10.00,USD,\n" * 2)
    rows = "".join(f"G{n},2025-01-16,P1,5100,Crew Co,crew,10.00,USD,\n" for n in (3, 4, 5))
    (landing / "gl_actuals_d.csv").write_text(header + rows)
    (landing / "gl_actuals_e.csv").write_text(header + "G6,2025-01-16,P1,5100,Crew Co,crew,10.00,USD,\n")
    heard: list[str] = []
    ingest_source(SOURCES["gl_actuals"], landing, reference_lake, "t", RUN, progress=heard.append)
    assert heard == [
        "checking gl_actuals_a.csv", "gl_actuals_a.csv already loaded",
        "checking gl_actuals_b.csv", "gl_actuals_b.csv already loaded",
        "checking gl_actuals_c.csv", "rejected gl_actuals_c.csv",  # G2 twice in one file
        "checking gl_actuals_d.csv", "loaded gl_actuals_d.csv: 3 rows",
        "checking gl_actuals_e.csv", "loaded gl_actuals_e.csv: 1 row",
    ]  # fmt: skip


def test_a_row_with_one_cell_too_many_is_rejected_even_when_that_cell_is_empty(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """`1,234.50` written unquoted makes 10 cells under a 9-column header; with the last one (source_ref) empty,
    DuckDB alone would read amount 1, currency 234.50, source_ref USD."""
    rows = (
        "G1,2025-01-15,P1,5100,Crew Co,crew,3500.00,USD,\n"  # 9 cells: fine
        "G2,2025-01-16,P1,5100,Crew Co,crew,1,234.50,USD,\n"  # 10 cells, the last empty
        "G3,2025-01-17,P1,5100,Crew Co,crew,7.00,USD,,\n"  # 10 cells: a comma at the end of the row
    )
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_shifted.csv", GL_HEADER + rows)
    assert outcome.status == "rejected"
    [reason] = [r for r in outcome.reasons if "more cells than the header" in r]
    assert "2 row(s) cannot be read" in reason
    assert "row 2 has more cells than the header (the last one empty)" in reason
    assert "row 3 has more cells than the header" in reason and "row 1 " not in reason
    assert "G2,2025-01-16,P1,5100,Crew Co,crew,1,234.50,USD" in reason
    report = outcome.quarantine_report.read_text(encoding="utf-8")
    assert "row 1 is the line after the header" in report and "None =" not in report
    assert "      row 2: 'G2,2025-01-16,P1,5100,Crew Co,crew,1,234.50,USD,' (has more cells than the header" in report
    assert accepted_manifests(reference_lake, "gl_actuals") == []  # nothing of it loaded


def test_a_header_in_another_case_is_read_as_the_contract_column(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """An optional column written `Vendor` is vendor, not an unknown column left out (its rows then empty)."""
    header = "TXN_ID,Posted_Date,project_code,account_code,Vendor,DESCRIPTION,amount,currency,source_ref\n"
    row = "G1,2025-01-15,P1,5100,Crew Co,crew day,3500.00,USD,\n"
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_cased.csv", header + row)
    assert outcome.status == "accepted", outcome.reasons
    found = lake_rows(reference_lake, "gl_actuals", "SELECT txn_id, posted_date, vendor, description, amount")
    assert found == [("G1", date(2025, 1, 15), "Crew Co", "crew day", Decimal("3500.0000"))]
    # the same column twice, in two cases: which one is meant cannot be told
    header = GL_HEADER.replace("vendor,", "vendor,Vendor,")
    row = "G2,2025-01-15,P1,5100,Crew Co,Crew Co,crew,10.00,USD,\n"
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_twice.csv", header + row)
    assert outcome.status == "rejected"
    assert any("the header has column(s) vendor twice, in another case" in r for r in outcome.reasons)


def test_blank_rows_are_left_out_and_the_rows_after_them_keep_their_numbers(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """Empty lines as a spreadsheet saves them (`,,,,,,,,`), between and after the rows: nothing to load."""
    rows = (
        "G1,2025-01-15,P1,5100,Crew Co,crew,3500.00,USD,\n"  # row 1
        ",,,,,,,,\n"  # row 2: blank
        "G2,2025-01-16,P1,5100,Crew Co,crew,10.00,USD,\n"  # row 3
        ",,,,,,,,\n,,,,,,,,\n"  # rows 4 and 5: blank
    )
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_blank_rows.csv", GL_HEADER + rows)
    assert outcome.status == "accepted", outcome.reasons
    assert lake_rows(reference_lake, "gl_actuals", "SELECT txn_id, amount, _row_number") == [
        ("G1", Decimal("3500.0000"), 1),
        ("G2", Decimal("10.0000"), 3),
    ]
    # a file of blank rows only has no data rows
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_only_blank.csv", GL_HEADER + ",,,,,,,,\n")
    assert outcome.status == "rejected"


def test_rows_after_an_empty_line_keep_the_files_numbers(reference_lake: WarehouseLayout, tmp_path: Path) -> None:
    """A line with nothing on it (a hand edit, some tools' section breaks) is a row of the file as a spreadsheet
    opens it, though the CSV reader passes over it: the rows after it keep the file's numbers, in the lake and in
    a rejection. Numbers worked out by hand from the file below (row 1 = the line after the header)."""
    rows = (
        "G1,2025-01-15,P1,5100,Crew Co,crew,3500.00,USD,\n"  # row 1
        "\n"  # row 2: nothing
        "G2,2025-01-16,P1,5100,Crew Co,crew,10.00,USD,\n"  # row 3
        "\n\n"  # rows 4 and 5: nothing
        'G3,2025-01-17,P1,5100,Crew Co,"two\nlines",20.00,USD,\n'  # row 6, one row over two lines
        ",,\n"  # row 7: blank, shorter than the header
        "G4,2025-01-18,P1,5100,Crew Co,crew,30.00,USD,\n"  # row 8
        "\n\n"  # after the last row: renumbers nothing
    )
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_empty_lines.csv", GL_HEADER + rows)
    assert outcome.status == "accepted", outcome.reasons
    assert lake_rows(reference_lake, "gl_actuals", "SELECT txn_id, _row_number") == [
        ("G1", 1),
        ("G2", 3),
        ("G3", 6),
        ("G4", 8),
    ]
    # a rejection names the row a producer finds in the file: G4's amount is not a number
    outcome = deliver_ledger(
        reference_lake, tmp_path, "gl_actuals_empty_lines_bad.csv", GL_HEADER + rows.replace("30.00", "thirty")
    )
    assert outcome.status == "rejected"
    named = {e["row"] for c in outcome.checks if not c.passed for e in c.examples}
    assert named == {8}, outcome.reasons


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"h\na\n\nb\n", True),
        (b"h\na\nb\n\n\n", False),  # empty lines after the last row only
        (b"h\r\na\r\n\r\nb\r\n", True),  # a spreadsheet's CRLF line ends
        (b"h\r\na\r\nb\r\n\r\n", False),
        (b"h\na\r\n\r\nb\r\n", True),  # LF and CRLF mixed by a hand edit
        (b"h\ra\r\rb\r", True),  # CR alone
        (b"", False),
    ],
)
def test_an_empty_line_before_the_last_row_is_found_whatever_ends_the_lines(
    tmp_path: Path, content: bytes, found: bool
) -> None:
    from orchestration.lib.gate.landed import has_empty_line

    path = tmp_path / "file.csv"
    path.write_bytes(content)
    assert has_empty_line(path) is found


def test_a_file_rejected_again_for_the_same_reasons_is_not_quarantined_twice(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """Left in the landing folder, a rejected file is checked at every run: the same rejection keeps its one
    quarantine folder and names its report and Data Docs page again; once what it lacked has arrived, it loads."""
    row = "G1,2025-01-15,P9,5100,Crew Co,crew,10.00,USD,\n"
    first = deliver_ledger(reference_lake, tmp_path, "gl_actuals_p9.csv", GL_HEADER + row)
    [second] = ingest_ledger(reference_lake, tmp_path / "gl")
    assert first.status == second.status == "rejected"
    assert second.load_id == first.load_id and second.quarantine_report == first.quarantine_report
    assert first.data_docs is not None and first.data_docs.is_file()
    assert second.data_docs is not None and second.data_docs.resolve() == first.data_docs.resolve()
    assert second.reasons == first.reasons and any("P9" in r for r in second.reasons)
    assert [p.name for p in reference_lake.quarantine.iterdir()] == [first.load_id]
    # a later as-of date changes only a warning (a posting more than 31 days after as-of): the same rejection
    future = "G2,2025-05-01,P1,5100,Crew Co,x,1.00,USD,\n"
    dated = deliver_ledger(reference_lake, tmp_path, "gl_actuals_p9_dated.csv", GL_HEADER + row + future)
    assert dated.warnings and dated.reasons == first.reasons
    april = RunContext("USD", date(2025, 4, 20))
    [later] = ingest_source(SOURCES["gl_actuals"], tmp_path / "gl", reference_lake, "t", april)
    assert later.status == "rejected" and later.warnings == [] and later.reasons == first.reasons
    assert later.load_id == dated.load_id and later.quarantine_report == dated.quarantine_report
    assert len(list(reference_lake.quarantine.iterdir())) == 2
    deliver_ledger(reference_lake, tmp_path, "gl_actuals_p9.csv", GL_HEADER + row)  # back to the first file
    # P9 arrives: the same file is checked again and loads
    projects = (SMALL_STUDIO / "projects.csv").read_text(encoding="utf-8").splitlines()
    p1 = next(line for line in projects if line.startswith("P1,"))
    reference = tmp_path / "p9"
    reference.mkdir()
    (reference / "projects_p9.csv").write_text(projects[0] + "\n" + p1.replace("P1,", "P9,", 1) + "\n")
    assert [o.status for o in ingest_source(SOURCES["projects"], reference, reference_lake, "t", RUN)] == ["accepted"]
    [third] = ingest_ledger(reference_lake, tmp_path / "gl")
    assert third.status == "accepted", third.reasons


def test_a_refused_file_name_says_what_in_it_is_refused() -> None:
    from orchestration.lib.loads import SAFE_FILE_NAME, UNSAFE_NAME_MESSAGE, unsafe_name_message

    name = "gl_actuals_oct (1).csv"  # a browser's second download of the same file
    assert not SAFE_FILE_NAME.match(name)
    assert unsafe_name_message(name) == f"{UNSAFE_NAME_MESSAGE}: it holds '(' ')'; rename it"
    assert unsafe_name_message("_gl_actuals.csv") == f"{UNSAFE_NAME_MESSAGE}: it starts with '_'; rename it"
    assert unsafe_name_message("gl..csv").endswith("it holds '..'; rename it")
    assert unsafe_name_message("gl_actuals_café.csv").endswith("it holds 'é'; rename it")


def test_a_parquet_file_with_one_column_in_two_cases_is_rejected(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    landing = tmp_path / "gl"
    landing.mkdir()
    header = GL_HEADER.strip().split(",")
    import pyarrow as pa
    import pyarrow.parquet as pq

    # written by pyarrow: DuckDB itself would rename the second of two names differing in case
    table = pa.table([pa.array(["x"]) for _ in [*header, "Vendor"]], names=[*header, "Vendor"])
    pq.write_table(table, landing / "gl_actuals_twice.parquet")
    assert pq.read_schema(landing / "gl_actuals_twice.parquet").names[-2:] == ["source_ref", "Vendor"]
    [outcome] = ingest_source(SOURCES["gl_actuals"], landing, reference_lake, "t", RUN)
    assert outcome.status == "rejected"
    assert outcome.reasons == ["the file has column(s) vendor twice, in another case"]


def test_rows_are_numbered_as_in_the_file_when_another_row_does_not_fit(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """A row that does not fit (row 1, a cell too many) is named; the shifted row after it (row 3) is named once the
    first is mended, with its own number, not one counted among the rows read."""
    good = "G1,2025-01-15,P1,5100,Crew Co,crew,10.00,USD,\n"
    shifted = "G2,2025-01-16,P1,5100,Crew Co,crew,1,234.50,USD,\n"
    too_many = "G0,2025-01-14,P1,5100,x,y,1.00,USD,,X\n"
    faults = GL_HEADER + too_many + good + shifted
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_two_faults.csv", faults)
    [reason] = outcome.reasons
    assert "1 row(s) cannot be read" in reason and "row 1 has more cells than the header:" in reason
    mended = GL_HEADER + good + good.replace("G1", "G3") + shifted
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_one_fault.csv", mended)
    [reason] = outcome.reasons
    assert "1 row(s) cannot be read" in reason
    assert "row 3 has more cells than the header (the last one empty)" in reason


def test_a_workbook_without_the_budget_sheet_says_which_sheets_it_has(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    import openpyxl

    landing = tmp_path / "xlsx"
    landing.mkdir()
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["Budget prepared by Daniel"])
    sheet = book.create_sheet("Budget")
    sheet.append(["budget_versoin", "version_status", "project_code", "account_code", "period", "amount", "currency"])
    book.save(landing / "budgets_typo.xlsx")
    [outcome] = ingest_source(SOURCES["budgets"], landing, reference_lake, "test", RUN)
    assert outcome.status == "rejected"
    [reason] = outcome.reasons
    assert reason.startswith("no sheet of the workbook ('Notes', 'Budget') has a first row holding the columns ")
    assert "budget_version" in reason
    # a template sheet (the header alone) before the budget: the budget is read; two budgets: named
    book = openpyxl.Workbook()
    header = ["budget_version", "version_status", "project_code", "account_code", "period", "amount", "currency"]
    book.active.title = "Template"
    book.active.append(header)
    for title, version in (("Budget", "V8"), ("Old budget", "V7")):
        sheet = book.create_sheet(title)
        sheet.append(header)
        sheet.append([version, "draft", "P1", "5100", "2025-02", 10, "USD"])
    del book["Old budget"]
    book.save(landing / "budgets_typo.xlsx")
    [outcome] = ingest_source(SOURCES["budgets"], landing, reference_lake, "test", RUN)
    assert outcome.status == "accepted", outcome.reasons
    assert lake_rows(reference_lake, "budgets", "SELECT budget_version") == [("V8",)]
    sheet = book.create_sheet("Old budget")
    sheet.append(header)
    sheet.append(["V7", "draft", "P1", "5100", "2025-02", 10, "USD"])
    book.save(landing / "budgets_typo.xlsx")
    [outcome] = ingest_source(SOURCES["budgets"], landing, reference_lake, "test", RUN)
    [reason] = outcome.reasons
    assert reason == "sheets 'Budget', 'Old budget' each have the budget's header and rows: keep one budget sheet"


def test_a_short_row_is_counted_once_and_a_row_of_commas_alone_is_blank(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    """DuckDB keeps one reject per missing cell: a row two cells short is one row that cannot be read. A row of
    commas alone, shorter than the header (`,,,,`), is a blank row, as `,,,,,,,,` is."""
    good = "G1,2025-01-15,P1,5100,Crew Co,crew,10.00,USD,\n"
    short = "G2,2025-01-16,P1,5100,Crew Co,crew,5.00\n"
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_short.csv", GL_HEADER + good + short)
    [reason] = outcome.reasons
    assert reason.startswith("every row has the header's columns and is UTF-8 text: 1 row(s) cannot be read")
    assert reason.count("row 2 has fewer cells than the header") == 1
    commas = GL_HEADER + good + ",,,,\n" + good.replace("G1", "G3")
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_commas.csv", commas)
    assert outcome.status == "accepted", outcome.reasons
    assert outcome.rows == 2


def test_a_file_refused_by_its_name_is_not_quarantined_twice(reference_lake: WarehouseLayout, tmp_path: Path) -> None:
    row = "G1,2025-01-15,P1,5100,Crew Co,crew,10.00,USD,\n"
    first = deliver_ledger(reference_lake, tmp_path, "gl_actuals_oct (1).csv", GL_HEADER + row)
    [second] = ingest_ledger(reference_lake, tmp_path / "gl")
    assert first.status == second.status == "rejected" and second.load_id == first.load_id
    assert [p.name for p in reference_lake.quarantine.iterdir()] == [first.load_id]


def _ledger_parquet(path: Path, rows: list[tuple]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = GL_HEADER.strip().split(",")
    pq.write_table(
        pa.table([pa.array([r[i] for r in rows], pa.string()) for i in range(len(names))], names=names), path
    )


def test_a_parquet_ledger_is_loaded_as_the_gate_checked_it(
    reference_lake: WarehouseLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the gate checked is what the lake gets: a landing file replaced while its load is checked does not put
    rows the gate never saw into the lake. A row with no value is left out; the rows keep the file's numbers."""
    from orchestration.lib import loads

    landing = tmp_path / "gl"
    landing.mkdir()
    path = landing / "gl_actuals_march.parquet"
    good = ("G1", "2025-03-02", "P1", "5100", "Crew Co", "crew", "10.00", "USD", None)
    _ledger_parquet(
        path, [good, (None,) * 9, (" G3 ", "2025-03-03", "P1", "5100", "Crew Co", "crew", "2.50", "USD", "")]
    )
    checked = loads.run_gate

    def replaced_meanwhile(*args: object, **kwargs: object) -> object:
        _ledger_parquet(path, [("G9", "2025-03-09", "P1", "5100", "Other", "never checked", "999.00", "USD", None)])
        return checked(*args, **kwargs)

    monkeypatch.setattr(loads, "run_gate", replaced_meanwhile)
    [outcome] = ingest_ledger(reference_lake, landing)
    assert (outcome.status, outcome.rows) == ("accepted", 2)
    assert lake_rows(reference_lake, "gl_actuals", "SELECT txn_id, amount, source_ref, _row_number") == [
        ("G1", Decimal("10.0000"), None, 1),
        ("G3", Decimal("2.5000"), None, 3),
    ]
    assert list(reference_lake.check_dbs.iterdir()) == []  # the check database is gone


def test_a_parquet_ledgers_bad_row_is_named_by_its_row_in_the_file(
    reference_lake: WarehouseLayout, tmp_path: Path
) -> None:
    landing = tmp_path / "gl"
    landing.mkdir()
    good = ("G1", "2025-03-02", "P1", "5100", "Crew Co", "crew", "10.00", "USD", None)
    bad = ("G3", "2025-03-03", "P1", "5100", "Crew Co", "crew", "ten", "USD", None)
    _ledger_parquet(landing / "gl_actuals_march.parquet", [good, (None,) * 9, bad])
    [outcome] = ingest_ledger(reference_lake, landing)
    assert outcome.status == "rejected"
    [amount] = [c for c in outcome.checks if not c.passed]
    assert (amount.column, [(e["row"], e["value"]) for e in amount.examples]) == ("amount", [(3, "ten")])


def test_a_row_rule_that_cannot_run_rejects_the_load_after_its_table_rules(
    reference_lake: WarehouseLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate finds the offending rows before GX validates the load; a rule whose SQL cannot run rejects the load
    with why, beside the table rules' results, once those passed (a missing column is named by its own rule
    instead: tests/test_bad_inputs.py)."""
    import great_expectations as gx

    from orchestration.lib.gate import checks

    suite = checks.suite_for("gl_actuals")
    broken = gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query="SELECT * FROM {batch} WHERE error('no such rule') IS NULL",
        meta={"rule": "a rule that cannot run", "bad_when": "error('no such rule') IS NULL"},
    )
    patched = gx.ExpectationSuite(
        name=suite.name, expectations=[*(e.configuration for e in suite.expectations), broken.configuration]
    )
    original = checks.suite_for
    monkeypatch.setattr(checks, "suite_for", lambda name: patched if name == "gl_actuals" else original(name))
    row = "G1,2025-01-15,P1,5100,Crew Co,crew,10.00,USD,\n"
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_jan.csv", GL_HEADER + row)
    assert outcome.status == "rejected"
    assert [c.rule for c in outcome.checks if not c.passed] == ["the rules of the suite can run"]
    assert outcome.checks[-1].rule == "the rules of the suite can run"
    assert "could not be checked" in outcome.reasons[0] and "no such rule" in outcome.reasons[0]
    table_rules = [e for e in suite.expectations if e.expectation_type != "unexpected_rows_expectation"]
    assert len(outcome.checks) == len(table_rules) + 1  # the table rules (passed), then why the rows were not


def test_the_gate_validates_a_load_in_one_great_expectations_session(
    reference_lake: WarehouseLayout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load's table and its offending rows are validated in one GX session (one datasource and connection)."""
    from orchestration.lib.gate import checks
    from orchestration.lib.gate.gx_duckdb import GxSession

    opened, validated = [], []
    session = checks.gx_session

    def counted(*args: object, **kwargs: object) -> object:
        opened.append(args[0])
        return session(*args, **kwargs)

    monkeypatch.setattr(checks, "gx_session", counted)
    validate = GxSession.validate

    def noted(self: GxSession, query: str, *args: object, **kwargs: object) -> object:
        validated.append(query)
        return validate(self, query, *args, **kwargs)

    monkeypatch.setattr(GxSession, "validate", noted)
    row = "G1,2025-01-15,P1,5100,Crew Co,crew,10.00,USD,\n"
    outcome = deliver_ledger(reference_lake, tmp_path, "gl_actuals_jan.csv", GL_HEADER + row)
    assert outcome.status == "accepted", outcome.reasons
    assert len(opened) == 1
    assert validated == ["SELECT * FROM landed", "SELECT * FROM offending"]
