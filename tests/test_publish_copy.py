"""Publishing starts from a file copy of the build database: the published warehouse holds exactly the build's
published tables (compared row by row, repeats counted), including what dbt left in the write-ahead log, and
nothing else of the build (staging, intermediate, the lake's views, dbt's own schemas, views)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

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


def test_an_export_is_written_again_exactly_when_its_mart_changed(tmp_path: Path) -> None:
    """Publications in turn of one build database: a mart's export is kept (the same file) while its content is
    unchanged, and written whenever it changed, whether its row count moved (then its rows are not hashed) or
    one value did."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.facts AS SELECT i AS n, CAST(i AS DECIMAL(18, 2)) AS amount FROM range(500) r(i)"
        )
        con.execute("CREATE TABLE marts.totals AS SELECT 1 AS k, CAST(124750 AS DECIMAL(18, 2)) AS amount")
    layout = WarehouseLayout(tmp_path / "warehouse")

    def publish_after(change: str | None) -> tuple[int, int, int, int]:
        if change:
            with duckdb.connect(str(build)) as con:
                con.execute(change)
        inodes = {p.name: p.stat().st_ino for p in (layout.root / "exports").glob("*.parquet")}
        done = publish(layout, "run", "2025-03-15", build_db=build)
        exports = layout.root / "exports"
        kept = sum(p.stat().st_ino == inodes.get(p.name) for p in exports.glob("*.parquet"))
        with duckdb.connect() as con:
            rows = con.execute(f"SELECT count(*) FROM read_parquet('{exports / 'facts.parquet'}')").fetchone()[0]
        return done.exports_written, done.exports_reused, kept, rows

    assert publish_after(None) == (2, 0, 0, 500)  # the first publication writes every mart
    assert publish_after(None) == (0, 2, 2, 500)  # nothing changed: both files kept
    # 3 rows appended: the count moved, so facts is written (its rows not hashed); totals kept
    assert publish_after("INSERT INTO marts.facts VALUES (500, 1), (501, 1), (502, 1)") == (1, 1, 1, 503)
    # unchanged again, but the last fingerprint of facts has no hash to compare with: written once more ...
    assert publish_after(None) == (1, 1, 1, 503)
    # ... and from then on kept
    assert publish_after(None) == (0, 2, 2, 503)
    # one value changed, the row count not: the hashes differ
    assert publish_after("UPDATE marts.facts SET amount = amount + 0.01 WHERE n = 7") == (1, 1, 1, 503)
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        fingerprints = dict(con.execute("SELECT table_name, fingerprint FROM audit.mart_fingerprints").fetchall())
    assert fingerprints["facts"].startswith("n BIGINT, amount DECIMAL(18,2) | 503 | ")


def test_a_partitioned_export_writes_only_the_periods_whose_rows_changed(tmp_path: Path) -> None:
    """A mart exported by period is a folder of one file per period (and one for rows without a period) that
    DuckDB, pandas and polars read by the mart's path; a publication writes again only the files of the periods
    whose rows changed, and keeps the others."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        # 12 rows: i % 4 = 0, 1, 2 → January, February, March 2025 (3 rows each), 3 → no period
        con.execute(
            "CREATE TABLE marts.ledger AS SELECT i AS n, CASE WHEN i % 4 < 3 THEN make_date(2025, i % 4 + 1, 1) "
            "END AS period, CAST(i AS DECIMAL(18, 2)) AS amount FROM range(12) AS r(i)"
        )
        con.execute("CREATE TABLE marts.totals AS SELECT 66 AS n")
    layout = WarehouseLayout(tmp_path / "warehouse")
    folder = layout.root / "exports" / "ledger.parquet"

    def publish_after(change: str | None) -> tuple[int, int, set[str]]:
        if change:
            with duckdb.connect(str(build)) as con:
                con.execute(change)
        inodes = {p.name: p.stat().st_ino for p in folder.glob("*.parquet")} if folder.exists() else {}
        done = publish(layout, "run", "2025-03-15", build_db=build, partitioned={"ledger": "period"})
        with duckdb.connect(str(build), read_only=True) as con:
            for one, other in (
                ("marts.ledger", f"read_parquet('{folder}')"),
                (f"read_parquet('{folder}')", "marts.ledger"),
            ):
                assert con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})").fetchone() == (0,)
        rewritten = {p.name for p in folder.glob("*.parquet") if p.stat().st_ino != inodes.get(p.name)}
        return done.exports_written, done.exports_reused, rewritten

    files = {"2025-01-01.parquet", "2025-02-01.parquet", "2025-03-01.parquet", "null.parquet"}
    assert publish_after(None) == (5, 0, files)  # 4 files of the ledger and the totals
    assert {p.name for p in folder.iterdir()} == files
    with duckdb.connect() as con:
        by_period = con.execute(f"SELECT period, count(*) FROM read_parquet('{folder}') GROUP BY 1 ORDER BY 1")
        assert [count for _, count in by_period.fetchall()] == [3, 3, 3, 3]
    assert pd.read_parquet(folder).shape == (12, 3) and pl.read_parquet(folder).shape == (12, 3)
    assert publish_after(None) == (0, 5, set())  # nothing changed: every file kept
    # a row added in March, an amount changed in January: those two files written, February's and null's kept
    change = (
        "INSERT INTO marts.ledger VALUES (12, DATE '2025-03-01', 12); UPDATE marts.ledger SET amount = 0 WHERE n = 4"
    )
    assert publish_after(change) == (2, 3, {"2025-01-01.parquet", "2025-03-01.parquet"})
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        recorded = con.execute(
            "SELECT export_file, fingerprint FROM audit.mart_fingerprints WHERE table_name = 'ledger' ORDER BY 1"
        ).fetchall()
    assert [name for name, _ in recorded] == sorted(f"ledger.parquet/{name}" for name in files)
    assert recorded[2][1].startswith("n BIGINT, period DATE, amount DECIMAL(18,2) | 4 | ")  # March: 3 rows + 1
    # every row gone: one file without rows keeps the columns for readers
    assert publish_after("DELETE FROM marts.ledger") == (1, 1, {"empty.parquet"})
    assert {p.name for p in folder.iterdir()} == {"empty.parquet"}
    with duckdb.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{folder}')").fetchall()
        assert [column[0] for column in described] == ["n", "period", "amount"]


def test_a_mart_is_exported_by_period_only_by_a_date_column(tmp_path: Path) -> None:
    """A text column could name a file `null`, `empty` or a hidden one: publishing refuses it, before anything
    readers see is replaced."""
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.ledger AS SELECT * FROM (VALUES ('empty', 1), ('_x', 2)) AS t(kind, n)")
    layout = WarehouseLayout(tmp_path / "warehouse")
    first = publish(layout, "run", "2025-03-15", build_db=build)
    with pytest.raises(ValueError, match=r"marts\.ledger is exported by kind, which must be a DATE column"):
        publish(layout, "run", "2025-03-16", build_db=build, partitioned={"ledger": "kind"})
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        assert con.execute("SELECT max(publication_id) FROM audit.publications").fetchone() == (first.publication_id,)
    assert (layout.root / "exports" / "ledger.parquet").is_file()


def test_an_append_only_mart_hashes_only_the_periods_its_builds_may_have_changed(tmp_path: Path) -> None:
    """A partitioned mart built incrementally (AppendOnly: posted rows kept, accrued rows replaced, new posted rows
    above the high-water marks) has only the periods of its accrued rows, then and now, and of its new posted rows
    hashed; the other periods' fingerprints are carried from the previous publication, and equal what hashing
    every row gives (the second method). A new full build (another token), or another rule, hashes every period."""
    from orchestration.lib.warehouse import AppendOnly, part_fingerprints

    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE SCHEMA lake")
        con.execute("CREATE TABLE lake.token AS SELECT 'full-1' AS build_token")
        # 3 periods x 4 posted rows of load L1, dated in their month; one accrued row in February
        con.execute(
            "CREATE TABLE marts.costs AS SELECT i AS n, make_date(2025, i % 3 + 1, 1) AS period, "
            "make_date(2025, i % 3 + 1, 10) AS cost_date, 'L1' AS load_id, 'posted' AS status, "
            "CAST(i AS DECIMAL(18, 2)) AS amount FROM range(12) AS r(i)"
        )
        con.execute("INSERT INTO marts.costs VALUES (100, DATE '2025-02-01', DATE '2025-02-20', 'L1', 'accrued', 5)")
    rule = {"costs": AppendOnly("lake.token", "status = 'posted'", ("load_id", "cost_date"))}
    layout = WarehouseLayout(tmp_path / "warehouse")
    folder = layout.root / "exports" / "costs.parquet"
    hashed: list[set[str]] = []

    def publish_after(change: str | None, rule: dict[str, AppendOnly] = rule) -> set[str]:
        """The files written again; `hashed` gains the periods whose rows were hashed."""
        if change:
            with duckdb.connect(str(build)) as con:
                con.execute(change)
        inodes = {p.name: p.stat().st_ino for p in folder.glob("*.parquet")} if folder.exists() else {}
        calls: list[str] = []
        original = duckdb.DuckDBPyConnection.execute

        def spy(self: duckdb.DuckDBPyConnection, query: object, *args: object) -> duckdb.DuckDBPyConnection:
            if isinstance(query, str) and "sum(hash(t))" in query:
                calls.append(query)
            return original(self, query, *args)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(duckdb.DuckDBPyConnection, "execute", spy)
            publish(layout, "run", "2025-03-15", build_db=build, partitioned={"costs": "period"}, append_only=rule)
        with duckdb.connect(str(layout.published_db), read_only=True) as con:
            # the fingerprints recorded, carried or hashed, equal those of every row hashed now
            recorded = dict(con.execute("SELECT export_file, fingerprint FROM audit.mart_fingerprints").fetchall())
            columns = con.execute(
                "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() "
                "WHERE schema_name = 'marts' AND table_name = 'costs'"
            ).fetchone()[0]
            assert recorded == part_fingerprints(con, "marts.costs", "costs", "period", "DATE", columns)
            assert con.execute(
                f"SELECT count(*) FROM (FROM marts.costs EXCEPT ALL FROM read_parquet('{folder}'))"
            ).fetchone() == (0,)
        months = {m for q in calls for m in ("2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01") if m in q}
        hashed.append(months if all(" WHERE " in q for q in calls) else {"every period"})
        return {p.name for p in folder.glob("*.parquet") if p.stat().st_ino != inodes.get(p.name)}

    every = {"2025-01-01.parquet", "2025-02-01.parquet", "2025-03-01.parquet"}
    assert publish_after(None) == every and hashed[-1] == {"every period"}  # no previous state
    # February: its accrued row, then and now (a part whose row count moved is hashed whatever the rule says)
    assert publish_after(None) == set() and hashed[-1] == {"2025-02-01"}
    # the accrued row released (deleted) and a posted row of a newer load added in March
    day = (
        "DELETE FROM marts.costs WHERE status = 'accrued'; "
        "INSERT INTO marts.costs VALUES (13, DATE '2025-03-01', DATE '2025-03-11', 'L2', 'posted', 7)"
    )
    assert publish_after(day) == {"2025-02-01.parquet", "2025-03-01.parquet"}
    assert hashed[-1] == {"2025-02-01", "2025-03-01"}  # February had an accrued row at the last publication
    # a late posting of an old load dated after every posted row so far (April) makes a new period
    late = "INSERT INTO marts.costs VALUES (14, DATE '2025-04-01', DATE '2025-04-02', 'L0', 'posted', 1)"
    assert publish_after(late) == {"2025-04-01.parquet"} and hashed[-1] == {"2025-04-01"}
    # a full build (a new token) that changed January's rows: every period hashed, January written again
    rebuilt = (
        "UPDATE marts.costs SET amount = amount + 1 WHERE period = DATE '2025-01-01'; "
        "UPDATE lake.token SET build_token = 'full-2'"
    )
    assert publish_after(rebuilt) == {"2025-01-01.parquet"} and hashed[-1] == {"every period"}
    assert publish_after(None) == set() and hashed[-1] == set()  # nothing accrued, nothing new: nothing hashed
    # the same token under another rule (here, a high-water list of one column): every period hashed
    other = {"costs": AppendOnly("lake.token", "status = 'posted'", ("load_id",))}
    assert publish_after(None, other) == set() and hashed[-1] == {"every period"}
