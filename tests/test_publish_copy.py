"""Publishing starts from a file copy of the build database: the published warehouse holds exactly the build's
published tables (compared row by row, repeats counted), including what dbt left in the write-ahead log, and
nothing else of the build (staging, intermediate, the lake's views, dbt's own schemas, views)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.warehouse import publish


def _build(path: Path) -> None:
    """A build database as dbt leaves it: published tables (with repeated rows and nulls), a large staging table,
    views over both, dbt's test schema, and the last rows still in the write-ahead log."""
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "reference", "staging", "intermediate", "lake", "dbt_test__audit"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            "CREATE TABLE marts.facts AS SELECT 'c:' || (i % 900) AS cost_id, CAST(i * 1.25 AS DECIMAL(18, 2)) AS "
            "amount, CASE WHEN i % 5 = 0 THEN NULL ELSE 'v' || i END AS vendor FROM range(1000) AS r(i)"
        )
        con.execute("CREATE TABLE reference.codes AS SELECT 'A' AS code UNION ALL SELECT 'B'")
        con.execute("CREATE TABLE staging.ledger AS SELECT i AS txn FROM range(100000) AS r(i)")
        con.execute("CREATE TABLE dbt_test__audit.failures AS SELECT 1 AS n")
        con.execute("CREATE TABLE main.leftover AS SELECT 1 AS n")
        con.execute("CREATE VIEW intermediate.ledger_view AS SELECT * FROM staging.ledger")
        con.execute("CREATE VIEW lake.gl AS SELECT 1 AS n")
        con.execute("CREATE VIEW marts.facts_view AS SELECT * FROM marts.facts")
        con.execute("CHECKPOINT")
    with duckdb.connect(str(path)) as con:
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
        con.execute("SET checkpoint_threshold = '1GB'")
        con.execute("INSERT INTO marts.facts VALUES ('c:wal', 9.99, NULL), ('c:wal', 9.99, NULL)")
        con.execute("DELETE FROM marts.facts WHERE cost_id = 'c:1'")
    assert path.with_name(path.name + ".wal").exists()  # the last rows are in the log, not the file


def test_the_published_file_holds_the_builds_published_tables_and_nothing_else(tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    _build(build)
    layout = WarehouseLayout(tmp_path / "warehouse")
    publication = publish(layout, "run", "2025-03-15", build_db=build)
    assert publication.tables == 2 and publication.exports_written == 1
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        con.execute(f"ATTACH '{build}' AS build (READ_ONLY)")
        for table in ("marts.facts", "reference.codes"):
            for one, other in ((table, f"build.{table}"), (f"build.{table}", table)):
                assert con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})").fetchone() == (0,)
        # by hand: 1000 rows, 2 of them 'c:1' deleted (i = 1 and 901), 2 added from the log
        counted = con.execute("SELECT count(*), count(*) FILTER (cost_id = 'c:wal') FROM marts.facts")
        assert counted.fetchone() == (1000, 2)
        catalog = "database_name = 'studio' AND NOT internal"
        schemas = con.execute(f"SELECT list(schema_name ORDER BY 1) FROM duckdb_schemas() WHERE {catalog}")
        assert schemas.fetchone()[0] == ["audit", "marts", "reference"]
        assert con.execute(f"SELECT count(*) FROM duckdb_views() WHERE {catalog}").fetchone() == (0,)
        in_main = con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE {catalog} AND schema_name = 'main'")
        assert in_main.fetchone() == (0,)
    exported = layout.root / "exports" / "facts.parquet"
    with duckdb.connect() as con:
        assert con.execute(f"SELECT count(*) FROM read_parquet('{exported}')").fetchone() == (1000,)
