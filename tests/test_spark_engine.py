"""The same models on Apache Spark (README "Scaling out", issue 14): the bundled sample studio's lake built by
`studio-budget run --engine spark` publishes what the DuckDB build of the same lake published (the shared
`sample_run`), every mart and reference table row by row: decimals exactly (value and scale), doubles to 1e-9
relative, dates, timestamps and text equal; the same Parquet exports and the same printed report (but for the
day its alerts were raised, by the wall clock of each run).

Slow (one whole refresh on a local PySpark session, a few minutes); CI runs it. Needs Java 17 or later.
"""

from __future__ import annotations

import math
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CliRun, copy_warehouse, query, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="module")
def spark_run(tmp_path_factory: pytest.TempPathFactory, sample_run: CliRun) -> CliRun:
    """The sample's lake as the DuckDB run loaded it (the same load ids and load times), built and published by
    Spark: a copy of that warehouse without its publication, then `studio-budget run --engine spark`."""
    if shutil.which("java") is None:
        pytest.fail("the Spark engine needs Java 17 or later on PATH (.ci/run installs it)")
    warehouse = tmp_path_factory.mktemp("spark") / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    (warehouse / "studio.duckdb").unlink()
    (warehouse / "exports").unlink()
    shutil.rmtree(warehouse / "_internal" / "exports")
    done = run_cli("run", "--warehouse", str(warehouse), "--engine", "spark", timeout=2400)
    return CliRun(sample_run.landing, warehouse, sample_run.as_of, done.returncode, done.stdout, done.stderr)


def tables(database: Path, schema: str) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name", [schema]
        ).fetchall()
    return [name for (name,) in found]


def relation_content(relation: str, database: Path | None = None) -> tuple[list[tuple[str, str]], list[tuple]]:
    """A relation's columns (name, type) and its rows, sorted by every column but its doubles, then by those."""
    with duckdb.connect(str(database) if database else ":memory:", read_only=database is not None) as con:
        cursor = con.execute(f"SELECT * FROM {relation}")
        names = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        found = cursor.fetchall()
    doubles = [i for i, kind in enumerate(types) if kind in ("DOUBLE", "FLOAT")]
    others = [i for i in range(len(names)) if i not in doubles]

    def order(row: tuple) -> tuple:
        exact = tuple((row[i] is None, str(row[i])) for i in others)
        return exact + tuple((row[i] is None, round(row[i], 6) if row[i] is not None else 0.0) for i in doubles)

    return list(zip(names, types, strict=True)), sorted(found, key=order)


def same_value(duck: object, spark: object) -> bool:
    """Equal, doubles within 1e-9 relative (a difference in the last bits of a ratio); decimals exactly."""
    if isinstance(duck, float) and isinstance(spark, float):
        return math.isclose(duck, spark, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(duck) and math.isnan(spark))
    if isinstance(duck, Decimal) or isinstance(spark, Decimal):
        return type(duck) is type(spark) and duck == spark and duck.as_tuple().exponent == spark.as_tuple().exponent
    return duck == spark


def differences(name: str, duck: tuple, spark: tuple) -> list[str]:
    duck_columns, duck_rows = duck
    spark_columns, spark_rows = spark
    if duck_columns != spark_columns:
        return [f"{name}: columns differ: duckdb {duck_columns} / spark {spark_columns}"]
    if len(duck_rows) != len(spark_rows):
        return [f"{name}: {len(duck_rows)} rows on duckdb, {len(spark_rows)} on spark"]
    found = []
    for duck_row, spark_row in zip(duck_rows, spark_rows, strict=True):
        for (column, _), a, b in zip(duck_columns, duck_row, spark_row, strict=True):
            if not same_value(a, b):
                found.append(f"{name}.{column}: duckdb {a!r} / spark {b!r} (row {duck_row[:3]}...)")
    return found[:20]


def test_the_spark_run_publishes_like_the_duckdb_run(spark_run: CliRun, sample_run: CliRun) -> None:
    assert spark_run.exit_code == sample_run.exit_code == 0, spark_run.stderr[-3000:]
    assert "0 new files; 21 already loaded" in spark_run.stderr  # the DuckDB run's loads, nothing new
    # published from Spark's tables: one publication, staged from the Spark build
    assert query(spark_run.warehouse / "studio.duckdb", "SELECT count(*) FROM audit.publications") == [(1,)]
    assert (spark_run.warehouse / "_internal" / "spark" / "build_from_spark.duckdb").is_file()
    assert "not refreshed" not in spark_run.stderr  # the documentation sites too (dbt docs of the staged tables)
    assert (spark_run.warehouse / "docs" / "index.html").is_file()
    # the marts stay as tables in Spark's own catalog (here the warehouse's local one)
    spark_marts = {p.name for p in (spark_run.warehouse / "_internal" / "spark" / "warehouse" / "marts.db").iterdir()}
    assert set(tables(sample_run.warehouse / "studio.duckdb", "marts")) <= spark_marts


@pytest.mark.parametrize("schema", ["marts", "reference"])
def test_every_table_matches_the_duckdb_build_row_by_row(spark_run: CliRun, sample_run: CliRun, schema: str) -> None:
    duck_db, spark_db = sample_run.warehouse / "studio.duckdb", spark_run.warehouse / "studio.duckdb"
    names = tables(duck_db, schema)
    assert names and tables(spark_db, schema) == names
    found = []
    for name in names:
        relation = f'{schema}."{name}"'
        found += differences(name, relation_content(relation, duck_db), relation_content(relation, spark_db))
    assert not found, "\n".join(found)


def test_every_export_matches_the_duckdb_export(spark_run: CliRun, sample_run: CliRun) -> None:
    duck_files = sorted(p.name for p in (sample_run.warehouse / "exports").glob("*.parquet"))
    assert duck_files and sorted(p.name for p in (spark_run.warehouse / "exports").glob("*.parquet")) == duck_files
    found = []
    for name in duck_files:
        duck = relation_content(f"read_parquet('{sample_run.warehouse / 'exports' / name}')")
        spark = relation_content(f"read_parquet('{spark_run.warehouse / 'exports' / name}')")
        found += differences(name, duck, spark)
    assert not found, "\n".join(found)


RAISED = re.compile(r"^( (?:critical|warning|info) .*  )(\d{4}-\d{2}-\d{2})( *)$", re.MULTILINE)
PUBLISHED_DAYS = "SELECT DISTINCT published_at::DATE::VARCHAR FROM audit.publications"


def without_raised_days(report: str, run: CliRun) -> str:
    """The text report with its alerts' Raised column masked: the day the run that raised them ran, by the wall
    clock (the Spark run raises its alerts anew, minutes after the DuckDB run, maybe past midnight). An alert is
    raised by a publication, at its time: the masked days must be days the warehouse published on."""
    published = {day for (day,) in query(run.warehouse / "studio.duckdb", PUBLISHED_DAYS)}
    shown = {match.group(2) for match in RAISED.finditer(report)}
    assert shown and shown <= published, (shown, published)
    return RAISED.sub(r"\1<raised>\3", report)


def test_the_report_reads_the_same(spark_run: CliRun, sample_run: CliRun) -> None:
    # the report `run` prints
    assert without_raised_days(spark_run.stdout, spark_run) == without_raised_days(sample_run.stdout, sample_run)
    for output in ("text", "csv"):
        duck = run_cli("report", "--warehouse", str(sample_run.warehouse), "--format", output)
        spark = run_cli("report", "--warehouse", str(spark_run.warehouse), "--format", output)
        assert duck.returncode == spark.returncode == 0, spark.stderr
        if output == "text":
            assert without_raised_days(spark.stdout, spark_run) == without_raised_days(duck.stdout, sample_run)
        else:  # the CSV has no Raised column
            assert spark.stdout == duck.stdout
