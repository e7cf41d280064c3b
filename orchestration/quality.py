"""The quality gate every load passes before it reaches the lake (SPEC §5).

A landing file is staged as text into its own small DuckDB file (table `landed`, `_row_number` from 1 =
the first data row), beside the context its rules read (reference data already in the lake, the run's
settings). The source's Great Expectations suite (`expectations/<source>.json`) then runs in DuckDB:
its column and table expectations on `landed`, its row rules on `offending` — the rows that break at
least one rule, found in one scan of the load, so that GX checks each rule on those rows alone.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import duckdb

from orchestration.gx_duckdb import UNEXPECTED_ROWS_TYPE, ExpectationOutcome, load_suite, validate_table
from orchestration.lib.config import EXPECTATIONS_DIR, WarehouseLayout
from orchestration.lib.contract import SOURCES, Source

EXAMPLE_ROWS = 20
# a load is validated in its own small database; a large one spills to disk rather than exhaust memory
WORK_DB_CONFIG = {"memory_limit": "1GB", "preserve_insertion_order": "true"}


@dataclass
class CheckResult:
    rule: str
    passed: bool
    message: str
    column: str | None = None
    blocking: bool = True
    bad_rows: int = 0
    examples: list[dict] = field(default_factory=list)

    @classmethod
    def failure(cls, rule: str, message: str, column: str | None = None, blocking: bool = True) -> CheckResult:
        return cls(rule, False, message, column, blocking, 1)

    @classmethod
    def from_outcome(cls, outcome: ExpectationOutcome) -> CheckResult:
        examples = []
        for row in outcome.examples:
            value = row.get(outcome.column) if outcome.column else None
            examples.append({"row": row.get("_row_number"), "column": outcome.column, "value": value, **row})
        return cls(
            outcome.rule,
            outcome.success,
            outcome.message,
            outcome.column,
            outcome.blocking,
            outcome.unexpected_count,
            examples,
        )

    def as_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))


@dataclass(frozen=True)
class RunContext:
    """What a load's rules need to know about the run."""

    base_currency: str = "USD"
    as_of: date = field(default_factory=date.today)


@cache
def suite_for(source_name: str, folder: Path = EXPECTATIONS_DIR):
    return load_suite(folder / f"{source_name}.json")


def referenced_sources(source: Source, folder: Path = EXPECTATIONS_DIR) -> list[str]:
    """Sources whose accepted loads this source's rules read: they must be loaded first in a run."""
    text = json.dumps(json.loads((folder / f"{source.name}.json").read_text(encoding="utf-8")))
    found = set(re.findall(r"ref_([a-z_]+)", text))
    if "fx_first_period" in text or "_first_rate_period" in text:
        found.add("fx_rates")
    return sorted(found - {source.name})


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stage(con: duckdb.DuckDBPyConnection, path: Path, source: Source) -> CheckResult | None:
    """Read the file as text into `landed`; None when read, else why it cannot be read."""
    rule = "the file is readable"
    try:
        if path.suffix.lower() == ".parquet":
            con.execute(
                "CREATE VIEW landed_raw AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row_number "
                f"FROM read_parquet('{_literal(path)}', file_row_number = true)"
            )
        else:
            unreadable = _stage_csv(con, path)
            if unreadable:
                return unreadable
    except duckdb.Error as error:
        detail = " ".join(str(error).replace(str(path), path.name).split())[:300]
        return CheckResult.failure(rule, f"cannot be read as {path.suffix.lstrip('.')}: {detail}")
    names = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed_raw)").fetchall()]
    headers = [n for n in names if n != "_row_number"]
    # every column as trimmed text, empty cells as NULL; absent optional columns as NULL (one scan of the file)
    select = [f"NULLIF(TRIM(CAST({q(n)} AS VARCHAR)), '') AS {q(n)}" for n in headers]
    select += [
        f"CAST(NULL AS VARCHAR) AS {q(c.name)}" for c in source.columns if not c.required and c.name not in headers
    ]
    try:
        con.execute(f"CREATE TABLE landed AS SELECT _row_number, {', '.join(select)} FROM landed_raw")
    except duckdb.Error as error:
        detail = " ".join(str(error).replace(str(path), path.name).split())[:300]
        return CheckResult.failure(rule, f"cannot be read as {path.suffix.lstrip('.')}: {detail}")
    con.execute("DROP VIEW landed_raw")
    return _unreadable_rows(con) if path.suffix.lower() != ".parquet" else None


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
    "INVALID ENCODING": "is not UTF-8 text",
    "UNQUOTED VALUE": "has a quote that is not closed properly",
    "LINE SIZE OVER MAXIMUM": "is too long",
}


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path) -> CheckResult | None:
    """A CSV read with the header's own columns: a row that does not fit is named by its row number."""
    rule = "the file is readable"
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
    repeated = sorted({n for n in header if header.count(n) > 1 and n})
    if repeated:
        return CheckResult.failure(rule, f"the header repeats column(s) {', '.join(repeated)}")
    # an unnamed column (a trailing comma in the header) gets a name, to be reported as unknown
    names = [name or f"unnamed_column_{i + 1}" for i, name in enumerate(header)]
    columns = "{" + ", ".join("'" + n.replace("'", "''") + "': 'VARCHAR'" for n in names) + "}"
    # a view: the file is scanned once, when `landed` is made from it; rows that do not fit go to csv_rejects
    con.execute(
        "CREATE VIEW landed_raw AS SELECT row_number() OVER () AS _row_number, * FROM read_csv("
        f"'{_literal(path)}', header = true, columns = {columns}, auto_detect = false, delim = ',', "
        "quote = '\"', escape = '\"', strict_mode = true, null_padding = false, store_rejects = true, "
        "rejects_table = 'csv_rejects', rejects_scan = 'csv_scans')"
    )
    return None


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def _unreadable_rows(con: duckdb.DuckDBPyConnection) -> CheckResult | None:
    """The CSV rows DuckDB could not fit to the header, by row number (row 1 = the line after the header)."""
    try:
        bad = con.execute("SELECT count(*) FROM csv_rejects").fetchone()[0]
    except duckdb.CatalogException:
        return None
    if not bad:
        return None
    rows = con.execute(
        f"SELECT line - 1, error_type::VARCHAR, csv_line FROM csv_rejects ORDER BY line LIMIT {EXAMPLE_ROWS}"
    ).fetchall()
    examples = [{"row": r[0], "column": None, "value": r[2], "problem": CSV_PROBLEMS.get(r[1], r[1])} for r in rows]
    shown = "; ".join(f"row {e['row']} {e['problem']}: {e['value']!r}" for e in examples[:3])
    rule = "every row has the header's columns and is UTF-8 text"
    message = f"{rule}: {bad} row(s) cannot be read, e.g. {shown}"
    return CheckResult(rule, False, message, None, True, int(bad), examples)


def prepare_context(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, source: Source, run: RunContext) -> None:
    """The relations a source's rules read, beside its staged load (see `suites.py`)."""
    from orchestration.ingest import lake_select

    # the run's settings as macros: the rules read them as constants, with no join per row
    currency = run.base_currency.replace("'", "''")
    con.execute(f"CREATE MACRO base_currency() AS '{currency}'")
    con.execute(f"CREATE MACRO as_of_date() AS DATE '{run.as_of.isoformat()}'")
    for name in [*referenced_sources(source), "fx_rates"]:
        con.execute(f"CREATE OR REPLACE VIEW ref_{name} AS {lake_select(layout, SOURCES[name])}")
    con.execute(
        "CREATE VIEW fx_first_period AS SELECT currency, min(period) AS first_period FROM ref_fx_rates GROUP BY 1"
    )
    con.execute(f"CREATE VIEW existing AS {lake_select(layout, source)}")
    present = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed)").fetchall()}
    complete = all(c.name in present for c in source.columns)  # else the load is rejected for its columns
    if source.ledger:
        conflicts = _conflicts(source) if complete else "SELECT CAST(NULL AS BIGINT) AS _row_number WHERE false"
        con.execute(f"CREATE VIEW conflicting_rows AS {conflicts}")
    if source.name == "budgets":
        changed = (
            LOCKED_BUDGETS_CHANGED if complete else "SELECT NULL AS budget_version, NULL AS project_code WHERE false"
        )
        con.execute(f"CREATE VIEW locked_budgets_changed AS {changed}")


def _conflicts(source: Source) -> str:
    """Rows of the load whose id is already loaded with other content."""
    on = " AND ".join(f"TRY_CAST(l.{q(k)} AS {source.column(k).type}) = e.{q(k)}" for k in source.key)
    differs = " OR ".join(
        f"TRY_CAST(l.{q(c.name)} AS {c.type}) IS DISTINCT FROM e.{q(c.name)}"
        for c in source.columns
        if c.name not in source.key
    )
    if not differs:  # every column is part of the id: a re-sent record is identical by definition
        return "SELECT _row_number FROM landed WHERE false"
    return f"SELECT DISTINCT l._row_number FROM landed l JOIN existing e ON {on} WHERE {differs}"


# An approved or locked (version, project) already loaded whose lines this load changes (or demotes to draft).
LOCKED_BUDGETS_CHANGED = """
WITH official AS (
    SELECT * FROM existing
    WHERE version_status IN ('approved', 'locked')
      AND _load_id = (SELECT max(e2._load_id) FROM existing e2
                      WHERE e2.budget_version = existing.budget_version AND e2.project_code = existing.project_code)
),
incoming AS (
    SELECT budget_version, project_code, account_code, period, TRY_CAST(amount AS DECIMAL(18,4)) AS amount,
           currency, TRY_CAST(quantity AS DECIMAL(18,4)) AS quantity, unit, TRY_CAST(rate AS DECIMAL(18,4)) AS rate,
           version_status
    FROM landed
    WHERE (budget_version, project_code) IN (SELECT budget_version, project_code FROM official)
),
kept AS (
    SELECT budget_version, project_code, account_code, period, amount, currency, quantity, unit, rate
    FROM official
),
changed AS (
    (SELECT budget_version, project_code, account_code, period, amount, currency, quantity, unit, rate FROM incoming
     EXCEPT ALL SELECT * FROM kept)
    UNION ALL
    (SELECT * FROM kept WHERE (budget_version, project_code) IN (SELECT budget_version, project_code FROM incoming)
     EXCEPT ALL
     SELECT budget_version, project_code, account_code, period, amount, currency, quantity, unit, rate FROM incoming)
    UNION ALL
    SELECT budget_version, project_code, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM incoming
    WHERE version_status = 'draft'
)
SELECT DISTINCT budget_version, project_code FROM changed
"""


def helper_columns(source: Source) -> tuple[list[str], list[str], str]:
    """Per-row figures some rules read: (small aggregate tables to create first, select list, joins).

    Cross-row figures (repeated ids, hours per person and day, statuses per budget version) come from
    GROUP BY ... HAVING tables of the few offending groups, joined to the load: a hash aggregate and a
    join with a small table cost far less than a window over millions of distinct ids.
    """
    tables, helpers, joins = [], [], []

    def group(name: str, columns: tuple[str, ...], figure: str, having: str) -> None:
        keys = ", ".join(q(c) for c in columns)
        tables.append(f"CREATE TABLE {name} AS SELECT {keys}, {figure} AS figure FROM landed GROUP BY {keys} {having}")
        on = " AND ".join(f"{name}.{q(c)} = landed.{q(c)}" for c in columns)
        joins.append(f"LEFT JOIN {name} ON {on}")

    if source.key:
        group("repeated_ids", source.key, "count(*)", "HAVING count(*) > 1")
        helpers.append("coalesce(repeated_ids.figure, 1) AS _key_count")
    if "currency" in source.column_names:
        helpers.append("fx.first_period AS _first_rate_period")
        joins.append("LEFT JOIN fx_first_period AS fx ON fx.currency = landed.currency")
    if source.name == "timesheets":
        hours = " + ".join(f"coalesce(TRY_CAST({c} AS DECIMAL(18,4)), 0)" for c in ("regular_hours", "overtime_hours"))
        group("long_days", ("person_id", "work_date"), f"sum({hours})", f"HAVING sum({hours}) > 24")
        helpers.append("long_days.figure AS _person_day_hours")
    if source.name == "budgets":
        statuses = "count(DISTINCT version_status)"
        group("mixed_statuses", ("budget_version", "project_code"), statuses, f"HAVING {statuses} > 1")
        helpers += ["coalesce(mixed_statuses.figure, 1) AS _version_statuses", "starts._project_start"]
        joins.append(
            "LEFT JOIN (SELECT project_code AS _starting_project, min(start_date) AS _project_start "
            "FROM ref_projects GROUP BY 1) AS starts ON starts._starting_project = landed.project_code"
        )
    return tables, helpers, " ".join(joins)


def find_offending(con: duckdb.DuckDBPyConnection, source: Source, predicates: list[str]) -> int:
    """`offending`: every row breaking at least one rule, with the helper columns, in one scan."""
    tables, helpers, joins = helper_columns(source)
    for statement in tables:
        con.execute(statement)
    select = ", ".join(["landed.*", *helpers])
    where = " OR ".join(f"({p})" for p in predicates) or "false"
    con.execute(
        f"CREATE TABLE offending AS SELECT * FROM (SELECT {select} FROM landed {joins}) AS landed WHERE {where}"
    )
    return int(con.execute("SELECT count(*) FROM offending").fetchone()[0])


def run_gate(database: Path, source: Source) -> list[CheckResult]:
    """Run the source's suite on the staged load in `database` (closed by the caller beforehand)."""
    suite = suite_for(source.name)
    table_rules = [e for e in suite.expectations if e.expectation_type != UNEXPECTED_ROWS_TYPE]
    row_rules = [e for e in suite.expectations if e.expectation_type == UNEXPECTED_ROWS_TYPE]
    table_suite = suite.__class__(name=f"{suite.name}_table", expectations=[e.configuration for e in table_rules])
    outcomes = validate_table(database, "SELECT * FROM landed", table_suite)
    results = [_unknown_columns_only(CheckResult.from_outcome(o)) for o in outcomes]
    if any(not r.passed and r.blocking for r in results):
        return results  # rows cannot be judged without their columns
    predicates = [e.configuration.meta["bad_when"] for e in row_rules if e.configuration.meta.get("bad_when")]
    try:
        with duckdb.connect(str(database), config=WORK_DB_CONFIG) as con:
            find_offending(con, source, predicates)
    except duckdb.Error as error:  # a rule that cannot run rejects the load rather than crash the run
        detail = " ".join(str(error).split())[:400]
        return [*results, CheckResult.failure("the rules of the suite can run", f"could not be checked: {detail}")]
    row_suite = suite.__class__(name=f"{suite.name}_rows", expectations=[e.configuration for e in row_rules])
    results += [CheckResult.from_outcome(o) for o in validate_table(database, "SELECT * FROM offending", row_suite)]
    return results


def _unknown_columns_only(result: CheckResult) -> CheckResult:
    """The column-set warning speaks of columns beyond the contract; missing ones have their own rule."""
    if result.passed or result.blocking or not any(e.get("problem") for e in result.examples):
        return result
    unknown = [e for e in result.examples if e.get("problem") == "unexpected"]
    if not unknown:
        return CheckResult(result.rule, True, f"{result.rule}: ok", result.column, result.blocking)
    names = ", ".join(str(e["column"]) for e in unknown)
    return CheckResult(result.rule, False, f"{result.rule}: {names}", None, False, len(unknown), unknown)


def render_quarantine_report(file_name: str, source: str, checks: list[CheckResult]) -> str:
    """The readable report kept beside a rejected file."""
    failed = [c for c in checks if not c.passed]
    lines = [
        f"Rejected load: {file_name} (source: {source})",
        "Rows are counted from the first data row: row 1 is the line after the header.",
        "",
    ]
    for check in sorted(failed, key=lambda c: not c.blocking):
        kind = "BLOCKING" if check.blocking else "warning"
        lines.append(f"[{kind}] {check.rule}" + (f" — column '{check.column}'" if check.column else ""))
        lines.append(f"    {check.message}")
        if check.bad_rows:
            lines.append(f"    bad rows: {check.bad_rows}")
        for example in check.examples[:EXAMPLE_ROWS]:
            if example.get("row") is not None:
                lines.append(f"      row {example['row']}: {example['column']} = {example['value']!r}")
        lines.append("")
    lines.append("Nothing from this file reached the warehouse. Fix it and deliver it again.")
    return "\n".join(lines) + "\n"
