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


def test_an_append_only_mart_writes_only_the_rows_its_builds_appended(tmp_path: Path) -> None:
    """A partitioned mart built incrementally (AppendOnly: posted rows kept, accrued rows replaced, new posted rows
    above the high-water marks) is exported as each period's posted rows (`<period>.parquet`), then the rows
    appended to them, one file per publication that appended some (`<period>.<publication>.parquet`), and apart
    each period's accrued rows (`<period>.pending.parquet`). Followed through a dozen publications: each time the
    folder holds exactly the mart's rows (compared row by row both ways), each recorded fingerprint is that of its
    file's rows read back (the second method), and only the files named are new. A new full build (another
    token), another rule, or rows that break the rule write the periods whole."""
    from orchestration.lib.warehouse import MAX_APPENDED, AppendOnly

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
    # under a folder named as a partition is (`key=value`): a reader guessing partitions from the path adds a column
    # (read here with hive_partitioning = false); publishing reads no export file back
    layout = WarehouseLayout(tmp_path / "env=test" / "warehouse")
    folder = layout.root / "exports" / "costs.parquet"

    def shape(name: str) -> str:
        """A file's name with a publication's id in it as `+`: `2025-03-01.+.parquet`."""
        part, *kind = name.removesuffix(".parquet").split(".")
        return ".".join([part, *("+" if k not in ("", "pending") else k for k in kind), "parquet"])

    def publish_after(change: str | None, rule: dict[str, AppendOnly] = rule) -> set[str]:
        """The files written (new) by a publication after `change`, by shape."""
        if change:
            with duckdb.connect(str(build)) as con:
                con.execute(change)
        inodes = {p.name: p.stat().st_ino for p in folder.glob("*.parquet")} if folder.exists() else {}
        publish(layout, "run", "2025-03-15", build_db=build, partitioned={"costs": "period"}, append_only=rule)
        with duckdb.connect(str(layout.published_db), read_only=True) as con:
            for one, other in (
                ("marts.costs", f"read_parquet('{folder}', hive_partitioning = false)"),
                (f"read_parquet('{folder}', hive_partitioning = false)", "marts.costs"),
            ):
                assert con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})").fetchone() == (0,)
            recorded = dict(con.execute("SELECT export_file, fingerprint FROM audit.mart_fingerprints").fetchall())
            columns = con.execute(
                "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() "
                "WHERE schema_name = 'marts' AND table_name = 'costs'"
            ).fetchone()[0]
            assert set(recorded) == {f"costs.parquet/{p.name}" for p in folder.iterdir()}
            for path in folder.iterdir():
                rows, hashes = con.execute(
                    f"SELECT count(*), sum(hash(t)) FROM read_parquet('{path}', hive_partitioning = false) AS t"
                ).fetchone()
                fingerprint = f"{columns} | {rows} | {'' if hashes is None else hashes}"  # no rows: no sum
                assert recorded[f"costs.parquet/{path.name}"] == fingerprint, path.name
            # a period's posted rows are in its posted files, its accrued rows in its pending file
            for path in folder.iterdir():
                statuses = con.execute(
                    f"SELECT DISTINCT status FROM read_parquet('{path}', hive_partitioning = false)"
                ).fetchall()
                expected = (
                    [] if path.name == "empty.parquet" else [("accrued" if ".pending." in path.name else "posted",)]
                )
                assert statuses == expected, path.name
        return {shape(p.name) for p in folder.glob("*.parquet") if p.stat().st_ino != inodes.get(p.name)}

    def names() -> set[str]:
        return {shape(p.name) for p in folder.iterdir()}

    every = {"2025-01-01.parquet", "2025-02-01.parquet", "2025-03-01.parquet", "2025-02-01.pending.parquet"}
    assert publish_after(None) == every  # no previous state
    assert publish_after(None) == set()  # nothing changed: every file kept
    # the accrued row released (deleted) and a posted row of a newer load added in March: one file of that row
    day = (
        "DELETE FROM marts.costs WHERE status = 'accrued'; "
        "INSERT INTO marts.costs VALUES (13, DATE '2025-03-01', DATE '2025-03-11', 'L2', 'posted', 7)"
    )
    assert publish_after(day) == {"2025-03-01.+.parquet"}
    assert names() == {"2025-01-01.parquet", "2025-02-01.parquet", "2025-03-01.parquet", "2025-03-01.+.parquet"}
    # a late posting of an old load dated after every posted row so far (April) makes a new period; a posting of a
    # new load dated in January is appended to January; an accrual in March is March's pending file
    late = (
        "INSERT INTO marts.costs VALUES (14, DATE '2025-04-01', DATE '2025-04-02', 'L0', 'posted', 1), "
        "(15, DATE '2025-01-01', DATE '2025-01-05', 'L3', 'posted', 2), "
        "(16, DATE '2025-03-01', DATE '2025-03-31', 'L3', 'accrued', 3)"
    )
    assert publish_after(late) == {"2025-04-01.parquet", "2025-01-01.+.parquet", "2025-03-01.pending.parquet"}
    with duckdb.connect() as con:  # the appended file holds the one row appended to January
        assert con.execute(
            f"SELECT list(n) FROM read_parquet('{folder}/2025-01-01.2*.parquet', hive_partitioning = false)"
        ).fetchone() == ([15],)
    # the accrual changed: its file written again, the rest kept
    assert publish_after("UPDATE marts.costs SET amount = 4 WHERE n = 16") == {"2025-03-01.pending.parquet"}
    # March's appended files up to MAX_APPENDED, one a day; the next day's rows are written with all of March's
    # posted rows, as one file again
    for day in range(MAX_APPENDED - 1):
        insert = f"INSERT INTO marts.costs VALUES ({20 + day}, DATE '2025-03-01', DATE '2025-03-12', 'M{day}', "
        assert publish_after(insert + "'posted', 1)") == {"2025-03-01.+.parquet"}
    with duckdb.connect() as con:
        march = f"read_parquet('{folder}/2025-03-01.2*.parquet', hive_partitioning = false)"
        assert con.execute(f"SELECT count(*), count(DISTINCT filename) FROM {march}").fetchone() == (8, MAX_APPENDED)
    insert = "INSERT INTO marts.costs VALUES (40, DATE '2025-03-01', DATE '2025-03-13', 'N', 'posted', 1)"
    assert publish_after(insert) == {"2025-03-01.parquet"}
    march_files = sorted(p.name for p in folder.iterdir() if p.name.startswith("2025-03-01."))
    assert march_files == ["2025-03-01.parquet", "2025-03-01.pending.parquet"]
    with duckdb.connect() as con:  # its 4 first rows, load L2's, the seven days' and this day's
        first = f"read_parquet('{folder}/2025-03-01.parquet', hive_partitioning = false)"
        assert con.execute(f"SELECT count(*) FROM {first}").fetchone() == (4 + 1 + 7 + 1,)
    # and appended to again the day after
    again = "INSERT INTO marts.costs VALUES (43, DATE '2025-03-01', DATE '2025-03-14', 'O', 'posted', 1)"
    assert publish_after(again) == {"2025-03-01.+.parquet"}
    # a posted row that breaks the rule (below both high-water marks): the counts do not add up, February whole
    broken = "INSERT INTO marts.costs VALUES (41, DATE '2025-02-01', DATE '2025-02-01', 'L0', 'posted', 1)"
    assert publish_after(broken) == {"2025-02-01.parquet"}
    # a full build (a new token) that changed January's rows: every period hashed, January written again as one
    # file, and March, whose first file no longer holds its posted rows; February and April kept
    rebuilt = (
        "UPDATE marts.costs SET amount = amount + 1 WHERE period = DATE '2025-01-01'; "
        "UPDATE lake.token SET build_token = 'full-2'"
    )
    assert publish_after(rebuilt) == {"2025-01-01.parquet", "2025-03-01.parquet"}
    assert names() == {
        "2025-01-01.parquet",
        "2025-02-01.parquet",
        "2025-03-01.parquet",
        "2025-04-01.parquet",
        "2025-03-01.pending.parquet",
    }
    new_day = "INSERT INTO marts.costs VALUES (42, DATE '2025-04-01', DATE '2025-04-03', 'P', 'posted', 1)"
    assert publish_after(new_day) == {"2025-04-01.+.parquet"}
    # the same token under another rule (here, a high-water list of one column): every period hashed and written
    # whole; April's two files become one
    other = {"costs": AppendOnly("lake.token", "status = 'posted'", ("load_id",))}
    assert publish_after(None, other) == {"2025-04-01.parquet"}
    assert "2025-04-01.+.parquet" not in names()
    # the mart emptied: one file without rows keeps the columns for readers
    assert publish_after("DELETE FROM marts.costs", other) == {"empty.parquet"}
    assert names() == {"empty.parquet"}


def test_a_publication_keeps_files_of_the_previous_publications_own_folder_when_the_clock_was_set_back(
    tmp_path: Path,
) -> None:
    """A publication keeps an unchanged export file by a hard link to the one the previous publication wrote, in
    that publication's own folder. Publication ids are the clock's: set back between two publications, the
    newest id of the history is not the previous publication's, whose folder the next one must read."""
    from datetime import UTC, datetime

    import orchestration.lib.warehouse as warehouse

    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.facts AS SELECT i AS n, CAST(i AS DECIMAL(18, 2)) AS amount FROM range(5) r(i)")
    layout = WarehouseLayout(tmp_path / "warehouse")

    class Clock(datetime):
        at = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)

        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return cls.at

    def publish_at(hour: int, minute: int, change: str | None = None) -> list[tuple]:
        """The exported rows after a publication at that time."""
        if change:
            with duckdb.connect(str(build)) as con:
                con.execute(change)
        Clock.at = datetime(2026, 10, 15, hour, minute, tzinfo=UTC)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(warehouse, "datetime", Clock)
            publish(layout, "run", "2026-10-15", build_db=build)
        with duckdb.connect() as con:
            return con.execute(f"FROM '{layout.root / 'exports' / 'facts.parquet'}' ORDER BY n").fetchall()

    def mart() -> list[tuple]:
        with duckdb.connect(str(build), read_only=True) as con:
            return con.execute("FROM marts.facts ORDER BY n").fetchall()

    assert publish_at(10, 0) == mart()
    # the clock set back an hour: the new figures published under an older id, the 10:00 folder still kept (the
    # generation readers may hold)
    assert publish_at(9, 0, "UPDATE marts.facts SET amount = amount + 1") == mart()
    assert (layout.internal / "exports" / "20261015T100000000000").is_dir()
    # nothing changed: the file is kept, as the 9:00 publication wrote it, not as the 10:00 one did
    assert publish_at(9, 30) == mart()
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        assert con.execute("SELECT DISTINCT publication_id FROM audit.mart_fingerprints").fetchall() == [
            ("20261015T093000000000",)
        ]
