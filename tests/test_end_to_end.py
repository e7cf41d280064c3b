"""The bundled sample through `studio-budget run`, as a new user runs it (SPEC §3)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import CliRun, copy_warehouse, query, run_cli

pytestmark = pytest.mark.slow

MARTS = (
    "fct_actual_costs",
    "fct_budget_lines",
    "mart_line_item_variance",
    "mart_project_variance",
    "mart_project_category_variance",
    "mart_department_variance",
    "mart_studio_variance",
    "mart_category_variance",
)


def mart_snapshot(database: Path) -> dict[str, list[tuple]]:
    return {mart: query(database, f"SELECT * FROM marts.{mart} ORDER BY ALL") for mart in MARTS}


def test_sample_run_publishes_every_mart(sample_run: CliRun) -> None:
    assert sample_run.exit_code == 0, sample_run.stderr
    database = sample_run.warehouse / "studio.duckdb"
    for mart in MARTS:
        rows = query(database, f"SELECT count(*) FROM marts.{mart}")[0][0]
        assert rows > 0, mart
        assert (sample_run.warehouse / "exports" / f"{mart}.parquet").is_file()
        exported = query(
            database, f"SELECT count(*) FROM read_parquet('{sample_run.warehouse}/exports/{mart}.parquet')"
        )
        assert exported[0][0] == rows, mart
    loads = query(database, "SELECT count(*), count(DISTINCT source) FROM audit.loads")[0]
    files = [p for p in sample_run.landing.iterdir() if p.suffix in (".csv", ".parquet")]
    assert loads == (len(files), 18)
    assert (sample_run.warehouse / "reports" / "studio_budget_vs_actual.txt").is_file()


def test_printed_report_matches_the_marts(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    budget, actual, variance = query(
        database,
        "SELECT ytd_budget, ytd_actual, ytd_variance FROM marts.mart_studio_variance WHERE period = ?",
        [sample_run.as_of.replace(day=1)],
    )[0]
    total_line = next(line for line in sample_run.stdout.splitlines() if "STUDIO TOTAL" in line)
    numbers = re.findall(r"-?[\d,]+(?:\.\d+)?", total_line)
    assert numbers[:3] == [f"{budget:,.0f}", f"{actual:,.0f}", f"{variance:,.0f}"]
    attention = query(
        database,
        "SELECT count(*) FROM marts.rpt_studio_budget_vs_actual WHERE needs_attention AND row_type = 'account'",
    )[0][0]
    assert sample_run.stdout.count("⚠") >= attention > 0
    assert f"at {sample_run.as_of.isoformat()}" in sample_run.stdout


def test_second_run_loads_nothing_and_changes_no_figure(sample_run: CliRun, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    copy_warehouse(sample_run.warehouse, warehouse)
    database = warehouse / "studio.duckdb"
    before = mart_snapshot(database)
    again = run_cli("run", "--warehouse", str(warehouse))
    assert again.returncode == 0, again.stderr
    assert re.search(r"loaded 0 rows from 0 new file\(s\); \d+ already loaded", again.stderr)
    assert mart_snapshot(database) == before
    publications = query(database, "SELECT count(*) FROM audit.publications")[0][0]
    assert publications == 2


def test_report_command_prints_the_published_report(sample_run: CliRun) -> None:
    done = run_cli("report", "--warehouse", str(sample_run.warehouse), "--write")
    assert done.returncode == 0, done.stderr
    assert "STUDIO TOTAL" in done.stdout
    assert (sample_run.warehouse / "reports" / "studio_budget_vs_actual.csv").is_file()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("run", "--as-of", "15/10/2026", "--warehouse", str(tmp_path)).returncode == 2
    assert run_cli("run", "--landing", str(tmp_path / "missing"), "--warehouse", str(tmp_path)).returncode == 2
    assert run_cli("report", "--warehouse", str(tmp_path / "none")).returncode == 2
