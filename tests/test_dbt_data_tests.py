"""The project's own generic data tests catch what they are for (run on a copy of the sample's build database)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.conftest import CliRun, compiled_test


def test_not_null_columns_names_each_column_with_nulls(sample_run: CliRun, tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"  # attached as `build`, the name the compiled SQL uses
    shutil.copy(sample_run.warehouse / "_internal" / "build.duckdb", build)
    sql = compiled_test(sample_run.warehouse, "not_null_columns_mart_studio_v")
    with duckdb.connect(str(build)) as con:
        assert con.execute(sql).fetchall() == []  # the built mart passes
        months = con.execute("SELECT count(*) FROM marts.mart_studio_variance").fetchone()[0]
        con.execute(
            "UPDATE marts.mart_studio_variance SET budget = NULL "
            "WHERE period = (SELECT min(period) FROM marts.mart_studio_variance)"
        )
        con.execute("UPDATE marts.mart_studio_variance SET direction = NULL")
        assert sorted(con.execute(sql).fetchall()) == [("budget", 1), ("direction", months)]


def test_grain_test_reports_each_repeated_key_with_its_count(sample_run: CliRun, tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    shutil.copy(sample_run.warehouse / "_internal" / "build.duckdb", build)
    sql = compiled_test(sample_run.warehouse, "unique_combination_of_columns_fct_actual_costs_cost")
    with duckdb.connect(str(build)) as con:
        assert con.execute(sql).fetchall() == []  # the built fact passes
        keys = con.execute("SELECT cost_id FROM marts.fct_actual_costs ORDER BY 1 LIMIT 2").fetchall()
        first, second = keys[0][0], keys[1][0]
        # one key three times, another twice: the answer counted by hand
        copy_row = "INSERT INTO marts.fct_actual_costs SELECT * FROM marts.fct_actual_costs WHERE cost_id = ? LIMIT 1"
        for key in (first, first, second):
            con.execute(copy_row, [key])
        assert sorted(con.execute(sql).fetchall()) == [(first, 3), (second, 2)]
