"""The GX-on-DuckDB shim (orchestration/gx_duckdb.py) against real DuckDB files, no mocks.

These tests are the alarm for a great-expectations upgrade: each one names what to fix when it fails.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import great_expectations as gx
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine

from orchestration.lib.gate import gx_duckdb
from orchestration.lib.gate.gx_duckdb import ExpectationOutcome, gx_session, load_suite, validate_table

E = gx.expectations
QUERY = "SELECT * FROM landed"

# _row_number, period, amount, category -- all VARCHAR except the row number, as landed from a sheet.
LANDED = [
    (1, "2024-01", "100.00", "labour"),
    (2, "2024-13", "50", "labour"),  # month 13
    (3, "2024-02", "abc", "materials"),  # amount not a number
    (4, None, "20.5", "materials"),  # period missing
    (5, "2024-03", None, "travel"),  # amount missing (not a cast failure)
    (6, "24-03", "1,000", "misc"),  # short year, thousands separator, unknown category
    (7, "2024-04", "-12.3400", "travel"),
    (8, "2024-05", "7", "labour"),
]

# Periods are YYYY-MM. GX fills `{batch}` with str.format, so the regex quantifier's braces are doubled.
PERIOD_QUERY = "SELECT * FROM {batch} WHERE NOT regexp_full_match(period, '^[0-9]{{4}}-(0[1-9]|1[0-2])$')"
AMOUNT_QUERY = "SELECT * FROM {batch} WHERE TRY_CAST(amount AS DECIMAL(18,4)) IS NULL AND amount IS NOT NULL"


def make_landed(database: Path) -> Path:
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE landed (_row_number BIGINT, period VARCHAR, amount VARCHAR, category VARCHAR)")
        con.executemany("INSERT INTO landed VALUES (?, ?, ?, ?)", LANDED)
    return database


def landed_suite() -> gx.ExpectationSuite:
    # Built with the constructor: suite.add_expectation() needs an active GX data context.
    return gx.ExpectationSuite(
        name="landed_checks",
        meta={"owner": "finance"},
        expectations=[
            E.ExpectColumnValuesToNotBeNull(column="period", meta={"rule": "period is filled in"}),
            E.ExpectColumnValuesToBeInSet(
                column="category",
                value_set=["labour", "materials", "travel"],
                meta={"rule": "category is a known cost category", "blocking": False},
            ),
            E.ExpectColumnValuesToBeUnique(column="_row_number", meta={"rule": "row numbers are unique"}),
            E.ExpectColumnValuesToBeUnique(column="category"),
            E.ExpectTableColumnsToMatchSet(
                column_set=["_row_number", "period", "amount", "category"],
                exact_match=True,
                meta={"rule": "sheet has the agreed columns"},
            ),
            E.ExpectColumnToExist(column="cost_centre", meta={"rule": "cost centre column", "blocking": False}),
            E.UnexpectedRowsExpectation(
                unexpected_rows_query=PERIOD_QUERY, meta={"rule": "period is YYYY-MM", "column": "period"}
            ),
            E.UnexpectedRowsExpectation(
                unexpected_rows_query=AMOUNT_QUERY, meta={"rule": "amount is a number", "column": "amount"}
            ),
        ],
    )


def row_numbers(outcome: ExpectationOutcome) -> list[int]:
    return [example["_row_number"] for example in outcome.examples]


def assert_writable(database: Path) -> None:
    with duckdb.connect(str(database)) as con:  # read-write: fails if anything still holds the file
        con.execute("CREATE OR REPLACE TABLE written_after_validation AS SELECT 1 AS x")
        assert con.execute("SELECT x FROM written_after_validation").fetchone() == (1,)


@pytest.fixture
def landed_db(tmp_path: Path) -> Path:
    return make_landed(tmp_path / "landed.duckdb")


def test_shim_is_installed_where_gx_looks() -> None:
    where = "great_expectations/execution_engine/sqlalchemy_execution_engine.py"
    dialects = getattr(sqlalchemy_execution_engine, gx_duckdb.PERSISTED_DIALECTS_ATTRIBUTE, None)
    assert dialects is not None, (
        f"GX {gx.__version__} moved {gx_duckdb.PERSISTED_DIALECTS_ATTRIBUTE} out of {where}: find where GX now "
        "decides which dialects keep one persisted connection and update install_duckdb_shim() in "
        "orchestration/gx_duckdb.py"
    )
    assert "duckdb" in dialects, (
        f"'duckdb' is not in {where}:{gx_duckdb.PERSISTED_DIALECTS_ATTRIBUTE} after importing "
        "orchestration.lib.gate.gx_duckdb; without it GX reads query results after the connection is gone. "
        "Fix install_duckdb_shim()."
    )
    # The function GX uses when it builds the engine (it reads `.value` of each entry) must agree.
    assert sqlalchemy_execution_engine._dialect_requires_persisted_connection(
        connection_string="duckdb:///somewhere.duckdb"
    ), f"GX no longer treats duckdb:/// as a persisted-connection dialect via {where}; fix install_duckdb_shim()"
    gx_duckdb.install_duckdb_shim()
    gx_duckdb.install_duckdb_shim()  # idempotent: still one entry
    after = getattr(sqlalchemy_execution_engine, gx_duckdb.PERSISTED_DIALECTS_ATTRIBUTE)
    assert [d for d in after if d == "duckdb"] == ["duckdb"]


LEAN_IMPORT_PROBE = """
import json, sys
import orchestration.refresh  # what `studio-budget run` imports: every asset, the gate, GX
loaded = {name: name in sys.modules for name in ("great_expectations", "scipy.stats", "altair", "pyspark")}
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
entropy = kl.stats.entropy([0.5, 0.5], [0.9, 0.1])  # through the module GX imported scipy.stats into
import pyspark.sql
print(json.dumps({"loaded": loaded, "entropy": float(entropy), "spark": pyspark.sql.SparkSession.__name__}))
"""


def test_gx_is_imported_without_what_the_gate_never_calls() -> None:
    """orchestration/gx_import.py: the pipeline's imports load GX but not scipy.stats, altair or pyspark; what GX
    imported of scipy.stats still works when read; pyspark imports afterwards. A GX upgrade that reads these
    libraries while it is imported, or imports them another way, fails here (the run would only be slower)."""
    done = subprocess.run([sys.executable, "-c", LEAN_IMPORT_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["loaded"] == {"great_expectations": True, "scipy.stats": False, "altair": False, "pyspark": False}, (
        "importing the pipeline loaded a library GX no longer needs to load (see orchestration/gx_import.py): "
        f"{probe['loaded']}"
    )
    # Kullback-Leibler divergence of (0.5, 0.5) from (0.9, 0.1), by hand: 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1)
    assert probe["entropy"] == pytest.approx(0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1))
    assert probe["spark"] == "SparkSession"


def test_suite_outcomes_on_hand_made_table(landed_db: Path, tmp_path: Path) -> None:
    suite_file = tmp_path / "landed_checks.json"
    suite_file.write_text(json.dumps(landed_suite().to_json_dict(), indent=2))
    outcomes = validate_table(landed_db, QUERY, load_suite(suite_file))
    assert len(outcomes) == 8
    (not_null, in_set, unique_rows, unique_category, columns, cost_centre, period, amount) = outcomes

    # period NULL only on row 4.
    assert (not_null.success, not_null.unexpected_count, row_numbers(not_null)) == (False, 1, [4])
    assert not_null.examples == [{"_row_number": 4, "period": None}]
    assert (not_null.rule, not_null.column, not_null.blocking) == ("period is filled in", "period", True)
    assert not_null.message == "period is filled in (column period): 1 offending row, e.g. row 4 value NULL"

    # 'misc' (row 6) is the only category outside the set; the rule is non-blocking.
    assert (in_set.success, in_set.unexpected_count, row_numbers(in_set)) == (False, 1, [6])
    assert in_set.blocking is False
    assert "row 6 value 'misc'" in in_set.message

    # _row_number 1..8 is unique.
    assert (unique_rows.success, unique_rows.unexpected_count, unique_rows.examples) == (True, 0, [])
    assert unique_rows.message == "row numbers are unique (column _row_number): ok"

    # category: labour (1, 2, 8), materials (3, 4), travel (5, 7) repeat -> 7 rows; misc (6) is alone.
    assert (unique_category.success, unique_category.unexpected_count) == (False, 7)
    assert sorted(row_numbers(unique_category)) == [1, 2, 3, 4, 5, 7, 8]
    assert unique_category.rule == "expect_column_values_to_be_unique"  # no meta["rule"]: falls back to the type

    assert (columns.success, columns.unexpected_count, columns.column) == (True, 0, None)
    assert (cost_centre.success, cost_centre.unexpected_count, cost_centre.blocking) == (False, 1, False)
    assert cost_centre.examples == [{"problem": "missing", "column": "cost_centre"}]

    # Not YYYY-MM: '2024-13' (row 2), '24-03' (row 6). Row 4's NULL period gives NULL, not true: not_null's job.
    assert (period.success, period.unexpected_count, row_numbers(period)) == (False, 2, [2, 6])
    assert period.examples[0] == {"_row_number": 2, "period": "2024-13", "amount": "50", "category": "labour"}
    assert period.message == (
        "period is YYYY-MM (column period): 2 offending rows, e.g. row 2 value '2024-13', row 6 value '24-03'"
    )

    # Not a number: 'abc' (row 3), '1,000' (row 6). Row 5's NULL is excluded; '-12.3400' and '20.5' cast fine.
    assert (amount.success, amount.unexpected_count, row_numbers(amount)) == (False, 2, [3, 6])
    assert [e["amount"] for e in amount.examples] == ["abc", "1,000"]
    assert all(o.error is None for o in outcomes)

    assert_writable(landed_db)


def test_rule_that_cannot_run_is_reported_not_passed(landed_db: Path) -> None:
    # An undoubled regex quantifier: GX's str.format sees `{4}` as a placeholder.
    suite = gx.ExpectationSuite(
        name="broken",
        expectations=[
            E.UnexpectedRowsExpectation(
                unexpected_rows_query="SELECT * FROM {batch} WHERE NOT regexp_full_match(period, '^[0-9]{4}$')",
                meta={"rule": "period is a year"},
            )
        ],
    )
    (outcome,) = validate_table(landed_db, QUERY, suite)
    assert outcome.success is False
    assert outcome.error and "brace" in outcome.error
    assert outcome.message.startswith("period is a year: could not be checked:")
    assert_writable(landed_db)


def test_file_is_free_after_each_validation(landed_db: Path) -> None:
    suite = landed_suite()
    first = validate_table(landed_db, QUERY, suite)
    assert_writable(landed_db)
    second = validate_table(landed_db, QUERY, suite)  # straight after, no GC in between
    assert [o.unexpected_count for o in second] == [o.unexpected_count for o in first]
    assert_writable(landed_db)

    # Another process takes the write lock: the lock a leaked connection would hold is per process.
    writer = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('INSERT INTO landed VALUES (9, \\'2024-06\\', \\'1\\', \\'labour\\')')\n"
        "con.close()\n"
    )
    validate_table(landed_db, QUERY, suite)
    done = subprocess.run([sys.executable, "-c", writer, str(landed_db)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    with duckdb.connect(str(landed_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM landed").fetchone() == (9,)


def test_a_session_validates_twice_as_two_sessions_would_and_frees_the_file(landed_db: Path) -> None:
    """The gate's two validations of a load (its table, then its offending rows) share one session: the outcomes
    and GX's results are those of a session each, and the file is free when it ends."""
    amount_rows = "SELECT * FROM landed WHERE TRY_CAST(amount AS DECIMAL(18,4)) IS NULL AND amount IS NOT NULL"
    alone: list = []
    expected = [
        validate_table(landed_db, QUERY, landed_suite(), collect=alone),
        validate_table(landed_db, amount_rows, period_suite(), collect=alone),
    ]
    shared: list = []
    with gx_session(landed_db) as session:
        found = [
            session.validate(QUERY, landed_suite(), collect=shared),
            session.validate(amount_rows, period_suite(), collect=shared),
        ]
    assert found == expected
    # the second query holds rows 3 and 6 (amounts that are not numbers), of which row 6's period is not YYYY-MM
    assert [row_numbers(o) for o in found[1]] == [[6]]

    def results(collected: list) -> list:
        return [(r.success, [(e.expectation_config.type, e.success) for e in r.results]) for r in collected]

    # the first query: its column rules, then its row rules; the second: its row rules
    assert results(shared) == results(alone) and len(shared) == 3
    assert_writable(landed_db)


def test_a_session_that_fails_frees_the_file(landed_db: Path) -> None:
    with pytest.raises(Exception, match="no_such_table"), gx_session(landed_db) as session:
        session.validate(QUERY, landed_suite())
        session.validate("SELECT * FROM no_such_table", landed_suite())
    assert_writable(landed_db)


def test_suite_json_round_trip(tmp_path: Path) -> None:
    suite = landed_suite()
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite.to_json_dict(), indent=2))
    loaded = load_suite(path)
    assert loaded == suite
    assert loaded.name == "landed_checks"
    assert loaded.meta["owner"] == "finance"
    assert [e.configuration.to_json_dict() for e in loaded.expectations] == [
        e.configuration.to_json_dict() for e in suite.expectations
    ]
    assert [e.meta or {} for e in loaded.expectations] == [e.meta or {} for e in suite.expectations]  # None -> {}
    assert loaded.expectations[6].unexpected_rows_query == PERIOD_QUERY
    assert loaded.expectations[1].meta == {"rule": "category is a known cost category", "blocking": False}


def test_load_suite_refuses_to_drop_expectations(tmp_path: Path) -> None:
    # GX's ExpectationSuite(...) only logs an expectation it cannot build and leaves it out.
    raw = landed_suite().to_json_dict()
    raw["expectations"].append({"type": "expect_column_values_to_be_spelt_right", "kwargs": {"column": "period"}})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="expect_column_values_to_be_spelt_right"):
        load_suite(path)


@pytest.fixture(scope="module")
def many_bad_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("many") / "many.duckdb"
    with duckdb.connect(str(database)) as con:
        # 300,000 rows; every row whose number is not a multiple of 6 is bad -> 250,000 bad.
        con.execute(
            "CREATE TABLE landed AS SELECT range AS _row_number, "
            "CASE WHEN range % 6 = 0 THEN '2024-01' ELSE 'bad' END AS period FROM range(300000)"
        )
    return database


def period_suite() -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name="periods",
        expectations=[E.UnexpectedRowsExpectation(unexpected_rows_query=PERIOD_QUERY, meta={"column": "period"})],
    )


def test_count_is_true_count_and_examples_are_few(many_bad_db: Path) -> None:
    (outcome,) = validate_table(many_bad_db, QUERY, period_suite())
    assert outcome.unexpected_count == 250_000
    assert 0 < len(outcome.examples) <= 20
    assert all(e["_row_number"] % 6 != 0 and e["period"] == "bad" for e in outcome.examples)
    assert outcome.message.startswith("unexpected_rows_expectation (column period): 250000 offending rows, e.g. row ")
    assert_writable(many_bad_db)


def test_more_examples_than_gx_fetches(many_bad_db: Path) -> None:
    # GX fetches at most MAX_RESULT_RECORDS (200) rows; the rest come from a short read-only query.
    (outcome,) = validate_table(many_bad_db, QUERY, period_suite(), example_rows=250)
    assert outcome.unexpected_count == 250_000
    assert len(outcome.examples) == 250
    assert all(e["_row_number"] % 6 != 0 for e in outcome.examples)
    assert_writable(many_bad_db)


def test_bad_query_raises_and_frees_the_file(landed_db: Path) -> None:
    with pytest.raises(Exception, match="no_such_table"):
        validate_table(landed_db, "SELECT * FROM no_such_table", landed_suite())
    assert_writable(landed_db)


def test_the_memory_limit_reaches_gxs_connection(landed_db: Path) -> None:
    # GX's connection reads its own setting: a row is unexpected unless the limit is the one given
    def suite(expected: str) -> gx.ExpectationSuite:
        return gx.ExpectationSuite(
            name="memory",
            expectations=[
                E.UnexpectedRowsExpectation(
                    unexpected_rows_query=(
                        f"SELECT * FROM {{batch}} WHERE current_setting('memory_limit') <> '{expected}'"
                    ),
                    meta={"rule": "memory limit"},
                )
            ],
        )

    (given,) = validate_table(landed_db, QUERY, suite("300.0 MiB"), memory_limit="300MiB")
    assert given.success is True
    (unbounded,) = validate_table(landed_db, QUERY, suite("300.0 MiB"))  # DuckDB's default: not 300 MiB
    assert unbounded.success is False
    assert_writable(landed_db)


def test_examples_are_told_in_file_order_and_once() -> None:
    """GX returns offending rows in no order, and a mapped export's row becomes one row per month: the message
    lists them by row number, each once, five at most (worked out by hand from the rows below)."""
    from orchestration.lib.gate.gx_duckdb import ExpectationOutcome, _message

    examples = [
        {"_row_number": 9, "project_code": "POD-2604"},
        {"_row_number": 4, "project_code": "abc"},
        {"_row_number": 6, "project_code": "POD-2604"},
        {"_row_number": 6, "project_code": "POD-2604"},
        {"_row_number": 3, "project_code": "$1,234"},
        {"_row_number": 12, "project_code": "x"},
        {"_row_number": 10, "project_code": "y"},
    ]
    outcome = ExpectationOutcome("project_code exists in projects", "project_code", True, False, 7, examples, "")
    assert _message(outcome, "offending row") == (
        "project_code exists in projects (column project_code): 7 offending rows, e.g. row 3 value '$1,234', "
        "row 4 value 'abc', row 6 value 'POD-2604', row 9 value 'POD-2604', row 10 value 'y'"
    )
