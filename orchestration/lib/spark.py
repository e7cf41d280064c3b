"""The dbt project on Apache Spark (`studio-budget run --engine spark`): what a Spark build reads and where it
keeps its tables.

dbt's `spark` target (dbt_project/profiles.yml) runs a local PySpark session inside the dbt process. Its catalog
(a Derby metastore) and its tables (Parquet) live in the warehouse's `_internal/spark/`, so incremental models
find their previous rows on the next run. The sources are views over the lake's Parquet loads, made by the
project itself at the start of each run (macro `register_lake_sources`); the pipeline only tells it where the
lake is, which sources have loads, and writes the load ledger (JSON manifests) as one Parquet file for it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.contract import SOURCES
from orchestration.lib.lake import DATA_FILE, ledger_select
from orchestration.lib.sql import literal

ENGINES = ("duckdb", "spark")
DBT_TARGETS = {"duckdb": "local", "spark": "spark"}
LOAD_LEDGER_FILE = "load_ledger.parquet"
# the dbt vars that say where a Spark build's files are, not what it computes
SPARK_LOCATION_VARS = ("spark_dir", "lake_dir", "lake_sources_loaded", "load_ledger_file")


def spark_dir(layout: WarehouseLayout) -> Path:
    """The local Spark catalog and tables of a warehouse."""
    return layout.internal / "spark"


def spark_warehouse_dir(layout: WarehouseLayout) -> Path:
    """Where local Spark writes its tables: `<schema>.db/<table>/part-*.parquet`."""
    return spark_dir(layout) / "warehouse"


def staged_build(layout: WarehouseLayout) -> Path:
    """The DuckDB file a Spark build's published tables are staged in (`spark_publish`): for readers of a build
    database (publish, the dbt docs catalog), what DuckDB's build database is to a DuckDB build."""
    return spark_dir(layout) / "build_from_spark.duckdb"


def sources_with_loads(layout: WarehouseLayout) -> list[str]:
    """The sources the lake holds at least one accepted load of (the others are empty relations)."""
    return [name for name in SOURCES if any((layout.lake / name).glob(f"load_id=*/{DATA_FILE}"))]


def write_load_ledger(layout: WarehouseLayout) -> Path:
    """The load ledger (every accepted load's manifest) as one Parquet file that Spark reads as `lake.load_ledger`;
    written aside, then renamed over the previous one."""
    folder = spark_dir(layout)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / LOAD_LEDGER_FILE
    work = folder / f".{LOAD_LEDGER_FILE}.incoming"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"COPY ({ledger_select(layout)}) TO '{literal(work)}' (FORMAT parquet)")
    os.replace(work, target)
    return target


CATALOG_OF = "catalog_of"


def forget_moved_catalog(layout: WarehouseLayout) -> bool:
    """Spark's catalog records each table's folder by its absolute path: in a warehouse folder that was moved or
    copied it still names the old place. Such a catalog (with its tables and incremental state: all derived from
    the lake) is removed, and the build starts from the lake. True when it was."""
    folder = spark_dir(layout)
    marker = folder / CATALOG_OF
    here = str(folder.resolve())
    moved = marker.is_file() and marker.read_text(encoding="utf-8") != here
    if moved:
        for derived in ("metastore_db", "warehouse", "incremental_state.json"):
            path = folder / derived
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(here, encoding="utf-8")
    return moved


def prepare_spark_build(layout: WarehouseLayout) -> dict[str, object]:
    """Before a Spark build: a catalog of another place forgotten, the load ledger written; the dbt vars that
    locate the lake and the catalog."""
    layout.ensure()
    forget_moved_catalog(layout)
    return {
        "spark_dir": str(spark_dir(layout)),
        "lake_dir": str(layout.lake),
        "lake_sources_loaded": sources_with_loads(layout),
        "load_ledger_file": str(write_load_ledger(layout)),
    }
