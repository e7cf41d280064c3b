"""The project's `table` materialization on DuckDB (dbt_project/macros/materializations/table.sql), on a project
of three models of its own: a rebuild replaces the table's rows, a model that fails leaves the table it had, a view
of the same name gives way to the table, and a setting the materialization does not apply stops the model."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.lib.config import DBT_PROJECT_DIR

PROJECT = """
name: materialization_check
version: "1.0"
profile: materialization_check
flags:
  send_anonymous_usage_stats: false
models:
  materialization_check:
    +materialized: table
"""
PROFILE = """
materialization_check:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{path}"
      threads: 1
"""


def _project(folder: Path, models: dict[str, str]) -> Path:
    (folder / "macros").mkdir(parents=True, exist_ok=True)
    shutil.copy(DBT_PROJECT_DIR / "macros" / "materializations" / "table.sql", folder / "macros" / "table.sql")
    (folder / "dbt_project.yml").write_text(PROJECT, encoding="utf-8")
    (folder / "profiles.yml").write_text(PROFILE.format(path=folder / "check.duckdb"), encoding="utf-8")
    shutil.rmtree(folder / "models", ignore_errors=True)
    (folder / "models").mkdir()
    for name, sql in models.items():
        (folder / "models" / f"{name}.sql").write_text(sql, encoding="utf-8")
    return folder


def _run(folder: Path) -> subprocess.CompletedProcess[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), "run", "--project-dir", str(folder), "--profiles-dir", str(folder), "--no-partial-parse"],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )


def _rows(folder: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(folder / "check.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT * FROM main.{table} ORDER BY ALL").fetchall()


def _kind(folder: Path, name: str) -> str | None:
    with duckdb.connect(str(folder / "check.duckdb"), read_only=True) as con:
        found = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
    return found[0][0] if found else None


def test_a_table_is_replaced_kept_when_its_model_fails_and_refused_a_setting_it_cannot_apply(tmp_path: Path) -> None:
    folder = _project(
        tmp_path,
        {
            "amounts": "select 1 as id, 10.50 as amount union all select 2, 20.25",
            "was_a_view": "{{ config(materialized='view') }} select 'view' as kind",
        },
    )
    first = _run(folder)
    assert first.returncode == 0, first.stdout
    assert _rows(folder, "amounts") == [(1, 10.50), (2, 20.25)]
    assert _kind(folder, "was_a_view") == "VIEW"

    # a rebuild: other rows and another column; the view becomes a table of the same name
    _project(folder, {"amounts": "select 3 as id, 'new' as note", "was_a_view": "select 'table' as kind"})
    second = _run(folder)
    assert second.returncode == 0, second.stdout
    assert _rows(folder, "amounts") == [(3, "new")]
    assert (_kind(folder, "was_a_view"), _rows(folder, "was_a_view")) == ("BASE TABLE", [("table",)])

    # a model whose SQL fails once the old table is dropped in its transaction: the old table is still there
    _project(folder, {"amounts": "select 4 as id, cast('not a number' as integer) as amount"})
    failed = _run(folder)
    assert failed.returncode == 1
    assert "Conversion Error" in failed.stdout
    assert _rows(folder, "amounts") == [(3, "new")]

    # a setting the materialization does not apply is named, and nothing is built
    _project(folder, {"amounts": "{{ config(indexes=[{'columns': ['id']}], partition_by='id') }} select 5 as id"})
    refused = _run(folder)
    assert refused.returncode == 1
    assert "does not apply indexes, partition_by of model.materialization_check.amounts" in refused.stdout
    assert _rows(folder, "amounts") == [(3, "new")]
