"""Checks every load must pass before it reaches the lake (SPEC §5).

The rules come from the landing contract in `sources.py` and run as SQL in DuckDB on the
staged load (table `landed`: every column as trimmed text, `_row_number` from 1). Each rule
returns the count of offending rows and up to 20 of them with their row numbers, so that a
producer can find and fix them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb

from orchestration.sources import Source

EXAMPLE_ROWS = 20
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


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
    def success(cls, rule: str, column: str | None = None, blocking: bool = True) -> CheckResult:
        return cls(rule, True, f"{rule}: ok", column, blocking)

    @classmethod
    def failure(cls, rule: str, message: str, column: str | None = None, blocking: bool = True) -> CheckResult:
        return cls(rule, False, message, column, blocking)

    def as_dict(self) -> dict:
        return asdict(self)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed)").fetchall() if r[0] != "_row_number"]


def _row_rule(
    con: duckdb.DuckDBPyConnection, rule: str, column: str, bad_when: str, explain: str, blocking: bool = True
) -> CheckResult:
    """A rule on single rows: `bad_when` is a SQL predicate over `landed` that marks offending rows."""
    count = con.execute(f"SELECT count(*) FROM landed WHERE {bad_when}").fetchone()[0]
    if count == 0:
        return CheckResult.success(rule, column, blocking)
    rows = con.execute(
        f"SELECT _row_number, {_quote(column)} FROM landed WHERE {bad_when} ORDER BY _row_number LIMIT {EXAMPLE_ROWS}"
    ).fetchall()
    examples = [{"row": r[0], "column": column, "value": r[1]} for r in rows]
    shown = ", ".join(f"row {e['row']} value {e['value']!r}" for e in examples[:3])
    message = f"{rule}: {count} row(s) where column '{column}' {explain} (e.g. {shown})"
    return CheckResult(rule, False, message, column, blocking, int(count), examples)


def check_load(con: duckdb.DuckDBPyConnection, source: Source) -> list[CheckResult]:
    """Run the contract's rules on the staged load `landed`."""
    present = _columns(con)
    results: list[CheckResult] = []
    missing = [c.name for c in source.columns if c.required and c.name not in present]
    if missing:
        results.append(
            CheckResult.failure("required columns present", f"missing required column(s): {', '.join(missing)}")
        )
        return results
    extra = [n for n in present if n not in source.column_names]
    if extra:
        results.append(
            CheckResult.failure("no unknown columns", f"unknown column(s) ignored: {', '.join(extra)}", blocking=False)
        )
    if con.execute("SELECT count(*) FROM landed").fetchone()[0] == 0:
        results.append(CheckResult.failure("file has rows", "the file has a header but no data rows"))
        return results
    for column in source.columns:
        if column.name not in present:
            continue
        name = _quote(column.name)
        if column.required:
            results.append(_row_rule(con, "required value present", column.name, f"{name} IS NULL", "is empty"))
        if column.type != "VARCHAR":
            results.append(
                _row_rule(
                    con,
                    f"value is a {column.type.split('(')[0].lower()}",
                    column.name,
                    f"{name} IS NOT NULL AND TRY_CAST({name} AS {column.type}) IS NULL",
                    f"is not a plain {_type_words(column.type)}",
                )
            )
            if column.type == "DATE":
                results.append(
                    _row_rule(
                        con,
                        "date is ISO YYYY-MM-DD",
                        column.name,
                        f"{name} IS NOT NULL AND NOT regexp_full_match({name}, '{DATE_PATTERN}')",
                        "is not written YYYY-MM-DD",
                    )
                )
        if column.allowed:
            allowed = ", ".join("'" + v + "'" for v in column.allowed)
            results.append(
                _row_rule(
                    con,
                    "value in allowed set",
                    column.name,
                    f"{name} IS NOT NULL AND {name} NOT IN ({allowed})",
                    f"is not one of {', '.join(column.allowed)}",
                )
            )
        if column.name == "period":
            results.append(
                _row_rule(
                    con,
                    "period is YYYY-MM",
                    column.name,
                    f"{name} IS NOT NULL AND NOT regexp_full_match({name}, '{PERIOD_PATTERN}')",
                    "is not a period written YYYY-MM",
                )
            )
    if source.ledger and source.key:
        results.append(_duplicate_keys(con, source))
    return results


def _type_words(sql_type: str) -> str:
    if sql_type.startswith("DECIMAL"):
        return "decimal number such as -1234.50 (no currency symbols or thousands separators)"
    return {"DATE": "date YYYY-MM-DD", "TIMESTAMP": "timestamp YYYY-MM-DDTHH:MM:SS", "INTEGER": "whole number"}.get(
        sql_type, sql_type.lower()
    )


def _duplicate_keys(con: duckdb.DuckDBPyConnection, source: Source) -> CheckResult:
    keys = ", ".join(_quote(k) for k in source.key)
    column = source.key[0]
    bad_when = f"({keys}) IN (SELECT ({keys}) FROM landed GROUP BY {keys} HAVING count(*) > 1)"
    return _row_rule(con, "id unique within the file", column, bad_when, "repeats an id already in this file")


def render_quarantine_report(file_name: str, source: str, checks: list[CheckResult]) -> str:
    """The readable report kept beside a rejected file."""
    failed = [c for c in checks if not c.passed]
    lines = [f"Rejected load: {file_name} (source: {source})", ""]
    for check in failed:
        kind = "BLOCKING" if check.blocking else "warning"
        lines.append(f"[{kind}] {check.rule}" + (f" — column '{check.column}'" if check.column else ""))
        lines.append(f"    {check.message}")
        if check.bad_rows:
            lines.append(f"    bad rows: {check.bad_rows}")
        for example in check.examples:
            lines.append(f"      row {example['row']}: {example['column']} = {example['value']!r}")
        lines.append("")
    lines.append("Fix the file and deliver it again; nothing from it reached the warehouse.")
    return "\n".join(lines) + "\n"
