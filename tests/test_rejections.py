"""Bad input is rejected with an actionable message, kept in quarantine, and never reaches the marts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, query, run_cli
from tests.test_end_to_end import mart_snapshot


@pytest.fixture(scope="module")
def refreshed_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small studio refreshed once; each test gets its own copy of landing folder and warehouse."""
    base = tmp_path_factory.mktemp("rejections")
    landing = base / "landing"
    shutil.copytree(SMALL_STUDIO, landing)
    warehouse = base / "warehouse"
    first = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    assert first.returncode == 0, first.stderr
    return landing, warehouse


@pytest.fixture
def landing_and_warehouse(refreshed_once: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(refreshed_once[0], landing)
    shutil.copytree(refreshed_once[1], warehouse, symlinks=True)
    return landing, warehouse


def test_formatted_amount_rejects_the_load_and_names_row_column_value(landing_and_warehouse) -> None:
    landing, warehouse = landing_and_warehouse
    before = mart_snapshot(warehouse / "studio.duckdb")
    (landing / "gl_actuals_march.csv").write_text(
        "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
        "G100,2025-03-02,P1,5100,Crew Co,ok line,100.00,USD,\n"
        'G101,2025-03-03,P1,5100,Crew Co,formatted,"$1,234",USD,\n',
        encoding="utf-8",
    )
    done = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    assert done.returncode == 3, done.stderr
    stderr = " ".join(done.stderr.split())
    assert "gl_actuals_march.csv" in stderr
    assert "row 2" in stderr and "amount" in stderr and "'$1,234'" in stderr
    # nothing of the load reached the marts, not even its good line
    assert mart_snapshot(warehouse / "studio.duckdb") == before
    kept = list((warehouse / "quarantine").glob("*/gl_actuals_march.csv"))
    assert len(kept) == 1
    report = (kept[0].parent / "report.txt").read_text(encoding="utf-8")
    assert "row 2: amount = '$1,234'" in report
    # the audit keeps the rejected load (SPEC §5); nothing of it is among the loads making up the publication
    database = warehouse / "studio.duckdb"
    march = "file_name = 'gl_actuals_march.csv'"
    assert query(database, f"SELECT status FROM audit.loads WHERE {march}") == [("rejected",)]
    assert query(database, f"SELECT count(*) FROM audit.publication_loads WHERE {march}") == [(0,)]


def test_unreadable_file_never_crashes_the_run(landing_and_warehouse) -> None:
    landing, warehouse = landing_and_warehouse
    (landing / "gl_actuals_ragged.csv").write_text(
        "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
        "G200,2025-03-02,P1,5100,Crew Co,ok,100.00,USD,\n"
        "G201,2025-03-03,P1\n",
        encoding="utf-8",
    )
    done = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    assert done.returncode == 3, done.stderr
    assert "gl_actuals_ragged.csv" in done.stderr
    assert list((warehouse / "quarantine").glob("*/gl_actuals_ragged.csv"))


def test_a_failing_build_publishes_nothing_and_exits_1(landing_and_warehouse) -> None:
    """The build database cannot be opened (a folder stands where the file was): the refresh fails, the old
    publication stays. (A currency with no rate, the failure this once used, is now stopped at the gate.)"""
    landing, warehouse = landing_and_warehouse
    before = mart_snapshot(warehouse / "studio.duckdb")
    publications = query(warehouse / "studio.duckdb", "SELECT count(*) FROM audit.publications")[0][0]
    build = warehouse / "_internal" / "build.duckdb"
    build.unlink()
    build.mkdir()
    (landing / "gl_actuals_more.csv").write_text(
        "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
        "G300,2025-03-02,P1,5100,Crew Co,more crew,100.00,USD,\n",
        encoding="utf-8",
    )
    done = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    assert done.returncode == 1, done.stderr
    assert "Nothing was published" in done.stderr
    assert mart_snapshot(warehouse / "studio.duckdb") == before
    assert query(warehouse / "studio.duckdb", "SELECT count(*) FROM audit.publications")[0][0] == publications
