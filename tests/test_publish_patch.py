"""Publishing starts from a copy of the previous publication: each built table is kept, patched or copied, and
what the draft holds afterwards is exactly the build's table (compared row by row, repeats counted)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.lib import warehouse

ROWS = 1_000


def _tables(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """A draft (the previous publication) and a build with the same 1,000-row table marts.facts."""
    build = tmp_path / "build.duckdb"
    table = (
        "CREATE TABLE marts.facts AS SELECT 'c:' || i AS cost_id, i % 7 AS project, "
        f"CAST(i * 1.25 AS DECIMAL(18, 2)) AS amount, CASE WHEN i % 5 = 0 THEN NULL ELSE 'v' || i END AS vendor "
        f"FROM range({ROWS}) AS r(i)"
    )
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(table)
    con = duckdb.connect(str(tmp_path / "draft.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute(table)
    con.execute(f"ATTACH '{build}' AS build")
    return con, build


def _difference(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rows of the draft the build lacks, and rows of the build the draft lacks, repeats counted."""
    only_draft = con.execute("SELECT count(*) FROM (FROM marts.facts EXCEPT ALL FROM build.marts.facts)").fetchone()
    only_build = con.execute("SELECT count(*) FROM (FROM build.marts.facts EXCEPT ALL FROM marts.facts)").fetchone()
    return only_draft[0], only_build[0]


@pytest.fixture(autouse=True)
def _patch_small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warehouse, "PATCH_MIN_ROWS", 10)  # the real threshold is 100,000 rows


def test_an_unchanged_table_is_kept(tmp_path: Path) -> None:
    con, _ = _tables(tmp_path)
    assert warehouse._publish_table(con, "marts", "facts") == "kept"
    assert _difference(con) == (0, 0)


def test_a_few_changed_rows_are_patched_and_the_table_equals_the_build(tmp_path: Path) -> None:
    con, _ = _tables(tmp_path)
    con.execute("DELETE FROM build.marts.facts WHERE cost_id IN ('c:1', 'c:2')")  # 2 gone
    con.execute("UPDATE build.marts.facts SET amount = amount + 0.01 WHERE cost_id = 'c:3'")  # 1 changed by a cent
    con.execute("UPDATE build.marts.facts SET vendor = NULL WHERE cost_id = 'c:4'")  # 1 changed to null
    con.execute("INSERT INTO build.marts.facts VALUES ('c:x', 1, 9.99, NULL), ('c:y', 2, -9.99, 'v')")  # 2 new
    assert _difference(con) == (4, 4)  # before: c:1, c:2 and the old c:3, c:4; the new c:3, c:4, c:x, c:y
    assert warehouse._publish_table(con, "marts", "facts") == "patched"
    assert _difference(con) == (0, 0)
    assert con.execute("SELECT count(*) FROM marts.facts").fetchone()[0] == ROWS - 2 + 2


def test_a_build_with_repeated_rows_is_copied_whole(tmp_path: Path) -> None:
    con, _ = _tables(tmp_path)
    # a row the draft has once appears twice in the build, and one new row three times: hashes cannot count them
    con.execute("INSERT INTO build.marts.facts SELECT * FROM build.marts.facts WHERE cost_id = 'c:9'")
    con.execute("INSERT INTO build.marts.facts SELECT 'c:z', 0, 1.00, NULL FROM range(3)")
    assert warehouse._publish_table(con, "marts", "facts") == "copied"
    assert _difference(con) == (0, 0)
    assert con.execute("SELECT count(*) FROM marts.facts").fetchone()[0] == ROWS + 1 + 3


def test_a_mostly_changed_table_is_copied_whole(tmp_path: Path) -> None:
    con, _ = _tables(tmp_path)
    con.execute("UPDATE build.marts.facts SET project = project + 1 WHERE cost_id NOT LIKE 'c:1%'")
    assert warehouse._publish_table(con, "marts", "facts") == "copied"
    assert _difference(con) == (0, 0)


def test_other_columns_or_a_new_table_are_copied_whole(tmp_path: Path) -> None:
    con, _ = _tables(tmp_path)
    con.execute("ALTER TABLE build.marts.facts ADD COLUMN note VARCHAR")
    assert warehouse._publish_table(con, "marts", "facts") == "copied"
    assert [c[0] for c in con.execute("DESCRIBE marts.facts").fetchall()][-1] == "note"
    con.execute("CREATE TABLE build.marts.other AS SELECT 1 AS x")
    assert warehouse._publish_table(con, "marts", "other") == "copied"
    assert con.execute("SELECT x FROM marts.other").fetchall() == [(1,)]


def test_a_small_table_is_kept_or_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warehouse, "PATCH_MIN_ROWS", ROWS + 1)
    con, _ = _tables(tmp_path)
    assert warehouse._publish_table(con, "marts", "facts") == "kept"
    con.execute("UPDATE build.marts.facts SET amount = 0 WHERE cost_id = 'c:5'")
    assert warehouse._publish_table(con, "marts", "facts") == "copied"
    assert _difference(con) == (0, 0)


def test_a_copy_mostly_of_free_blocks_is_not_patched_further(tmp_path: Path) -> None:
    database = tmp_path / "published.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE kept AS SELECT i FROM range(300000) AS r(i)")
        con.execute("CREATE TABLE dropped AS SELECT i, 'text ' || i AS t FROM range(1000000) AS r(i)")
        con.execute("CHECKPOINT")
    assert not warehouse._mostly_free(database, "256MB")  # every block holds rows
    with duckdb.connect(str(database)) as con:
        con.execute("DROP TABLE dropped")  # most of the file: its blocks are free now, the file as large
        con.execute("CHECKPOINT")
        total, free = con.execute("SELECT total_blocks, free_blocks FROM pragma_database_size()").fetchone()
    assert free > total / 2
    assert warehouse._mostly_free(database, "256MB")
