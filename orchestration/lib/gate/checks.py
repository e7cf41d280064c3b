"""The quality gate every load passes before it reaches the lake (SPEC §5).

A landing file is read as text into its own small DuckDB file (see `landed.py`), beside the context its
rules read (see `context.py`). The source's Great Expectations suite (`expectations/<source>.json`) then
runs in DuckDB: its column and table expectations on `landed`, its row rules on `offending` — the rows
that break at least one rule, found in one scan of the load, so that GX checks each rule on those rows alone.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult

from orchestration.lib.config import EXPECTATIONS_DIR, in_process_memory_limit
from orchestration.lib.contract import Source
from orchestration.lib.gate.context import find_offending
from orchestration.lib.gate.gx_duckdb import UNEXPECTED_ROWS_TYPE, gx_session, load_suite
from orchestration.lib.gate.results import CheckResult

# a load is checked in its own small database; a large one spills to disk rather than exhaust memory. The gate runs
# in the refresh's own process, before dbt starts, with that process's share of 1GB (476 MiB, whatever
# duckdb_memory_limit says: a 10M-row ledger is checked within it)
GATE_MEMORY_LIMIT = in_process_memory_limit("1GB")
CHECK_DB_CONFIG = {"memory_limit": GATE_MEMORY_LIMIT, "preserve_insertion_order": "true"}


@cache
def suite_for(source_name: str, folder: Path = EXPECTATIONS_DIR) -> ExpectationSuite:
    return load_suite(folder / f"{source_name}.json")


def run_gate(
    database: Path, source: Source, collect: list[ExpectationSuiteValidationResult] | None = None
) -> list[CheckResult]:
    """Run the source's suite on the landed load in `database` (closed by the caller beforehand). GX's own
    validation results are appended to `collect` when given (for the load's Data Docs page).

    The offending rows are found first (a write), then GX validates the load's column and table rules and, when
    none of those that block failed, its row rules, in one session (`gx_session`): rows cannot be judged without
    their columns, and a rule that cannot run (a column missing, which its table rule names) is told only then."""
    suite = suite_for(source.name)
    table_rules = [e for e in suite.expectations if e.expectation_type != UNEXPECTED_ROWS_TYPE]
    row_rules = [e for e in suite.expectations if e.expectation_type == UNEXPECTED_ROWS_TYPE]
    table_suite = suite.__class__(name=f"{suite.name}_table", expectations=[e.configuration for e in table_rules])
    row_suite = suite.__class__(name=f"{suite.name}_rows", expectations=[e.configuration for e in row_rules])
    predicates = [e.configuration.meta["bad_when"] for e in row_rules if e.configuration.meta.get("bad_when")]
    cannot_run = None
    try:
        with duckdb.connect(str(database), config=CHECK_DB_CONFIG) as con:
            find_offending(con, source, predicates)
    except duckdb.Error as error:  # a rule that cannot run rejects the load rather than crash the run
        detail = " ".join(str(error).split())[:400]
        cannot_run = CheckResult.failure("the rules of the suite can run", f"could not be checked: {detail}")
    with gx_session(database, GATE_MEMORY_LIMIT) as session:
        outcomes = session.validate("SELECT * FROM landed", table_suite, collect=collect)
        results = [_unknown_columns_only(CheckResult.from_outcome(o), source) for o in outcomes]
        if any(not r.passed and r.blocking for r in results):
            return results  # rows cannot be judged without their columns
        if cannot_run is not None:
            return [*results, cannot_run]
        return results + [
            CheckResult.from_outcome(o) for o in session.validate("SELECT * FROM offending", row_suite, collect=collect)
        ]


def _unknown_columns_only(result: CheckResult, source: Source) -> CheckResult:
    """The column-set warning speaks of columns beyond the contract (and names the contract's, so that a misspelt
    optional column, whose values would be left out, can be told); missing ones have their own rule."""
    if result.passed or result.blocking or not any(e.get("problem") for e in result.examples):
        return result
    unknown = [e for e in result.examples if e.get("problem") == "unexpected"]
    if not unknown:
        return CheckResult(result.rule, True, f"{result.rule}: ok", result.column, result.blocking)
    names = ", ".join(str(e["column"]) for e in unknown)
    contract = ", ".join(source.column_names)
    message = f"{result.rule}: {names} (not read; the columns of {source.name} are {contract})"
    return CheckResult(result.rule, False, message, None, False, len(unknown), unknown)
