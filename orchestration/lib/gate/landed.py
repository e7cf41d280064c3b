"""A landing file read as text into the load's check database: table `landed`, `_row_number` from 1 = the
first data row. CSV rows that do not fit the header, and files that cannot be read at all, come back as a
failed "readable" rule rather than an exception: one bad file never crashes a run.

A Parquet file is read into a table too, not viewed in place. A view of a copy of the file made a 10M-row
ledger's load 1.3 to 1.7 s faster (no table of its rows as text to write), but at 100M rows the gate's
aggregate over the view's trimmed text (`repeated_ids`) ran out of the gate's 476 MiB, where over the table it
spills to disk: DuckDB 2.0.1 spilled a GROUP BY of `trim(txn_id)` read from the file no better (measured)."""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib.contract import Source
from orchestration.lib.gate.results import EXAMPLE_ROWS, CheckResult
from orchestration.lib.sql import literal, q

READABLE = "the file is readable"


def read_landed(con: duckdb.DuckDBPyConnection, path: Path, source: Source) -> CheckResult | None:
    """Read the file as text into `landed`; None when read, else why it cannot be read."""
    rule = READABLE
    if path.suffix.lower() == ".xlsx":
        try:
            readable = xlsx_as_csv(path, tuple(c.name for c in source.columns if c.required))
        except NoSheetWithHeader as error:
            return CheckResult.failure(rule, str(error))
        except Exception as error:  # openpyxl raises many kinds on a damaged workbook
            return CheckResult.failure(rule, f"cannot be read as xlsx: {error}")
        try:
            return read_landed(con, readable, source)  # `landed` holds the rows once read
        finally:
            shutil.rmtree(readable.parent, ignore_errors=True)
    try:
        if path.suffix.lower() == ".parquet":
            twice = _names_twice(path, source)
            if twice:
                return CheckResult.failure(rule, f"the file has column(s) {', '.join(twice)} twice, in another case")
            con.execute(
                "CREATE VIEW landed_raw AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row_number "
                f"FROM read_parquet('{literal(path)}', file_row_number = true)"
            )
        else:
            unreadable = _read_csv(con, path, source)
            if unreadable:
                return unreadable
    except duckdb.Error as error:
        detail = " ".join(str(error).replace(str(path), path.name).split())[:300]
        return CheckResult.failure(rule, f"cannot be read as {path.suffix.lstrip('.')}: {detail}")
    names = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed_raw)").fetchall()]
    found = [n for n in names if n != "_row_number"]
    headers = contract_names(found, source)  # a CSV's already are (_read_csv); a Parquet file's are checked first
    # every column as trimmed text, empty cells as NULL; absent optional columns as NULL (one scan of the file)
    select = [f"NULLIF(TRIM(CAST({q(n)} AS VARCHAR)), '') AS {q(h)}" for n, h in zip(found, headers, strict=True)]
    select += [
        f"CAST(NULL AS VARCHAR) AS {q(c.name)}" for c in source.columns if not c.required and c.name not in headers
    ]
    try:
        con.execute(f"CREATE TABLE landed AS SELECT _row_number, {', '.join(select)} FROM landed_raw")
    except duckdb.Error as error:
        detail = " ".join(str(error).replace(str(path), path.name).split())[:300]
        return CheckResult.failure(rule, f"cannot be read as {path.suffix.lstrip('.')}: {detail}")
    con.execute("DROP VIEW landed_raw")
    if path.suffix.lower() != ".parquet":
        _number_as_the_file(con, path, len(found))
    # a row with no value at all (`,,,,,,,,` where a spreadsheet saved empty lines) holds nothing to load or check:
    # it is left out; the rows after it keep their numbers
    if headers:
        con.execute(f"DELETE FROM landed WHERE {' AND '.join(f'{q(h)} IS NULL' for h in headers)}")
    if path.suffix.lower() == ".parquet":
        return None
    return _unreadable_rows(con, path, headers)


def _names_twice(path: Path, source: Source) -> list[str]:
    """A Parquet file's columns that are one contract column in two cases (DuckDB would rename the second)."""
    import pyarrow.parquet as pq

    try:
        names = contract_names(pq.read_schema(path).names, source)
    except (OSError, ValueError):  # not Parquet at all: DuckDB's read says why, as for any unreadable file
        return []
    return _repeated(names)


def _repeated(names: list[str]) -> list[str]:
    return sorted({n for n in names if n and names.count(n) > 1})


def contract_names(names: list[str], source: Source) -> list[str]:
    """The file's column names, each written as the contract writes it when they differ only in case
    (`Hourly_Rate` is hourly_rate): an optional column read under another case would otherwise be left out
    without a word, and its rows take the default."""
    contract = {c.name.lower(): c.name for c in source.columns}
    return [contract.get(n.lower(), n) for n in names]


def csv_header(path: Path) -> list[str]:
    """The header row's column names (a UTF-8 BOM is fine); raises UnicodeDecodeError if not UTF-8."""
    with path.open("rb") as handle:
        line = handle.readline().decode("utf-8-sig")
    first = next(csv.reader([line]), None)
    return [] if first is None else [name.strip() for name in first]


# DuckDB's CSV reject types in a producer's words
CSV_PROBLEMS = {
    "MISSING COLUMNS": "has fewer cells than the header",
    "TOO MANY COLUMNS": "has more cells than the header",
    "INVALID ENCODING": "is not UTF-8 text (save the file as UTF-8 CSV)",
    "UNQUOTED VALUE": "has a quote that is not closed properly",
    "LINE SIZE OVER MAXIMUM": "is too long",
}


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, source: Source) -> CheckResult | None:
    """A CSV read with the header's own columns: a row that does not fit is named by its row number."""
    rule = READABLE
    try:
        header = csv_header(path)
    except UnicodeDecodeError:
        return CheckResult.failure(rule, "the header row is not UTF-8 text; save the file as UTF-8 CSV")
    if not header or header == [""]:
        return CheckResult.failure(rule, "the file is empty: it has no header row")
    if len(header) == 1 and (separator := next((s for s in ";\t|" if s in header[0]), None)):
        return CheckResult.failure(
            rule, f"the header is one column {header[0]!r}: columns are separated by {separator!r}, not commas"
        )
    repeated = _repeated(header)
    if repeated:
        return CheckResult.failure(rule, f"the header repeats column(s) {', '.join(repeated)}")
    header = contract_names(header, source)
    repeated = _repeated(header)
    if repeated:
        return CheckResult.failure(rule, f"the header has column(s) {', '.join(repeated)} twice, in another case")
    # an unnamed column (a trailing comma in the header) gets a name, to be reported as unknown
    names = [name or f"unnamed_column_{i + 1}" for i, name in enumerate(header)]
    columns = "{" + ", ".join(f"'{literal(n)}': 'VARCHAR'" for n in names) + "}"
    # a view: the file is scanned once, when `landed` is made from it; rows that do not fit go to csv_rejects
    con.execute(
        "CREATE VIEW landed_raw AS SELECT row_number() OVER () AS _row_number, * FROM read_csv("
        f"'{literal(path)}', header = true, columns = {columns}, auto_detect = false, delim = ',', "
        "quote = '\"', escape = '\"', strict_mode = true, null_padding = false, store_rejects = true, "
        "rejects_table = 'csv_rejects', rejects_scan = 'csv_scans')"
    )
    return None


# a row DuckDB rejected that holds nothing but spaces and commas (`,,` shorter than the header): a blank row
BLANK_REJECT = "regexp_matches(coalesce(csv_line, ''), '^[\\s,]*$')"


def _number_as_the_file(con: duckdb.DuckDBPyConnection, path: Path, width: int) -> None:
    """Give `landed`'s rows the numbers they have in the file when the reader passed over lines of it: a line
    with nothing on it at all, or a blank one shorter than the header (`,,`), which DuckDB skips or rejects
    without a row of `landed`. Row n is then the file's n-th row after the header, as a spreadsheet opens it."""
    try:
        blank = con.execute(f"SELECT count(*) FROM csv_rejects WHERE {BLANK_REJECT}").fetchone()[0]
    except duckdb.CatalogException:  # nothing was rejected
        blank = 0
    if not blank and not has_empty_line(path):
        return

    def read(cells: list[str]) -> bool:  # DuckDB reads a last empty cell beyond the header as no cell
        return len(cells) == width or (len(cells) == width + 1 and cells[-1] == "")

    renumber(con, "landed", rows_passed_over(path, 1, read))


def has_empty_line(path: Path) -> bool:
    """Whether a line with nothing on it comes before the file's last row: a byte search for two line ends in a
    row (not a read as rows)."""
    import mmap

    with path.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            # LF and CRLF both (a hand edit may mix them); CR alone when no line ends with LF
            empties = (b"\n\n", b"\n\r\n") if data.find(b"\n") >= 0 else (b"\r\r",)
            end = len(data)
            while end and data[end - 1 : end] in (b"\n", b"\r", b" ", b"\t"):
                end -= 1  # empty lines after the last row renumber nothing
            return any(data.find(empty, 0, end) >= 0 for empty in empties)


def rows_passed_over(path: Path, after: int, read: Callable[[list[str]], bool]) -> list[int]:
    """For each row of the file after its first `after` that the reader passed over (`read(cells)` is false; a
    line with nothing on it is no cells), how many rows it read before it. Python's csv reader splits the rows
    as DuckDB's does: a quoted cell may span lines."""
    passed: list[int] = []
    count = 0
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        for index, cells in enumerate(csv.reader(handle)):
            if index < after:
                continue
            if read(cells):
                count += 1
            else:
                passed.append(count)
    return passed


def renumber(con: duckdb.DuckDBPyConnection, table: str, passed: list[int], first: int = 0) -> None:
    """Move `table`'s `_row_number` (numbered from `first` + 1 in the order read) past the rows passed over."""
    if not passed:
        return
    # for each count of rows read, how many lines were passed over by then (`passed` is in file order); a row
    # moves by the count at the last one before it: one as-of join, not a count per row and line
    before: dict[int, int] = {}
    for total, read in enumerate(passed, start=1):
        before[read] = total
    con.execute(
        "CREATE TEMP TABLE passed_over AS SELECT unnest(?::BIGINT[]) AS rows_before, unnest(?::BIGINT[]) AS lines",
        [list(before), list(before.values())],
    )
    con.execute(
        f"UPDATE {q(table)} SET _row_number = {q(table)}._row_number + m.lines FROM ("
        f"SELECT t._row_number, p.lines FROM {q(table)} AS t ASOF JOIN passed_over AS p "
        f"ON t._row_number - {int(first)} > p.rows_before) AS m WHERE {q(table)}._row_number = m._row_number"
    )
    con.execute("DROP TABLE passed_over")


BEYOND_HEADER = "__beyond_header"


def _rows_beyond_header(con: duckdb.DuckDBPyConnection, path: Path, headers: list[str]) -> tuple[int, list[dict]]:
    """Rows with one cell more than the header, the last one empty (`…,1,250.00,1.5,` under a header whose last
    column is empty). DuckDB reads a trailing empty cell as no cell, so such a row would load with its cells
    shifted: `1,250.00` read as 1 and 250.00 in the next column. A second scan with one more column keeps exactly
    the rows with more cells than the header (the others do not fit it); those DuckDB rejected already (a last
    cell not empty) are left to its rejects. Their row numbers are found in `landed` by their cells.

    A tool that ends every row (not its header) with a comma writes the same rows as a shifted number in every
    row: they cannot be told apart, so both are named; the message says how to mark the first."""
    names = [*headers, BEYOND_HEADER]
    columns = "{" + ", ".join(f"'{literal(n)}': 'VARCHAR'" for n in names) + "}"
    cells = ", ".join(f"NULLIF(TRIM({q(n)}), '') AS {q(n)}" for n in headers)
    longer = (
        f"SELECT {cells} FROM read_csv('{literal(path)}', header = true, columns = {columns}, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false, ignore_errors = true) "
        f"WHERE {q(BEYOND_HEADER)} IS NULL"
    )
    same = " AND ".join(f"l.{q(n)} IS NOT DISTINCT FROM b.{q(n)}" for n in headers)
    shown = ", ".join(f"coalesce(l.{q(n)}, '')" for n in headers)
    # the row as the file has it, its empty cells and the one beyond the header included; how many there are and
    # how many rows the file has, beside the first ones
    found = con.execute(
        f"SELECT _row_number, cells, count(*) OVER (), (SELECT count(*) FROM landed) FROM ("
        f"SELECT DISTINCT l._row_number, concat_ws(',', {shown}, '') AS cells "
        f"FROM landed AS l JOIN ({longer}) AS b ON {same}) ORDER BY 1 LIMIT {EXAMPLE_ROWS}"
    ).fetchall()
    count, rows = (found[0][2], found[0][3]) if found else (0, 0)
    problem = (
        "has more cells than the header (the last one empty): a number written with a comma and no quotes, "
        "or a comma at the end of the row?"
    )
    if count == rows >= 2:
        problem += " (every row ends so: if your tool ends its rows with a comma, end the header with one too)"
    return int(count), [{"row": r, "column": None, "value": v, "problem": problem} for r, v, _, _ in found]


def _unreadable_rows(con: duckdb.DuckDBPyConnection, path: Path, headers: list[str]) -> CheckResult | None:
    """The CSV rows DuckDB could not fit to the header, by row number (row 1 = the line after the header); when it
    fitted every one, those with a trailing empty cell beyond the header (`_rows_beyond_header`, numbered by
    `landed`, whose numbers are the file's only when no row was left out)."""
    # DuckDB keeps one reject per cell a row lacks or has too many: rows are counted once. A row of commas alone
    # (`,,,,`, shorter than the header) is a blank row, as one of the header's width is (read_landed)
    rejects = (
        "SELECT line, min(error_type::VARCHAR) AS error_type, min(csv_line) AS csv_line FROM csv_rejects "
        f"WHERE NOT {BLANK_REJECT} GROUP BY line"
    )
    try:
        rejected = con.execute(f"SELECT count(*) FROM ({rejects})").fetchone()[0]
    except duckdb.CatalogException:
        rejected = 0
    beyond = _rows_beyond_header(con, path, headers) if not rejected else (0, [])
    bad = rejected + beyond[0]
    if not bad:
        return None
    rows = []
    if rejected:
        rows = con.execute(
            f"SELECT line - 1, error_type, csv_line FROM ({rejects}) ORDER BY line LIMIT {EXAMPLE_ROWS}"
        ).fetchall()
    examples = [{"row": r[0], "column": None, "value": r[2], "problem": CSV_PROBLEMS.get(r[1], r[1])} for r in rows]
    examples = sorted(examples + beyond[1], key=lambda e: e["row"])[:EXAMPLE_ROWS]
    shown = "; ".join(f"row {e['row']} {e['problem']}: {e['value']!r}" for e in examples[:3])
    rule = "every row has the header's columns and is UTF-8 text"
    message = f"{rule}: {bad} row(s) cannot be read, e.g. {shown}"
    return CheckResult(rule, False, message, None, True, int(bad), examples)


class NoSheetWithHeader(ValueError):
    """A workbook of several sheets, none with the contract's header row."""


def xlsx_as_csv(path: Path, header: tuple[str, ...] = ()) -> Path:
    """A sheet of a workbook as a CSV file of text cells (budgets live in spreadsheets): the visible one whose first
    row holds every name of `header` (in any case) and that has rows below it, so a notes, cover or template sheet
    is passed over. A workbook of one sheet is that sheet (the gate names what its header lacks); of several, none
    matching or two with rows, raises NoSheetWithHeader."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    wanted = {name.lower() for name in header}
    visible = [s for s in workbook.worksheets if getattr(s, "sheet_state", "visible") == "visible"]
    matching = [s for s in visible if wanted and wanted <= _first_row_names(s)]
    filled = [s for s in matching if _has_rows_below_header(s)]
    if len(filled) > 1:  # two budgets, or a budget and its old copy: which one is meant cannot be told
        names = ", ".join(repr(s.title) for s in filled)
        workbook.close()
        raise NoSheetWithHeader(f"sheets {names} each have the budget's header and rows: keep one budget sheet")
    if matching:
        sheet = (filled or matching)[0]  # a template sheet (the header alone) before the budget is passed over
    elif wanted and len(workbook.worksheets) > 1:
        names = ", ".join(repr(s.title) for s in workbook.worksheets)
        workbook.close()
        raise NoSheetWithHeader(
            f"no sheet of the workbook ({names}) has a first row holding the columns {', '.join(header)}"
        )
    out = Path(tempfile.mkdtemp(prefix="studio-xlsx-")) / (path.stem + ".csv")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in sheet.iter_rows(values_only=True):
            writer.writerow(["" if v is None else _cell_text(v) for v in row])
    workbook.close()
    return out


def _has_rows_below_header(sheet: object) -> bool:
    rows = sheet.iter_rows(min_row=2, values_only=True)  # type: ignore[attr-defined]
    return any(any(v is not None and str(v).strip() for v in row) for row in rows)


def _first_row_names(sheet: object) -> set[str]:
    first = next(sheet.iter_rows(max_row=1, values_only=True), ())  # type: ignore[attr-defined]
    return {str(v).strip().lower() for v in first if v is not None}


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    return str(value)
