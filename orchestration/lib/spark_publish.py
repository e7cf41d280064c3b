"""Publishing a Spark build: readers get the same `studio.duckdb` and `exports/*.parquet` whichever engine built.

Spark keeps each mart and reference table as Parquet files in its warehouse folder (`<schema>.db/<table>/`).
They are read, in SQL, into a DuckDB file shaped like DuckDB's own build database (each column cast to the type
its dbt contract or seed declares, so a published table is typed as a DuckDB build would type it), and the
usual publication (`warehouse.publish`) copies from that file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.spark import spark_warehouse_dir, staged_build
from orchestration.lib.sql import literal, q
from orchestration.lib.warehouse import PUBLISHED_SCHEMAS


def published_tables(manifest: dict) -> list[tuple[str, str, dict[str, str]]]:
    """(schema, table, {column: declared type}) of every model and seed a publication copies: the tables of the
    published schemas, with their contract's column types (marts) or their seed's column types (reference)."""
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed") or node["schema"] not in PUBLISHED_SCHEMAS:
            continue
        if node["resource_type"] == "model" and node["config"].get("materialized") not in ("table", "incremental"):
            continue
        if node["resource_type"] == "seed":
            types = dict(node["config"].get("column_types") or {})
        else:
            types = {name: column.get("data_type") or "" for name, column in node["columns"].items()}
        found.append((node["schema"], node["alias"] or node["name"], types))
    return sorted(found)


def _columns_select(columns: dict[str, str], relation: str) -> str:
    """The relation's columns in their declared types (a column without one as it is)."""
    if not columns:
        return f"SELECT * FROM {relation}"
    parts = [f"CAST({q(name)} AS {kind}) AS {q(name)}" if kind else q(name) for name, kind in columns.items()]
    return f"SELECT {', '.join(parts)} FROM {relation}"


def stage_spark_build(layout: WarehouseLayout, manifest_path: Path) -> Path:
    """A DuckDB file holding the Spark build's marts and reference tables, for `publish` to copy from."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    staged = staged_build(layout)
    work = staged.with_name(f".{staged.name}.incoming")
    work.unlink(missing_ok=True)
    with duckdb.connect(str(work)) as con:
        con.execute("SET TimeZone = 'UTC'")  # Spark's session time zone: its timestamps are UTC instants
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"CREATE SCHEMA {schema}")
        for schema, table, columns in published_tables(manifest):
            folder = spark_warehouse_dir(layout) / f"{schema}.db" / table
            if any(folder.glob("*.parquet")):
                relation = f"read_parquet('{literal(folder / '*.parquet')}')"
            elif folder.is_dir() and columns and all(columns.values()):  # an empty table may have no file
                relation = "(SELECT " + ", ".join(f"NULL AS {q(name)}" for name in columns) + " WHERE false)"
            else:
                raise FileNotFoundError(f"the Spark build has no table {schema}.{table} (no Parquet in {folder})")
            con.execute(f"CREATE TABLE {schema}.{q(table)} AS {_columns_select(columns, relation)}")
        con.execute("CHECKPOINT")
    os.replace(work, staged)
    return staged
