"""Exports as studios' own tools write them, turned into contract sources before the gate (SPEC §4b).

A mapping is a data file, `mappings/<name>.toml`: a landing file named `<name>*.csv|xlsx` is read through it.
It states where the header row is, which rows to drop, which section headings to carry down, each contract
column's origin (an export column, a constant, a capture from the file name or a header, a crosswalk lookup,
debit/credit, a stable id) and the number, date and duration formats. Nothing is guessed: a cell that does
not fit its stated format stays as its original text, so the gate rejects it with the export's own row,
column and value; a value missing from its crosswalk is a rejection naming the crosswalk to extend.

The export is read as text into the load's check database, and the mapping is SQL over it that writes the
table `landed` the gate reads. `_row_number` is the export's own row as a spreadsheet opens it (row 1 = the
first line of the file, preamble included).
"""

from __future__ import annotations

import csv
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.config import REPO_ROOT
from orchestration.lib.contract import DATE, SOURCES, TIMESTAMP, Source, source_for_file
from orchestration.lib.gate.landed import READABLE, has_empty_line, renumber, rows_passed_over, xlsx_as_csv
from orchestration.lib.gate.results import EXAMPLE_ROWS, CheckResult
from orchestration.lib.sql import literal, q

MAPPINGS_DIR = REPO_ROOT / "mappings"
CROSSWALKS = "crosswalks"
EXPORT_SUFFIXES = (".csv", ".xlsx")
HEADER_SEARCH_ROWS = 200

TOP_KEYS = {"target", "description", "header", "section", "rows", "number", "unpivot", "columns", "rate_currency"}
SECTION_KEYS = {"column", "pattern"}
HEADER_KEYS = {"contains"}
ROWS_KEYS = {"drop"}
DROP_KEYS = {"column", "pattern"}
NUMBER_KEYS = {"thousands_separator", "decimal_separator", "currency_symbols", "negatives"}
NEGATIVES = ("minus", "parentheses", "trailing_minus")
UNPIVOT_KEYS = {"columns"}
RATE_CURRENCY_KEYS = {"column", "pattern"}
# the targets whose contract states a rate with no currency of its own: it is the person's (`people.currency`)
RATE_IN_PERSON_CURRENCY = ("timesheets",)
# a column's origin (exactly one) and what is done to it
ORIGINS = ("column", "column_matching", "value", "section", "file_name", "header_of", "unpivoted", "debit", "stable_id")
COLUMN_KEYS = {*ORIGINS, "pattern", "date", "number", "duration", "crosswalk", "credit", "credit_positive_when_account"}
DURATIONS = {"hh:mm:ss": 3, "hh:mm": 2}
# strptime directives a stated date format may use
DATE_DIRECTIVES = set("dmYybBHMSIpj%")
TARGET_DATE_TEXT = {DATE: "%Y-%m-%d", TIMESTAMP: "%Y-%m-%dT%H:%M:%S"}
PERIOD_TEXT = "%Y-%m"


class MappingError(ValueError):
    """A mapping file that cannot be used: names the file and the key (a usage error, exit 2)."""


@dataclass(frozen=True)
class NumberFormat:
    thousands_separator: str = ","
    decimal_separator: str = "."
    currency_symbols: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ("minus",)

    def regex(self) -> str:
        """Groups: 1 '(' 2 '-' 3 integer digits (with separators) 4 decimals 5 trailing '-' 6 ')'."""
        sep, dec = re.escape(self.thousands_separator), re.escape(self.decimal_separator)
        symbols = "|".join(re.escape(s) for s in self.currency_symbols)
        symbol = f"(?:{symbols})?" if symbols else ""
        grouped = rf"\d{{1,3}}(?:{sep}\d{{3}})+|\d+" if self.thousands_separator else r"\d+"
        opening = r"(\(?)" if "parentheses" in self.negatives else "()"
        closing = r"(\)?)" if "parentheses" in self.negatives else "()"
        minus = "(-?)" if "minus" in self.negatives else "()"
        trailing = "(-?)" if "trailing_minus" in self.negatives else "()"
        return rf"^{opening}{minus}\s*{symbol}\s*({grouped})((?:{dec}\d+)?){trailing}{closing}$"


@dataclass(frozen=True)
class ColumnRule:
    target: str
    spec: dict

    @property
    def origin(self) -> str:
        return next(k for k in ORIGINS if k in self.spec)


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    target: Source
    header_contains: tuple[str, ...]
    columns: tuple[ColumnRule, ...]
    number: NumberFormat = NumberFormat()
    section_column: str | None = None
    section_pattern: str | None = None
    drop: tuple[tuple[str, str], ...] = ()
    unpivot: str | None = None
    crosswalks: dict[str, dict[str, str]] = field(default_factory=dict)
    # the export's column stating each row's currency (and the capture of its code): it must be the person's
    rate_currency: tuple[str, str | None] | None = None

    def crosswalk_path(self, name: str) -> Path:
        return self.path.parent / CROSSWALKS / f"{name}.csv"


def export_origin(mapping: Mapping, column: str | None) -> str | None:
    """Where a contract column of a mapped load comes from, in the export's own words (SPEC §4b: a rejection names
    the export's column): `project_code` of a QuickBooks export is its column 'Class'."""
    rule = next((r for r in mapping.columns if r.target == column), None)
    if rule is None:
        return None
    spec = rule.spec
    if rule.origin == "column":
        names = spec["column"] if isinstance(spec["column"], list) else [spec["column"]]
        return f"the export's column{'s' if len(names) > 1 else ''} {', '.join(repr(n) for n in names)}"
    if rule.origin == "column_matching":
        return f"the export's column matching {spec['column_matching']!r}"
    if rule.origin == "section":
        return f"the export's section headings (column {mapping.section_column!r})"
    if rule.origin == "value":
        return f"the value {spec['value']!r} of mapping {mapping.path.name}"
    return None


# ------------------------------------------------------------------------------------------- reading mappings


def load_mappings(folder: Path = MAPPINGS_DIR) -> dict[str, Mapping]:
    """Every mapping of a folder, checked; raises MappingError naming the file and key of the first error."""
    if not folder.is_dir():
        return {}
    return {path.stem: load_mapping(path) for path in sorted(folder.glob("*.toml"))}


def mapping_for_file(file_name: str, mappings: dict[str, Mapping]) -> Mapping | None:
    """The mapping an export belongs to, by its name prefix (longest first), or None."""
    if not file_name.lower().endswith(EXPORT_SUFFIXES):
        return None
    for name in sorted(mappings, key=len, reverse=True):
        if file_name.startswith(name):
            return mappings[name]
    return None


# files a landing folder may hold besides its landing files: the studio's own date (SPEC §3)
LANDING_FOLDER_EXTRAS = ("AS_OF",)


def landing_file_is_read(file_name: str, mappings: dict[str, Mapping]) -> bool:
    """Whether a refresh reads a landing file of this name: a source's by its name prefix (SPEC §4), or a
    mapping's (§4b)."""
    return source_for_file(file_name) is not None or mapping_for_file(file_name, mappings) is not None


def unread_landing_files(landing_dir: Path, mappings: dict[str, Mapping]) -> list[str]:
    """What a landing folder holds that no refresh reads: visible files no source's name prefix (SPEC §4) and no
    mapping's name (§4b) matches (a misspelt or miscapitalised name, a stray note), and folders (`name/`: a refresh
    reads the landing folder's own files only)."""
    found = []
    for path in sorted(landing_dir.iterdir()):
        if path.name.startswith(".") or path.name in LANDING_FOLDER_EXTRAS:
            continue
        if path.is_dir():
            found.append(f"{path.name}/")
        elif not landing_file_is_read(path.name, mappings):
            found.append(path.name)
    return found


def unread_landing_files_message(names: list[str], mappings: dict[str, Mapping]) -> str:
    """What a producer reads about files left unread: which, and what a name must start with."""
    prefixes = ", ".join(sorted(SOURCES))
    these = "this name" if len(names) == 1 else "these names"
    xlsx = ", ".join(sorted(name for name, source in SOURCES.items() if source.accepts_xlsx))
    return (
        f"{', '.join(names)}: no landing source or mapping takes {these}. "
        f"A landing file's name starts with its source, in lower case ({prefixes}) and ends .csv or .parquet "
        f"(.xlsx too for {xlsx}); a tool's export read through a mapping starts with the mapping's name "
        f"({', '.join(sorted(mappings))}) and ends .csv or .xlsx; files in a folder of their own are not read"
    )


def load_mapping(path: Path) -> Mapping:
    where = f"mapping {path.name}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingError(f"{where}: not valid TOML: {error}") from error
    _only(data, TOP_KEYS, where)
    target_name = _need(data, "target", str, where)
    if target_name not in SOURCES:
        raise MappingError(f"{where}: key 'target' = {target_name!r} is not a landing source ({', '.join(SOURCES)})")
    target = SOURCES[target_name]
    header = _need(data, "header", dict, where)
    _only(header, HEADER_KEYS, f"{where} [header]")
    contains = _need(header, "contains", list, f"{where} [header]")
    section = data.get("section", {})
    _only(section, SECTION_KEYS, f"{where} [section]")
    if section:
        _pattern(_need(section, "pattern", str, f"{where} [section]"), f"{where} [section] key 'pattern'")
    rows = data.get("rows", {})
    _only(rows, ROWS_KEYS, f"{where} [rows]")
    drop = []
    for i, rule in enumerate(rows.get("drop", [])):
        at = f"{where} [rows] drop[{i}]"
        _only(rule, DROP_KEYS, at)
        drop.append((_need(rule, "column", str, at), _pattern(_need(rule, "pattern", str, at), f"{at} key 'pattern'")))
    number_spec = data.get("number", {})
    _only(number_spec, NUMBER_KEYS, f"{where} [number]")
    negatives = tuple(number_spec.get("negatives", ["minus"]))
    for negative in negatives:
        if negative not in NEGATIVES:
            raise MappingError(f"{where} [number] key 'negatives': {negative!r} is not one of {', '.join(NEGATIVES)}")
    number = NumberFormat(
        number_spec.get("thousands_separator", ","),
        number_spec.get("decimal_separator", "."),
        tuple(number_spec.get("currency_symbols", [])),
        negatives,
    )
    unpivot = data.get("unpivot", {})
    _only(unpivot, UNPIVOT_KEYS, f"{where} [unpivot]")
    unpivot_pattern = _need(unpivot, "columns", str, f"{where} [unpivot]") if unpivot else None
    rate_currency = _rate_currency(data, target, where)
    columns = _need(data, "columns", dict, where)
    rules = []
    for target_column, spec in columns.items():
        at = f"{where} [columns] {target_column}"
        if target_column not in target.column_names:
            raise MappingError(f"{where} [columns]: key {target_column!r} is not a column of {target.name}")
        if not isinstance(spec, dict):
            raise MappingError(f'{at}: must be a table such as {{ column = "..." }}')
        _only(spec, COLUMN_KEYS, at)
        origins = [k for k in ORIGINS if k in spec]
        if len(origins) != 1:
            raise MappingError(f"{at}: needs exactly one of the keys {', '.join(ORIGINS)} (has {origins or 'none'})")
        if "debit" in spec and "credit" not in spec:
            raise MappingError(f"{at}: key 'debit' needs key 'credit'")
        if "date" in spec:
            _date_format(spec["date"], f"{at} key 'date'")
        if "duration" in spec and spec["duration"] not in DURATIONS:
            raise MappingError(f"{at} key 'duration': {spec['duration']!r} is not one of {', '.join(DURATIONS)}")
        if spec.get("unpivoted") not in (None, "header", "value") or ("unpivoted" in spec and not unpivot_pattern):
            raise MappingError(f"{at} key 'unpivoted': 'header' or 'value', with an [unpivot] table")
        for key in ("pattern", "column_matching", "header_of", "file_name", "credit_positive_when_account"):
            if key in spec:
                _pattern(spec[key], f"{at} key {key!r}")
        rules.append(ColumnRule(target_column, spec))
    missing = [c.name for c in target.columns if c.required and c.name not in columns]
    if missing:
        raise MappingError(f"{where} [columns]: required column(s) of {target.name} not mapped: {', '.join(missing)}")
    mapping = Mapping(
        path.stem,
        path,
        target,
        tuple(contains),
        tuple(rules),
        number,
        section.get("column"),
        section.get("pattern"),
        tuple(drop),
        unpivot_pattern,
        rate_currency=rate_currency,
    )
    for rule in rules:
        if "crosswalk" in rule.spec:
            mapping.crosswalks[rule.spec["crosswalk"]] = _crosswalk(mapping, rule)
    return mapping


def _rate_currency(data: dict, target: Source, where: str) -> tuple[str, str | None] | None:
    spec = data.get("rate_currency")
    if spec is None:
        return None
    at = f"{where} [rate_currency]"
    _only(spec, RATE_CURRENCY_KEYS, at)
    if target.name not in RATE_IN_PERSON_CURRENCY:
        raise MappingError(f"{at}: only for a target that reads a rate in the person's currency (timesheets)")
    pattern = spec.get("pattern")
    if pattern is not None:
        _pattern(pattern, f"{at} key 'pattern'")
    return _need(spec, "column", str, at), pattern


def _only(table: dict, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise MappingError(f"{where}: must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise MappingError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _need(table: dict, key: str, kind: type, where: str):
    if key not in table:
        raise MappingError(f"{where}: key {key!r} is missing")
    if not isinstance(table[key], kind):
        raise MappingError(f"{where}: key {key!r} must be a {kind.__name__}")
    return table[key]


def _pattern(pattern: str, where: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise MappingError(f"{where}: not a regular expression: {error}") from error
    return pattern


def _date_format(fmt: object, where: str) -> None:
    directives = re.findall(r"%(.)", fmt) if isinstance(fmt, str) else []
    bad = [d for d in directives if d not in DATE_DIRECTIVES]
    if not isinstance(fmt, str) or bad or not {"Y", "y"} & set(directives) or not {"m", "b", "B"} & set(directives):
        raise MappingError(
            f"{where}: {fmt!r} is not a date format with a year and a month (such as %m/%d/%Y or %d %b %Y)"
            + (f"; unknown directive %{bad[0]}" if bad else "")
        )


def _crosswalk(mapping: Mapping, rule: ColumnRule) -> dict[str, str]:
    name = rule.spec["crosswalk"]
    path = mapping.crosswalk_path(name)
    at = f"mapping {mapping.path.name} [columns] {rule.target} key 'crosswalk'"
    if not path.is_file():
        raise MappingError(f"{at}: no crosswalk file {path.relative_to(mapping.path.parent.parent)}")
    table: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if line == 1 or not any(cell.strip() for cell in row):
                continue
            if len(row) != 2 or row[0].strip() in table:
                raise MappingError(f"{at}: {path.name} line {line} must be a new '<their value>,<our code>' pair")
            table[row[0].strip()] = row[1].strip()
    return table


# --------------------------------------------------------------------------------------------- mapping an export


@dataclass
class _Check:
    """A condition the mapping checks itself: rows where `bad` holds, shown by `value` of export `column`."""

    rule: str
    column: str
    bad: str
    value: str
    advice: str = ""


def map_export(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> list[CheckResult]:
    """Write `landed` (the target source's columns as text) from an export; the mapping's own failed checks.

    A failure of the rule "the file is readable" means `landed` was not written."""
    if path.suffix.lower() == ".xlsx":
        try:
            readable = xlsx_as_csv(path)
        except Exception as error:  # openpyxl raises many kinds on a damaged workbook
            return [CheckResult.failure(READABLE, f"cannot be read as xlsx: {error}")]
        try:
            return _map_csv(con, readable, mapping, path.name, workbook=True)
        finally:
            shutil.rmtree(readable.parent, ignore_errors=True)
    return _map_csv(con, path, mapping, path.name, workbook=False)


def _find_header(path: Path, contains: tuple[str, ...]) -> tuple[int, list[str]] | None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for index, row in enumerate(csv.reader(handle)):
            if index >= HEADER_SEARCH_ROWS:
                return None
            cells = [c.strip() for c in row]
            if all(name in cells for name in contains):
                # an unnamed column (QuickBooks' first) is named by its position
                return index, [c or f"column_{i + 1}" for i, c in enumerate(cells)]
    return None


def _map_csv(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, file_name: str, workbook: bool
) -> list[CheckResult]:
    try:
        found = _find_header(path, mapping.header_contains)
    except csv.Error as error:
        return [CheckResult.failure(READABLE, f"cannot be read as an export: {error}")]
    except UnicodeDecodeError:
        return [CheckResult.failure(READABLE, "the export is not UTF-8 text; export it again as UTF-8 CSV")]
    if found is None:
        wanted = ", ".join(mapping.header_contains)
        return [
            CheckResult.failure(
                READABLE,
                f"no header row holding {wanted} in the first {HEADER_SEARCH_ROWS} rows: "
                f"is this a {mapping.name} export ({mapping.path.name})?",
            )
        ]
    header_index, names = found
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return [CheckResult.failure(READABLE, f"the header repeats column(s) {', '.join(repeated)}")]
    problems: list[CheckResult] = []
    needed = _export_columns(mapping, names, file_name, problems)
    if problems:
        return problems
    beyond = _rows_beyond_header(path, header_index, len(names))
    if beyond:
        return [beyond]
    columns = "{" + ", ".join(f"'{literal(n)}': 'VARCHAR'" for n in names) + "}"
    cells = ", ".join(f"NULLIF(TRIM({q(n)}), '') AS {q(n)}" for n in names)
    try:
        # rows shorter than the header (section headings, totals) are padded; a quoted cell may span lines (a
        # memo), which DuckDB reads with padding only in one thread: exports are small
        con.execute(
            f"CREATE TABLE export_rows AS SELECT row_number() OVER () + {header_index + 1} AS _row_number, {cells} "
            f"FROM read_csv('{literal(path)}', header = false, skip = {header_index + 1}, columns = {columns}, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', null_padding = true, strict_mode = false, "
            "parallel = false)"
        )
    except duckdb.Error as error:
        detail = " ".join(str(error).replace(str(path), file_name).split())[:300]
        return [CheckResult.failure(READABLE, f"cannot be read as an export: {detail}")]
    if has_empty_line(path):  # DuckDB passes over a line with nothing on it: the rows after it keep the file's numbers
        renumber(con, "export_rows", rows_passed_over(path, header_index + 1, bool), header_index + 1)
    con.execute(_kept_sql(mapping, names))
    relation = "export_kept"
    if mapping.unpivot:
        con.execute(
            "CREATE TABLE export_unpivoted AS SELECT * FROM (UNPIVOT export_kept ON "
            f"COLUMNS('{literal(mapping.unpivot)}') INTO NAME _header VALUE _value)"
        )
        relation = "export_unpivoted"
    expressions, checks = _column_sql(mapping, needed, workbook)
    select = ", ".join(f"{expressions[c.name]} AS {q(c.name)}" for c in mapping.target.columns)
    shown = ", ".join(f"{c.bad} AS _bad_{i}, {c.value} AS _value_{i}" for i, c in enumerate(checks))
    con.execute(f"CREATE TABLE mapped AS SELECT _row_number, {select}{', ' if shown else ''}{shown} FROM {relation}")
    con.execute(_stable_ids_sql(mapping))
    if mapping.rate_currency is not None and mapping.rate_currency[0] in names:
        column, pattern = mapping.rate_currency
        text = f"NULLIF(TRIM({q(column)}), '')"
        if pattern is not None:
            text = _captured(text, pattern)
        con.execute(
            f"CREATE TABLE {STATED_CURRENCY} AS SELECT _row_number, {q(column)} AS cell, {text} AS currency "
            f"FROM {relation}"
        )
    results = [r for i, c in enumerate(checks) if (r := _check_result(con, i, c)) is not None]
    con.execute("DROP TABLE mapped")
    return results


def _rows_beyond_header(path: Path, header_index: int, width: int) -> CheckResult | None:
    """Rows with a cell filled beyond the header's last column: a hand-edited amount such as `2,500.00` left
    unquoted shifts the cells after it, and reading the row to the header's width would keep `2` as the amount.
    Empty cells beyond it (a tool's trailing commas) are nothing."""
    found = []
    reader = None
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            for index, row in enumerate(reader):
                if index > header_index and len(row) > width and any(cell.strip() for cell in row[width:]):
                    found.append((index + 1, ",".join(row)))
    except csv.Error as error:  # a quote never closed, a cell of over 128 KiB: not a file a tool wrote
        line = reader.line_num if reader is not None else 0
        return CheckResult.failure(READABLE, f"cannot be read as an export: near line {line}: {error}")
    if not found:
        return None
    problem = f"has more cells than the header's {width}: is a number written with a comma unquoted?"
    examples = [{"row": row, "column": None, "value": line, "problem": problem} for row, line in found[:EXAMPLE_ROWS]]
    shown = "; ".join(f"row {e['row']} {problem}: {e['value']!r}" for e in examples[:3])
    message = f"every row has the header's columns: {len(found)} row(s) cannot be read, e.g. {shown}"
    return CheckResult(READABLE, False, message, None, True, len(found), examples)


def _export_columns(mapping: Mapping, names: list[str], file_name: str, problems: list[CheckResult]) -> dict:
    """Columns and captures resolved against this export's header and file name."""
    resolved: dict[str, object] = {}
    for rule in mapping.columns:
        spec = rule.spec
        for key in ("column", "debit", "credit"):
            for name in [spec[key]] if isinstance(spec.get(key), str) else spec.get(key, []):
                if name not in names:
                    problems.append(_missing_column(mapping, name, names))
        if "column_matching" in spec:
            matching = [n for n in names if re.search(spec["column_matching"], n)]
            if len(matching) != 1:
                problems.append(_missing_column(mapping, f"a column matching {spec['column_matching']!r}", names))
            else:
                resolved[rule.target] = matching[0]
        if "header_of" in spec:
            captured = [m.group(1) for n in names if (m := re.search(spec["header_of"], n))]
            if not captured:
                problems.append(_missing_column(mapping, f"a column matching {spec['header_of']!r}", names))
            else:
                resolved[rule.target] = captured[0]
        if "file_name" in spec:
            match = re.search(spec["file_name"], file_name)
            if match is None:
                problems.append(
                    CheckResult.failure(
                        READABLE,
                        f"the file name does not hold {rule.target} as {mapping.path.name} states "
                        f"(pattern {spec['file_name']!r})",
                    )
                )
            else:
                resolved[rule.target] = match.group(1)
    for column, _ in mapping.drop:
        if column not in names:
            problems.append(_missing_column(mapping, column, names))
    return resolved


def _missing_column(mapping: Mapping, name: str, names: list[str]) -> CheckResult:
    return CheckResult.failure(
        READABLE, f"the export has no column {name} that {mapping.path.name} reads (it has {', '.join(names)})"
    )


def _kept_sql(mapping: Mapping, names: list[str]) -> str:
    """Rows kept: not blank, not dropped, not a section heading; the heading above each row carried down."""
    blank = " AND ".join(f"{q(n)} IS NULL" for n in names)
    dropped = " OR ".join(f"coalesce(regexp_matches({q(c)}, '{literal(p)}'), false)" for c, p in mapping.drop)
    heading = "NULL"
    if mapping.section_column:
        column, pattern = q(mapping.section_column), literal(mapping.section_pattern or "(.+)")
        others = " AND ".join(f"{q(n)} IS NULL" for n in names if n != mapping.section_column) or "true"
        capture = f"regexp_extract({column}, '{pattern}', 1)" if re.compile(pattern).groups else column
        heading = f"CASE WHEN {others} AND regexp_matches({column}, '{pattern}') THEN {capture} END"
    return f"""
        CREATE TABLE export_kept AS
        WITH marked AS (
            SELECT *, {heading} AS _heading FROM export_rows WHERE NOT ({blank}) AND NOT ({dropped or "false"})
        )
        SELECT * EXCLUDE (_heading),
            last_value(_heading IGNORE NULLS) OVER (ORDER BY _row_number ROWS UNBOUNDED PRECEDING) AS _section
        FROM marked
        QUALIFY _heading IS NULL
        ORDER BY _row_number
    """


def _number_sql(text: str, number: NumberFormat) -> tuple[str, str]:
    """A formatted number as a plain decimal (`-4250.00`), else the text as it was; and the 'fits' predicate."""
    pattern = literal(number.regex())
    group = [f"regexp_extract({text}, '{pattern}', {i})" for i in range(7)]
    signs = f"(({group[1]} = '(') :: INT + ({group[2]} = '-') :: INT + ({group[5]} = '-') :: INT)"
    fits = f"(regexp_matches({text}, '{pattern}') AND ({group[1]} = '(') = ({group[6]} = ')') AND {signs} <= 1)"
    digits = (
        f"replace({group[3]}, '{literal(number.thousands_separator)}', '')"
        if number.thousands_separator
        else (group[3])
    )
    decimals = f"replace({group[4]}, '{literal(number.decimal_separator)}', '.')"
    plain = f"CASE WHEN {signs} = 1 THEN '-' ELSE '' END || {digits} || {decimals}"
    return f"CASE WHEN {fits} THEN {plain} ELSE {text} END", f"({text} IS NULL OR {fits})"


def _column_sql(mapping: Mapping, resolved: dict, workbook: bool) -> tuple[dict[str, str], list[_Check]]:
    """Each target column's SQL over the kept rows (text), and the checks the mapping makes itself."""
    expressions = {c.name: "CAST(NULL AS VARCHAR)" for c in mapping.target.columns}
    checks: list[_Check] = []
    for rule in mapping.columns:
        spec, origin = rule.spec, rule.origin
        label = rule.target
        if origin == "column":
            names = [spec["column"]] if isinstance(spec["column"], str) else spec["column"]
            text = q(names[0]) if len(names) == 1 else "NULLIF(concat_ws(' ', " + ", ".join(map(q, names)) + "), '')"
            label = " ".join(names)
        elif origin == "column_matching":
            text, label = q(resolved[rule.target]), resolved[rule.target]
        elif origin in ("value", "header_of", "file_name"):
            text = f"'{literal(spec['value'] if origin == 'value' else resolved[rule.target])}'"
        elif origin == "section":
            text, label = "_section", f"the section heading ({mapping.section_column})"
        elif origin == "unpivoted":
            text, label = ("_header", "the column heading") if spec["unpivoted"] == "header" else ("_value", "")
            label = label or "the month's cell"
        elif origin == "stable_id":
            continue  # made once every other column is known (`_stable_ids_sql`)
        else:  # debit / credit
            expressions[rule.target] = _debit_credit_sql(mapping, rule, expressions, checks)
            continue
        if "pattern" in spec:
            text = _captured(text, spec["pattern"])
        if "crosswalk" in spec:
            name = spec["crosswalk"]
            lookup = _lookup_sql(mapping.crosswalks[name], text)
            checks.append(
                _Check(
                    f"every {label} is in the crosswalk {CROSSWALKS}/{name}.csv",
                    label,
                    f"({text} IS NOT NULL AND {lookup} IS NULL)",
                    text,
                    f"add a line '<{label}>,<{rule.target}>' to mappings/{CROSSWALKS}/{name}.csv",
                )
            )
            text = f"coalesce({lookup}, {text})"
        if "date" in spec:
            column_type = mapping.target.column(rule.target).type
            out = literal(TARGET_DATE_TEXT.get(column_type, PERIOD_TEXT))
            fmt = literal(spec["date"])
            parsed = f"strftime(try_strptime({text}, '{fmt}'), '{out}')"
            if workbook:  # a workbook's date cell arrives as ISO text (the cell is a date, not text to parse)
                parsed = f"coalesce({parsed}, strftime(try_strptime({text}, '%Y-%m-%d'), '{out}'))"
            bad = f"({text} IS NOT NULL AND {parsed} IS NULL)"
            checks.append(_Check(f"{label} is a date as {spec['date']}", label, bad, text))
            text = f"coalesce({parsed}, {text})"
        if spec.get("number"):
            original = text
            text, fits = _number_sql(text, mapping.number)
            checks.append(_Check(f"{label} is a number as the mapping states it", label, f"NOT {fits}", original))
        if "duration" in spec:
            parts = DURATIONS[spec["duration"]]
            shape = r"^\d+" + r":\d{2}" * (parts - 1) + "$"
            seconds = " + ".join(
                f"TRY_CAST(split_part({text}, ':', {i + 1}) AS BIGINT) * {60 ** (2 - i)}" for i in range(parts)
            )
            fits = f"coalesce(regexp_matches({text}, '{shape}'), true)"
            checks.append(_Check(f"{label} is a duration as {spec['duration']}", label, f"NOT {fits}", text))
            # hours to four places, the contract's precision for a quantity
            text = (
                f"CASE WHEN regexp_matches({text}, '{shape}') THEN "
                f"CAST(CAST(({seconds}) / 3600.0 AS DECIMAL(18,4)) AS VARCHAR) ELSE {text} END"
            )
        expressions[rule.target] = text
    return expressions, checks


def _captured(text: str, pattern: str) -> str:
    """The pattern's first capture group from a matching value; a value that does not match, as it is."""
    captured = f"regexp_extract({text}, '{literal(pattern)}', 1)"
    return f"CASE WHEN regexp_matches({text}, '{literal(pattern)}') THEN {captured} ELSE {text} END"


def _lookup_sql(crosswalk: dict[str, str], text: str) -> str:
    if not crosswalk:
        return "CAST(NULL AS VARCHAR)"
    pairs = ", ".join(f"'{literal(k)}': '{literal(v)}'" for k, v in crosswalk.items())
    return f"MAP {{{pairs}}}[{text}]"


def _debit_credit_sql(mapping: Mapping, rule: ColumnRule, expressions: dict, checks: list[_Check]) -> str:
    """Unsigned debit and credit columns as one signed amount: debit - credit, or credit - debit on the
    accounts the mapping names as credit-natural (revenue lands positive, README "Signs")."""
    spec = rule.spec
    debit, debit_fits = _number_sql(q(spec["debit"]), mapping.number)
    credit, credit_fits = _number_sql(q(spec["credit"]), mapping.number)
    for name, fits in ((spec["debit"], debit_fits), (spec["credit"], credit_fits)):
        checks.append(_Check(f"{name} is a number as the mapping states it", name, f"NOT {fits}", q(name)))
    net = f"CAST(coalesce({debit}, '0') AS DECIMAL(38,4)) - CAST(coalesce({credit}, '0') AS DECIMAL(38,4))"
    if "credit_positive_when_account" in spec:
        account = expressions["account_code"]
        flip = f"coalesce(regexp_matches({account}, '{literal(spec['credit_positive_when_account'])}'), false)"
        net = f"CASE WHEN {flip} THEN -({net}) ELSE {net} END"
    return (
        f"CASE WHEN {q(spec['debit'])} IS NULL AND {q(spec['credit'])} IS NULL THEN NULL "
        f"WHEN {debit_fits} AND {credit_fits} THEN CAST(CAST({net} AS DECIMAL(18,4)) AS VARCHAR) "
        f"WHEN NOT {debit_fits} THEN {q(spec['debit'])} ELSE {q(spec['credit'])} END"
    )


def _stable_ids_sql(mapping: Mapping) -> str:
    """An export without ids: a hash of the row's mapped content and its occurrence among identical rows, so a
    re-export over an overlapping date range gives each transaction the id it had (the ledger rule then makes
    it a no-op)."""
    rules = [r for r in mapping.columns if r.origin == "stable_id"]
    if not rules:
        return "CREATE TABLE landed AS SELECT _row_number, " + _targets(mapping) + " FROM mapped"
    content = (
        "concat_ws('|', "
        + ", ".join(
            f"coalesce({q(c.name)}, '')" for c in mapping.target.columns if c.name not in {r.target for r in rules}
        )
        + ")"
    )
    ids = ", ".join(
        f"'{literal(r.spec['stable_id'])}' || substr(md5(_content), 1, 16) || '-' || "
        f"row_number() OVER (PARTITION BY _content ORDER BY _row_number) AS {q(r.target)}"
        for r in rules
    )
    others = ", ".join(q(c.name) for c in mapping.target.columns if c.name not in {r.target for r in rules})
    return (
        f"CREATE TABLE landed AS SELECT _row_number, {_targets(mapping)} FROM ("
        f"SELECT _row_number, {others}, {ids} FROM (SELECT *, {content} AS _content FROM mapped)) ORDER BY _row_number"
    )


def _targets(mapping: Mapping) -> str:
    return ", ".join(q(c.name) for c in mapping.target.columns)


STATED_CURRENCY = "export_rate_currency"


def rate_currency_check(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> CheckResult | None:
    """Rows whose stated currency is not their person's: the contract reads a timesheet's rate in the person's
    currency (`people.currency`), so a rate in another would be costed wrong by the exchange rate. Read once the
    load's context holds the people (`ref_people`); a row stating no currency, or of a person not in the
    reference data (the gate names those), is not checked."""
    if mapping.rate_currency is None:
        return None
    if not con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{STATED_CURRENCY}'").fetchone()[0]:
        return None  # the export has no such column: it states no currency
    column = mapping.rate_currency[0]
    found = con.execute(
        f"SELECT s._row_number, s.cell, l.person_id, p.currency, count(*) OVER () FROM {STATED_CURRENCY} AS s "
        "JOIN landed AS l USING (_row_number) JOIN (SELECT person_id, currency FROM ref_people "
        # a person's latest record, as stg_people keeps it: a currency corrected in people.csv is the one read
        "QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY _load_id DESC, _row_number DESC) = 1) AS p "
        "ON p.person_id = l.person_id "
        f"WHERE s.currency IS NOT NULL AND s.currency <> p.currency ORDER BY 1 LIMIT {EXAMPLE_ROWS}"
    ).fetchall()
    if not found:
        return None
    rule = f"{column} is the person's currency (people.currency), the one the rate is read in"
    problem = "is not the person's currency"
    examples = [
        {"row": r, "column": column, "value": v, "problem": f"{problem} ({person}: {own})"}
        for r, v, person, own, _ in found
    ]
    shown = "; ".join(f"row {r} {column} = {v!r} ({person} costs in {own})" for r, v, person, own, _ in found[:3])
    advice = (
        "convert those rates to the person's currency in the tool before exporting, "
        "or correct the person's currency in people.csv"
    )
    message = f"{rule}: {found[0][4]} row(s) do not, e.g. {shown}; {advice}"
    return CheckResult(rule, False, message, column, True, int(found[0][4]), examples)


def _check_result(con: duckdb.DuckDBPyConnection, index: int, check: _Check) -> CheckResult | None:
    bad = con.execute(f"SELECT count(*) FROM mapped WHERE _bad_{index}").fetchone()[0]
    if not bad:
        return None
    rows = con.execute(
        f"SELECT _row_number, _value_{index} FROM mapped WHERE _bad_{index} ORDER BY _row_number LIMIT {EXAMPLE_ROWS}"
    ).fetchall()
    examples = [{"row": r[0], "column": check.column, "value": r[1]} for r in rows]
    shown = "; ".join(f"row {r[0]} {check.column} = {r[1]!r}" for r in rows[:3])
    message = f"{check.rule}: {bad} row(s) do not, e.g. {shown}" + (f"; {check.advice}" if check.advice else "")
    return CheckResult(check.rule, False, message, check.column, True, int(bad), examples)
