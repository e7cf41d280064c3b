"""The project's own generic data tests catch what they are for (run on a copy of the sample's build database)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import jinja2

from tests.conftest import CliRun, compiled_test


def _build_copy(sample_run: CliRun, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A copy of the sample's build database (attached as `build`, the name the compiled SQL uses) with its work
    database, which holds the staging models a relationship rule reads, attached as `work`."""
    internal = sample_run.warehouse / "_internal"
    for name in ("build.duckdb", "work.duckdb"):
        shutil.copy(internal / name, tmp_path / name)
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    con.execute(f"ATTACH '{tmp_path / 'work.duckdb'}' AS work")
    return con


def test_row_rules_names_each_broken_rule_with_its_rows(sample_run: CliRun, tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"  # attached as `build`, the name the compiled SQL uses
    shutil.copy(sample_run.warehouse / "_internal" / "build.duckdb", build)
    sql = compiled_test(sample_run.warehouse, "row_rules_mart_studio_variance")
    with duckdb.connect(str(build)) as con:
        assert con.execute(sql).fetchall() == []  # the built mart passes
        first = "WHERE period = (SELECT min(period) FROM marts.mart_studio_variance)"
        # the last month twice: one row beyond the first of its period (the mart's grain)
        con.execute(
            "INSERT INTO marts.mart_studio_variance FROM marts.mart_studio_variance "
            "WHERE period = (SELECT max(period) FROM marts.mart_studio_variance)"
        )
        rows = con.execute("SELECT count(*) FROM marts.mart_studio_variance").fetchone()[0]
        # one of each kind of rule broken, the rows counted by hand: a null budget in the first month (which also
        # breaks the variance expression there: null is not true), no commitment figure at all, another scope in
        # the first month, a posted actual a cent above what the actual counts in every month
        con.execute(f"UPDATE marts.mart_studio_variance SET budget = NULL {first}")
        con.execute("UPDATE marts.mart_studio_variance SET committed = NULL")
        con.execute(f"UPDATE marts.mart_studio_variance SET scope = 'group' {first}")
        con.execute("UPDATE marts.mart_studio_variance SET posted_actual = posted_actual + 0.01")
        assert sorted(con.execute(sql).fetchall()) == sorted(
            [
                ("not null: budget", 1),
                ("not null: committed", rows),
                ("unique: (period)", 1),
                ("accepted values: scope in (studio)", 1),
                ("expression: actual = posted_actual + accrued_actual", rows),
                ("expression: variance = actual - budget and ytd_variance = ytd_actual - ytd_budget", 1),
            ]
        )
        # dbt's failures ("Got N results", Dagster's failed row count) are the rows counted, not the rules broken
        fail_calc = _test_config(sample_run.warehouse, "row_rules_mart_studio_variance")["fail_calc"]
        assert con.execute(f"SELECT {fail_calc} FROM ({sql}) AS result").fetchone()[0] == 1 + rows + 1 + 1 + rows + 1


def test_row_rules_relationships_count_rows_whose_value_the_parent_lacks(sample_run: CliRun, tmp_path: Path) -> None:
    sql = compiled_test(sample_run.warehouse, "row_rules_mart_department_variance")
    assert "stg_departments" in sql
    with _build_copy(sample_run, tmp_path) as con:
        assert con.execute(sql).fetchall() == []
        mart = "marts.mart_department_variance"
        departments = con.execute("SELECT count(DISTINCT department_code) FROM work.staging.stg_departments").fetchone()
        assert departments[0] > 1
        rows = con.execute(f"SELECT period, department_code FROM {mart} ORDER BY ALL LIMIT 3").fetchall()
        # by hand: a department the departments file does not have (1 row), a null (not null's to count, not the
        # relationship's), and a row repeated (one row beyond the first of its key; the parents' join adds none)
        con.execute(f"UPDATE {mart} SET department_code = 'GONE' WHERE (period, department_code) = (?, ?)", rows[0])
        con.execute(f"UPDATE {mart} SET department_code = NULL WHERE (period, department_code) = (?, ?)", rows[1])
        con.execute(f"INSERT INTO {mart} FROM {mart} WHERE (period, department_code) = (?, ?)", rows[2])
        broken = [
            ("not null: department_code", 1),
            ("relationship: department_code in stg_departments.department_code", 1),
            ("unique: (period, department_code)", 1),
        ]
        assert sorted(con.execute(sql).fetchall()) == broken
        # a parent that lists each department twice changes no count (each row meets its parent once)
        con.execute("ALTER VIEW work.staging.stg_departments RENAME TO stg_departments_once")
        con.execute(
            "CREATE VIEW work.staging.stg_departments AS SELECT * FROM work.staging.stg_departments_once "
            "UNION ALL SELECT * FROM work.staging.stg_departments_once"
        )
        assert sorted(con.execute(sql).fetchall()) == broken
        # the fact's references are read over the whole fact, its first line (of the first load) included
        fact = compiled_test(sample_run.warehouse, "relationships_fct_actual_costs")
        assert con.execute(fact).fetchall() == []
        con.execute("UPDATE marts.fct_actual_costs SET department_code = 'GONE' WHERE cost_id = ?", [_first_cost(con)])
        assert con.execute(fact).fetchall() == [("relationship: department_code in stg_departments.department_code", 1)]


def _first_cost(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT cost_id FROM marts.fct_actual_costs ORDER BY load_id, cost_id LIMIT 1").fetchone()[0]


def _test_config(warehouse: Path, prefix: str) -> dict:
    manifest = json.loads((warehouse / "_internal" / "dbt_target" / "manifest.json").read_text(encoding="utf-8"))
    (node,) = [node for node in manifest["nodes"].values() if node["name"].startswith(prefix)]
    return node["config"]


def test_a_rule_text_reads_back_as_written_on_either_engine() -> None:
    """A rule's text and accepted values become SQL literals (macro text_literal): a quote and a backslash read back
    as written. DuckDB doubles a quote; Spark reads a backslash as an escape, which DuckDB's E'' strings read alike."""
    source = (Path(__file__).parents[1] / "dbt_project" / "macros" / "tests" / "row_rules.sql").read_text()
    text = "note: vendor in ('O''Brien', C:\\films\\) \\' end"
    for dialect, read_as in (("default", "{}"), ("spark", "E{}")):
        body = re.search(rf"{{% macro {dialect}__text_literal\(text\) -%}}(.*?){{%- endmacro %}}", source, re.S)
        literal = jinja2.Template(body.group(1)).render(text=text).strip()
        assert duckdb.sql(f"SELECT {read_as.format(literal)}").fetchall() == [(text,)], (dialect, literal)


def test_row_rules_ranges_and_unquoted_values(sample_run: CliRun, tmp_path: Path) -> None:
    ranged = compiled_test(sample_run.warehouse, "row_rules_mart_project_variance")
    numbers = compiled_test(sample_run.warehouse, "row_rules_rpt_studio_budget_vs_actual")
    with _build_copy(sample_run, tmp_path) as con:
        assert con.execute(ranged).fetchall() == con.execute(numbers).fetchall() == []
        # schedule_elapsed_pct within [0, 100], bounds included; a null passes (it is not_null's to count)
        codes = [
            r[0] for r in con.execute("SELECT project_code FROM marts.mart_project_variance ORDER BY 1").fetchall()
        ]
        for code, pct in zip(codes, (0, 100, 100.01, -0.01, None), strict=False):
            con.execute(
                "UPDATE marts.mart_project_variance SET schedule_elapsed_pct = ? WHERE project_code = ?", [pct, code]
            )
        # and a project twice: one row beyond the first of its code
        assert len(codes) >= 6
        con.execute(
            "INSERT INTO marts.mart_project_variance FROM marts.mart_project_variance WHERE project_code = ?",
            [codes[5]],
        )
        assert sorted(con.execute(ranged).fetchall()) == [
            ("not null: schedule_elapsed_pct", 1),
            ("range: schedule_elapsed_pct >= 0 and schedule_elapsed_pct <= 100", 2),
            ("unique: project_code", 1),
        ]
        # row_order is one of the numbers 1, 2, 3, compared as numbers (quote: false)
        con.execute("UPDATE marts.rpt_studio_budget_vs_actual SET row_order = 4 WHERE row_order = 3")
        fours = con.execute("SELECT count(*) FROM marts.rpt_studio_budget_vs_actual WHERE row_order = 4").fetchone()[0]
        assert fours > 0
        assert con.execute(numbers).fetchall() == [("accepted values: row_order in (1, 2, 3)", fours)]


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
