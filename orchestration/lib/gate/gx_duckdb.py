"""Run Great Expectations suites against a DuckDB file: the one place the GX-on-DuckDB workaround lives.

GX 1.x has no DuckDB dialect of its own; it reaches DuckDB through SQLAlchemy (duckdb-engine). Three things
make that work, all kept in this module:

1. "duckdb" is added to GX's persisted-connection dialects
   (``great_expectations/execution_engine/sqlalchemy_execution_engine.py``, ``_PERSISTED_CONNECTION_DIALECTS``).
   Otherwise GX opens a fresh pooled connection per query and reads the result after that connection went
   back to the pool; with DuckDB the cursor is gone by then (``'NoneType' object is not subscriptable`` in
   ``QueryRowCount``, ``list index out of range`` in ``resolve_metric_bundle``).
2. The table is addressed through a *query asset* (``SELECT * FROM landed``), not a schema-qualified table asset.
3. Every engine GX created (the datasource's and the execution engine's, plus the execution engine's persisted
   connection) is closed and disposed when a validation ends; DuckDB allows one writer per file, and a pooled
   connection left behind makes the next writer fail with "Could not set lock on file" (in another process) or
   "Can't open a connection to same database file with a different configuration" (in this one). GX connects
   read-only, so several processes can validate the same file at once (but not while someone writes it).

Heavy rules should be ``UnexpectedRowsExpectation``s whose query returns only the offending rows. GX counts them
in the database (``QueryRowCount``: ``SELECT COUNT(*) FROM (<query>)``) and fetches at most
``MAX_RESULT_RECORDS`` (200) of them with ``fetchmany`` on a streaming DuckDB cursor (``QueryTable``), so
millions of offending rows are never pulled into Python; no workaround is needed for that. The price is that
each rule's query runs twice (count, then fetch): measured ~2.5x a bare ``SELECT count(*)`` per rule.

``{batch}`` in an ``unexpected_rows_query`` is substituted by GX with ``str.format``: a literal brace (a regex
quantifier such as ``{4}``) must be doubled in the suite (``[0-9]{{4}}``).
"""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.core import ExpectationSuite
from great_expectations.core.expectation_suite import expectationSuiteSchema
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import sqlalchemy_execution_engine as _gx_sql_engine

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult

ROW_NUMBER_COLUMN = "_row_number"
UNEXPECTED_ROWS_TYPE = "unexpected_rows_expectation"
# Where the persisted-connection dialect list lives in GX; the test suite checks it, so a GX upgrade that
# moves or renames it fails there rather than in production.
PERSISTED_DIALECTS_ATTRIBUTE = "_PERSISTED_CONNECTION_DIALECTS"
INDEX_KEY = "_gx_duckdb_index"  # tags our copy of each expectation so results map back to suite order


@dataclass
class ExpectationOutcome:
    rule: str  # suite expectation's meta["rule"] (human words), fallback to expectation type
    column: str | None  # meta["column"] or kwargs["column"]
    blocking: bool  # meta.get("blocking", True)
    success: bool
    unexpected_count: int
    examples: list[dict]  # up to example_rows offending rows as dicts (with "_row_number" when the table has it)
    message: str  # one line a producer can act on
    error: str | None = None  # set when GX could not evaluate the rule at all (then success is False)


class _DialectName(str):
    """A dialect name GX's persisted-connection checks accept.

    GX compares members of the list with ``==``/``in`` against the engine's dialect name and also reads
    ``.value`` (``_dialect_requires_persisted_connection``), as it would on its ``GXSqlDialect`` enum,
    which has no DuckDB member.
    """

    @property
    def value(self) -> str:
        return str(self)


def install_duckdb_shim() -> None:
    """Make GX keep one persisted connection for DuckDB (see module docstring). Idempotent."""
    try:
        dialects = getattr(_gx_sql_engine, PERSISTED_DIALECTS_ATTRIBUTE)
    except AttributeError as exc:  # pragma: no cover - only on a GX upgrade
        raise RuntimeError(
            f"great_expectations {gx.__version__} no longer has "
            f"sqlalchemy_execution_engine.{PERSISTED_DIALECTS_ATTRIBUTE}; find where it now decides which "
            "dialects keep a persisted connection and update orchestration/gx_duckdb.py"
        ) from exc
    if "duckdb" not in dialects:
        setattr(_gx_sql_engine, PERSISTED_DIALECTS_ATTRIBUTE, (*tuple(dialects), _DialectName("duckdb")))


install_duckdb_shim()


def load_suite(path: Path) -> ExpectationSuite:
    """Load a suite from the JSON GX itself writes (``suite.to_json_dict()``).

    Goes through GX's own schema (as its ExpectationsStore does). ``ExpectationSuite(...)`` only *logs*
    an expectation it cannot build and drops it, so a misspelt type would silently shrink the suite:
    that is turned into an error here.
    """
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    suite = ExpectationSuite(**expectationSuiteSchema.load(raw))
    wanted = len(raw.get("expectations") or [])
    if len(suite.expectations) != wanted:
        built = {e.expectation_type for e in suite.expectations}
        dropped = [e.get("type") for e in raw.get("expectations") or [] if e.get("type") not in built]
        raise ValueError(
            f"{path}: GX built {len(suite.expectations)} of {wanted} expectations; "
            f"check these entries (unknown type or bad kwargs): {dropped or 'see GX log'}"
        )
    return suite


@contextlib.contextmanager
def gx_session(database: Path, memory_limit: str | None = None) -> Iterator[GxSession]:
    """One GX context and DuckDB datasource over ``database`` for one or more validations (`GxSession.validate`).

    A load's gate validates two queries (its column and table rules on the load, its row rules on the offending
    rows): one session for both spares a second datasource, connection and disposal, about 30 ms of each load.
    ``memory_limit`` bounds DuckDB's memory for GX's connection (DuckDB's own default is 80% of the machine's).
    The DuckDB file is free again when the session ends, however it ends."""
    install_duckdb_shim()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_sql(
        name=f"duckdb_{uuid.uuid4().hex[:8]}",
        connection_string=f"duckdb:///{Path(database)}",
        # Validation never writes: read-only lets several processes validate the same file at once.
        kwargs={"connect_args": {"read_only": True, "config": {"memory_limit": memory_limit} if memory_limit else {}}},
    )
    try:
        yield GxSession(datasource)
    finally:
        _dispose(context, datasource)


class GxSession:
    """Validations on one DuckDB file through one GX datasource (`gx_session`)."""

    def __init__(self, datasource: Any) -> None:
        self.datasource = datasource
        self.assets = 0

    def validate(
        self,
        query: str,
        suite: ExpectationSuite,
        example_rows: int = 20,
        collect: list[ExpectationSuiteValidationResult] | None = None,
    ) -> list[ExpectationOutcome]:
        """Validate ``query`` (a SELECT over the session's DuckDB file) against ``suite``.

        Returns one outcome per suite expectation, in suite order. GX's own validation results (one per result
        format it ran with) are appended to ``collect`` when given, for Data Docs; each expectation's ``meta``
        holds its index in ``suite`` under ``INDEX_KEY``.
        """
        if not suite.expectations:
            return []
        configs = []
        for index, expectation in enumerate(suite.expectations):
            config = copy.deepcopy(expectation.configuration)
            config.meta = {**(config.meta or {}), INDEX_KEY: index}
            configs.append(config)
        row_configs = [c for c in configs if c.type == UNEXPECTED_ROWS_TYPE]
        other_configs = [c for c in configs if c.type != UNEXPECTED_ROWS_TYPE]
        self.assets += 1
        asset = self.datasource.add_query_asset(name=f"query_{self.assets}", query=query)
        batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
        engine = self.datasource.get_execution_engine()
        # (not batch.columns(): that always draws a progress bar)
        probe = engine.execute_query(sa.text(f"SELECT * FROM ({query}) AS q LIMIT 0"))
        has_row_number = ROW_NUMBER_COLUMN in list(probe.keys())
        probe.close()
        results: dict[int, ExpectationValidationResult] = {}
        if other_configs:
            # SUMMARY makes GX fetch at most partial_unexpected_count values/row numbers per rule (LIMIT in SQL);
            # COMPLETE would pull every unexpected value of a column rule into Python.
            result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": example_rows}
            if has_row_number:
                result_format["unexpected_index_column_names"] = [ROW_NUMBER_COLUMN]
            results.update(_run(batch, other_configs, suite.name, result_format, collect))
        if row_configs:
            # COMPLETE is the only format in which UnexpectedRowsExpectation returns the rows it fetched
            # (at most MAX_RESULT_RECORDS, fetched whatever the format); its count is SQL COUNT(*).
            results.update(_run(batch, row_configs, suite.name, {"result_format": "COMPLETE"}, collect))
        outcomes = [_outcome(configs[i], results[i], example_rows) for i in range(len(configs))]
        _fill_missing_examples(engine, query, outcomes, configs, example_rows)
        for i, outcome in enumerate(outcomes):
            if not outcome.message:
                counts_rows = configs[i].type == UNEXPECTED_ROWS_TYPE or "unexpected_count" in (results[i].result or {})
                outcome.message = _message(outcome, "offending row" if counts_rows else "problem")
        return outcomes


def validate_table(
    database: Path,
    query: str,
    suite: ExpectationSuite,
    example_rows: int = 20,
    collect: list[ExpectationSuiteValidationResult] | None = None,
    memory_limit: str | None = None,
) -> list[ExpectationOutcome]:
    """Validate ``query`` (a SELECT over the DuckDB file ``database``) against ``suite`` in a session of its own
    (`gx_session`, `GxSession.validate`). The DuckDB file is free again on return."""
    if not suite.expectations:
        return []
    with gx_session(database, memory_limit) as session:
        return session.validate(query, suite, example_rows, collect)


def _run(
    batch, configs, suite_name: str, result_format: dict, collect: list[ExpectationSuiteValidationResult] | None
) -> dict[int, ExpectationValidationResult]:
    part = ExpectationSuite(name=f"{suite_name}__part", expectations=configs)
    result = batch.validate(part, result_format=result_format)
    if collect is not None:
        collect.append(result)
    by_index = {r.expectation_config.meta[INDEX_KEY]: r for r in result.results}
    if len(by_index) != len(configs):
        raise RuntimeError(f"GX returned {len(by_index)} results for {len(configs)} expectations")
    return by_index


def _dispose(context, datasource) -> None:
    """Close everything GX opened on the DuckDB file so the next writer can take the lock."""
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            connection.close()
            execution_engine._connection = None
        execution_engine.engine.dispose()
        datasource._execution_engine = None
    engine = getattr(datasource, "_engine", None)
    if engine is not None:
        engine.dispose()
        datasource._engine = None
    context.data_sources.delete(datasource.name)


def _outcome(config, result: ExpectationValidationResult, example_rows: int) -> ExpectationOutcome:
    meta = config.meta or {}
    kwargs = config.kwargs or {}
    rule = meta.get("rule") or config.type
    column = meta.get("column") or kwargs.get("column")
    blocking = bool(meta.get("blocking", True))
    info = result.exception_info or {}
    raised = info.get("raised_exception") or any(
        isinstance(v, dict) and v.get("raised_exception") for v in info.values()
    )
    if raised:
        messages = [info.get("exception_message")] + [
            v.get("exception_message") for v in info.values() if isinstance(v, dict)
        ]
        error = "; ".join(dict.fromkeys(m for m in messages if m)) or "unknown GX error"
        return ExpectationOutcome(
            rule, column, blocking, False, 0, [], f"{rule}{_on(column)}: could not be checked: {error}", error
        )

    body = result.result or {}
    success = bool(result.success)
    examples: list[dict] = []
    if config.type == UNEXPECTED_ROWS_TYPE:
        count = int(body.get("observed_value") or 0)
        examples = [dict(r) for r in (body.get("details") or {}).get("unexpected_rows") or []][:example_rows]
    elif "unexpected_count" in body:
        count = int(body.get("unexpected_count") or 0)
        if body.get("partial_unexpected_index_list"):
            examples = [dict(r) for r in body["partial_unexpected_index_list"]]
        elif column is not None:
            examples = [{column: v} for v in body.get("partial_unexpected_list") or []]
    else:  # table-level rule (column set, row count, ...): one problem per mismatched item, else one
        mismatched = (body.get("details") or {}).get("mismatched") or {}
        examples = [{"problem": kind, "column": c} for kind, cols in mismatched.items() for c in cols or []]
        count = 0 if success else max(len(examples), 1)
        if not success and config.type == "expect_table_row_count_to_be_between" and not body.get("observed_value"):
            message = f"{rule}: it has none (a header alone, or blank rows only)"
            return ExpectationOutcome(rule, column, blocking, success, 1, [{"data_rows": 0}], message)
        if not success and not examples:
            if "observed_value" in body:
                examples = [{"observed_value": body["observed_value"]}]
            elif config.type == "expect_column_to_exist":
                examples = [{"problem": "missing", "column": column}]
    return ExpectationOutcome(rule, column, blocking, success, count, examples[:example_rows], "")


def _fill_missing_examples(engine: Any, query: str, outcomes, configs, example_rows: int) -> None:
    """Fetch examples for row rules where GX returned fewer than wanted (it stops at MAX_RESULT_RECORDS), on the
    session's own connection (`engine`: GX's execution engine)."""
    wanted = [
        (outcome, config)
        for outcome, config in zip(outcomes, configs, strict=True)
        if config.type == UNEXPECTED_ROWS_TYPE
        and outcome.error is None
        and len(outcome.examples) < min(example_rows, outcome.unexpected_count)
    ]
    for outcome, config in wanted:
        rows_query = config.kwargs["unexpected_rows_query"].format(batch=f"({query}) AS subselect")
        cursor = engine.execute_query(sa.text(f"SELECT * FROM ({rows_query}) AS offending LIMIT {int(example_rows)}"))
        names = list(cursor.keys())
        outcome.examples = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        cursor.close()


def _on(column: str | None) -> str:
    return f" (column {column})" if column else ""


def _message(outcome: ExpectationOutcome, unit: str) -> str:
    head = f"{outcome.rule}{_on(outcome.column)}"
    if outcome.success:
        return f"{head}: ok" + (f" ({outcome.unexpected_count} {unit}s tolerated)" if outcome.unexpected_count else "")
    shown = _examples_text(outcome.examples, outcome.column)
    noun = unit if outcome.unexpected_count == 1 else f"{unit}s"
    return f"{head}: {outcome.unexpected_count} {noun}" + (f", e.g. {shown}" if shown else "")


def _examples_text(examples: list[dict], column: str | None, shown: int = 5) -> str:
    """Up to `shown` example rows in file order (by row number; GX returns them in no order), each told once (a
    mapped export's row that became several rows, one per month, is one example)."""
    ordered = sorted(examples, key=lambda row: (row.get(ROW_NUMBER_COLUMN) is None, row.get(ROW_NUMBER_COLUMN) or 0))
    return ", ".join(list(dict.fromkeys(_describe(row, column) for row in ordered))[:shown])


def _describe(row: dict, column: str | None) -> str:
    where = f"row {row[ROW_NUMBER_COLUMN]} " if ROW_NUMBER_COLUMN in row else ""
    if column is not None and column in row:
        return f"{where}value {_show(row[column])}"
    rest = ", ".join(f"{k}={_show(v)}" for k, v in row.items() if k != ROW_NUMBER_COLUMN)
    return f"{where}{{{rest}}}".strip()


def _show(value: Any) -> str:
    return "NULL" if value is None else repr(value if isinstance(value, str) else str(value))
