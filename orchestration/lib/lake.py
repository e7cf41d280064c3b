"""The lake: accepted loads as immutable Parquet, one folder per load (SPEC §5).

`lake/<source>/load_id=<id>/data.parquet` holds a load typed by the contract (with `_load_id` and
`_row_number`), and `_load.json` beside it is its manifest. A folder appears whole (written aside,
then renamed), so the lake never holds half a load, and the manifests are the load ledger: a file
whose sha256 is there is not loaded again. Any engine reads these files; DuckDB reads them through
one view per source in the build database (dbt's sources).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping

import duckdb

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.contract import SOURCES, Source
from orchestration.lib.faults import pause_point
from orchestration.lib.sql import literal, q

LOAD_MANIFEST = "_load.json"
DATA_FILE = "data.parquet"

# the fields of a load manifest that the ledger view and the audit read
LOAD_COLUMNS = {
    "load_id": "VARCHAR",
    "source": "VARCHAR",
    "file_name": "VARCHAR",
    "landing_path": "VARCHAR",
    "sha256": "VARCHAR",
    "rows": "BIGINT",
    "status": "VARCHAR",
    "loaded_at": "TIMESTAMPTZ",
    "run_id": "VARCHAR",
}


def accepted_manifests(layout: WarehouseLayout, source: str | None = None) -> list[dict]:
    """The load ledger: the manifest of every accepted load (of one source, or all)."""
    pattern = f"{source}/load_id=*/{LOAD_MANIFEST}" if source else f"*/load_id=*/{LOAD_MANIFEST}"
    if not layout.lake.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(layout.lake.glob(pattern))]


def remove_incomplete_loads(layout: WarehouseLayout, source: Source) -> None:
    """What a crash left of a load never became visible: its half-written folder goes."""
    for folder in (layout.lake / source.name).glob(".incoming-*"):
        shutil.rmtree(folder, ignore_errors=True)


def typed_select(source: Source, present: Iterable[str]) -> str:
    """SELECT list that types the landed text by the contract; absent optional columns are NULL."""
    present = set(present)
    parts = []
    for column in source.columns:
        value = q(column.name) if column.name in present else "NULL"
        parts.append(f"CAST({value} AS {column.type}) AS {q(column.name)}")
    return ", ".join(parts)


def write_load(
    con: duckdb.DuckDBPyConnection, source: Source, load_id: str, manifest: dict, layout: WarehouseLayout
) -> None:
    """Write the checked load (table `landed` of `con`) into the lake with its manifest, whole or not at all."""
    present = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed)").fetchall()]
    final = layout.lake / source.name / f"load_id={load_id}"
    work = layout.lake / source.name / f".incoming-{load_id}"
    work.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY (SELECT {typed_select(source, present)}, CAST(? AS VARCHAR) AS _load_id, "
        f"CAST(_row_number AS BIGINT) AS _row_number FROM landed) "  # landed is in file order already
        f"TO '{literal(work / DATA_FILE)}' (FORMAT parquet)",
        [load_id],
    )
    (work / LOAD_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    pause_point("ingest")
    work.rename(final)  # the load appears whole or not at all


def lake_select(layout: WarehouseLayout, source: Source) -> str:
    """Every accepted load of a source as one relation (typed and empty when there is none)."""
    if any((layout.lake / source.name).glob(f"load_id=*/{DATA_FILE}")):
        files = literal(layout.lake / source.name / "load_id=*" / DATA_FILE)
        return f"SELECT * FROM read_parquet('{files}', union_by_name = true)"
    empty = ", ".join(f"CAST(NULL AS {c.type}) AS {q(c.name)}" for c in source.columns)
    return f"SELECT {empty}, CAST(NULL AS VARCHAR) AS _load_id, CAST(NULL AS BIGINT) AS _row_number WHERE false"


def json_columns(columns: dict[str, str]) -> str:
    """A read_json `columns` struct literal."""
    return "{" + ", ".join(f"{name}: '{kind}'" for name, kind in columns.items()) + "}"


def empty_select(columns: dict[str, str]) -> str:
    nulls = ", ".join(f"CAST(NULL AS {kind}) AS {q(name)}" for name, kind in columns.items())
    return f"SELECT {nulls} WHERE false"


def ledger_select(layout: WarehouseLayout) -> str:
    """Every accepted load's manifest as one relation (the load ledger)."""
    if any(layout.lake.glob(f"*/load_id=*/{LOAD_MANIFEST}")):
        files = literal(layout.lake / "*" / "load_id=*" / LOAD_MANIFEST)
        return f"SELECT * FROM read_json('{files}', columns = {json_columns(LOAD_COLUMNS)})"
    return empty_select(LOAD_COLUMNS)


def register_lake_views(layout: WarehouseLayout, sources: Iterable[Source] | None = None) -> None:
    """In the build database, one view per source over its accepted loads (dbt's sources)."""
    layout.ensure()
    with duckdb.connect(str(layout.build_db)) as con:
        _lake_views(con, layout, sources)


def _lake_views(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, sources: Iterable[Source] | None) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS lake")
    for source in sources or SOURCES.values():
        con.execute(f"CREATE OR REPLACE VIEW lake.{source.name} AS {lake_select(layout, source)}")
    con.execute(f"CREATE OR REPLACE VIEW lake.load_ledger AS {ledger_select(layout)}")


def prepare_build_database(layout: WarehouseLayout, last_build: Mapping[str, object] | None) -> None:
    """The build database before a DuckDB build, in one connection:
    - what an earlier version built here and this one builds in the work database (the staging and intermediate
      models) is dropped: left behind, it would be copied with every publication;
    - every source has its view over the lake, even one no asset loaded this run;
    - `lake.last_build`: the newest load and as-of date of the last build that passed its tests and built the
      models that grow with the ledger (`tested_marks`, in its incremental state) when this build appends to it;
      no row when this build is a full one or none is recorded. Those models' tests then read only the rows
      added since (macros/tests/new_rows.sql)."""
    layout.ensure()
    with duckdb.connect(str(layout.build_db)) as con:
        for schema in ("staging", "intermediate"):
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        _lake_views(con, layout, None)
        con.execute("CREATE OR REPLACE TABLE lake.last_build (tested_load_id VARCHAR, tested_as_of DATE)")
        if last_build and last_build.get("tested_load") and last_build.get("tested_as_of"):
            con.execute(
                "INSERT INTO lake.last_build VALUES (?, ?)", [last_build["tested_load"], last_build["tested_as_of"]]
            )
