"""The Spark engine's settings and plumbing, without starting Spark: the engine reaches the settings and dbt's
arguments, a Spark build is told where the lake is and which sources have loads, keeps its own incremental state,
and publishing reads the tables the manifest declares, typed as declared."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.resources import StudioSettings
from orchestration.lib.config import WarehouseLayout
from orchestration.lib.dbt import dbt_build_args, incremental_inputs, read_incremental_state, write_incremental_state
from orchestration.lib.spark import forget_moved_catalog, prepare_spark_build, sources_with_loads, spark_dir
from orchestration.lib.spark_publish import published_tables, stage_spark_build
from tests.conftest import run_cli


def test_the_engine_comes_from_the_command_line_or_the_environment(tmp_path: Path) -> None:
    assert StudioSettings.for_run(tmp_path, tmp_path / "wh", "2025-01-31").engine == "duckdb"
    settings = StudioSettings.from_environment(
        {"STUDIO_LANDING": str(tmp_path), "STUDIO_WAREHOUSE": str(tmp_path / "wh"), "STUDIO_ENGINE": "spark"}
    )
    assert settings.engine == "spark"
    with pytest.raises(ValueError, match="unknown engine 'trino'"):
        StudioSettings.for_run(tmp_path, tmp_path / "wh", "2025-01-31", engine="trino")
    done = run_cli("run", "--warehouse", str(tmp_path / "wh"), "--engine", "trino")
    assert done.returncode == 2 and "invalid choice: 'trino'" in done.stderr


def test_dbt_builds_on_the_engines_target() -> None:
    args = dbt_build_args({"as_of": "2025-01-31"}, target="spark")
    assert args[args.index("--target") + 1] == "spark"
    assert "--target" not in dbt_build_args({"as_of": "2025-01-31"})  # the profile's default: DuckDB


def test_a_spark_build_is_told_where_the_lake_is_and_what_it_holds(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    load = layout.lake / "projects" / "load_id=20250101T000000-aaa"
    load.mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT 'P1' AS project_code) TO '{load / 'data.parquet'}' (FORMAT parquet)")
    manifest = {"load_id": "20250101T000000-aaa", "source": "projects", "rows": 1, "status": "accepted"}
    (load / "_load.json").write_text(json.dumps(manifest), encoding="utf-8")
    (layout.lake / "accounts" / ".incoming-20250101T000001-bbb").mkdir(parents=True)  # half a load: not a load
    assert sources_with_loads(layout) == ["projects"]
    dbt_vars = prepare_spark_build(layout)
    assert dbt_vars["lake_dir"] == str(layout.lake) and dbt_vars["lake_sources_loaded"] == ["projects"]
    ledger = duckdb.sql(f"SELECT load_id, source, rows FROM read_parquet('{dbt_vars['load_ledger_file']}')").fetchall()
    assert ledger == [("20250101T000000-aaa", "projects", 1)]


def test_where_the_files_are_is_no_reason_to_rebuild_and_each_engine_keeps_its_state(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    layout.ensure()
    settings = {"as_of": "2026-10-15", "base_currency": "USD", "build_db": "b.duckdb"}
    spark_vars = {"spark_dir": "/s", "lake_dir": "/l", "lake_sources_loaded": ["projects"], "load_ledger_file": "/f"}
    assert incremental_inputs(layout, settings) == incremental_inputs(layout, {**settings, **spark_vars})
    write_incremental_state(layout, {"as_of": "2026-10-15"}, "spark")
    assert read_incremental_state(layout) is None  # DuckDB's build database was not built by that
    assert read_incremental_state(layout, "spark") == {"as_of": "2026-10-15"}


def test_a_catalog_left_by_a_moved_warehouse_is_forgotten(tmp_path: Path) -> None:
    """Spark's catalog names its tables' folders by absolute path: after a move it would read the old place."""
    layout = WarehouseLayout(tmp_path / "wh")
    assert not forget_moved_catalog(layout)  # a first build: nothing to forget
    assert not forget_moved_catalog(layout)  # the same place
    folder = spark_dir(layout)
    (folder / "metastore_db").mkdir()
    (folder / "warehouse" / "marts.db").mkdir(parents=True)
    write_incremental_state(layout, {"as_of": "2026-10-15"}, "spark")
    moved = WarehouseLayout(tmp_path / "moved")
    (tmp_path / "wh").rename(tmp_path / "moved")
    assert forget_moved_catalog(moved)
    assert sorted(p.name for p in spark_dir(moved).iterdir()) == ["catalog_of"]
    assert read_incremental_state(moved, "spark") is None  # so the build starts from the lake
    assert not forget_moved_catalog(moved)


MANIFEST = {
    "nodes": {
        "model.p.mart_a": {
            "resource_type": "model",
            "schema": "marts",
            "name": "mart_a",
            "alias": "mart_a",
            "config": {"materialized": "table"},
            "columns": {"code": {"data_type": "string"}, "amount": {"data_type": "decimal(38,2)"}},
        },
        "model.p.fct_b": {
            "resource_type": "model",
            "schema": "marts",
            "name": "fct_b",
            "alias": "fct_b",
            "config": {"materialized": "incremental"},
            "columns": {"day": {"data_type": "date"}},
        },
        "model.p.int_c": {
            "resource_type": "model",
            "schema": "intermediate",
            "name": "int_c",
            "alias": "int_c",
            "config": {"materialized": "table"},
            "columns": {},
        },
        "model.p.view_d": {
            "resource_type": "model",
            "schema": "marts",
            "name": "view_d",
            "alias": "view_d",
            "config": {"materialized": "view"},
            "columns": {},
        },
        "seed.p.thresholds": {
            "resource_type": "seed",
            "schema": "reference",
            "name": "thresholds",
            "alias": "thresholds",
            "config": {"column_types": {"pct": "decimal(9,4)"}},
            "columns": {},
        },
        "test.p.t": {"resource_type": "test", "schema": "marts", "name": "t", "alias": "t", "config": {}},
    }
}


def test_publishing_takes_the_published_schemas_tables_with_their_declared_types() -> None:
    assert published_tables(MANIFEST) == [
        ("marts", "fct_b", {"day": "date"}),
        ("marts", "mart_a", {"code": "string", "amount": "decimal(38,2)"}),
        ("reference", "thresholds", {"pct": "decimal(9,4)"}),
    ]


def test_spark_tables_are_staged_typed_as_declared(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "wh")
    tables = layout.internal / "spark" / "warehouse"
    for folder in ("marts.db/mart_a", "marts.db/fct_b", "reference.db/thresholds"):
        (tables / folder).mkdir(parents=True)
    # as Spark writes them: its own widths (a sum is decimal(28,2) there), a part file per task
    duckdb.sql(
        f"COPY (SELECT 'A' AS code, 12.5::DECIMAL(28, 2) AS amount) "
        f"TO '{tables / 'marts.db/mart_a/part-00000.parquet'}' (FORMAT parquet)"
    )
    duckdb.sql(
        f"COPY (SELECT 'B' AS code, -0.01::DECIMAL(28, 2) AS amount) "
        f"TO '{tables / 'marts.db/mart_a/part-00001.parquet'}' (FORMAT parquet)"
    )
    duckdb.sql(
        f"COPY (SELECT 10.0::DOUBLE AS pct) TO '{tables / 'reference.db/thresholds/p.parquet'}' (FORMAT parquet)"
    )
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(MANIFEST), encoding="utf-8")
    # fct_b has no file (an empty table): typed from its contract
    staged = stage_spark_build(layout, manifest)
    with duckdb.connect(str(staged), read_only=True) as con:
        described = con.execute("DESCRIBE marts.mart_a").fetchall()
        assert [(r[0], r[1]) for r in described] == [("code", "VARCHAR"), ("amount", "DECIMAL(38,2)")]
        assert sorted(con.execute("SELECT * FROM marts.mart_a").fetchall()) == [
            ("A", Decimal("12.50")),
            ("B", Decimal("-0.01")),
        ]
        assert con.execute("SELECT typeof(day), count(*) FROM marts.fct_b GROUP BY ALL").fetchall() == []
        assert con.execute("DESCRIBE marts.fct_b").fetchall()[0][1] == "DATE"
        assert con.execute("SELECT pct, typeof(pct) FROM reference.thresholds").fetchall() == [(10, "DECIMAL(9,4)")]
