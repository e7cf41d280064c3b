"""A refresh that fails publishes nothing: the previous published warehouse is untouched (exit 1)."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, copy_warehouse, query, run_cli
from tests.test_end_to_end import mart_snapshot

pytestmark = pytest.mark.slow


@pytest.fixture
def landing_and_warehouse(small_warehouse: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the published small studio and its landing folder (the rejection cases themselves are in
    test_bad_inputs.py: one end-to-end run delivers them all)."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    shutil.copytree(SMALL_STUDIO, landing)
    copy_warehouse(small_warehouse, warehouse)
    return landing, warehouse


def deliver_more_crew(landing: Path) -> None:
    """One new ledger line for the run to load: G300, 100.00 on P1/5100 in March."""
    (landing / "gl_actuals_more.csv").write_text(
        "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
        "G300,2025-03-02,P1,5100,Crew Co,more crew,100.00,USD,\n",
        encoding="utf-8",
    )


def test_a_failing_build_publishes_nothing_and_exits_1(landing_and_warehouse) -> None:
    """The build database cannot be opened (a folder stands where the file was): the refresh fails, the old
    publication stays. (A currency with no rate, the failure this once used, is now stopped at the gate.)"""
    landing, warehouse = landing_and_warehouse
    before = mart_snapshot(warehouse / "studio.duckdb")
    publications = query(warehouse / "studio.duckdb", "SELECT count(*) FROM audit.publications")[0][0]
    build = warehouse / "_internal" / "build.duckdb"
    build.unlink()
    build.mkdir()
    deliver_more_crew(landing)
    done = run_cli("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    assert done.returncode == 1, done.stderr
    assert "Nothing was published" in done.stderr
    # each failed step told once, by what its code raised (not Dagster's wrapper naming the op), without a stack
    # or Dagster's own log lines; the whole error, stack included, is in the run log
    failed = [line for line in done.stderr.splitlines() if line.startswith("FAILED ")]
    assert failed, done.stderr
    for line in failed:
        assert f'{build}": Is a directory' in line and "Error occurred while executing op" not in line, line
    steps = [line.removeprefix("FAILED ").split(":", 1)[0] for line in failed]
    assert len(set(steps)) == len(steps)
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr and " - dagster - " not in done.stderr
    run_log = warehouse / "_internal" / "last_run.log"
    assert f"the failure in full: {run_log}" in done.stderr
    logged = run_log.read_text(encoding="utf-8")
    assert all(f"step {step} failed:" in logged for step in steps) and 'File "' in logged
    assert mart_snapshot(warehouse / "studio.duckdb") == before
    assert query(warehouse / "studio.duckdb", "SELECT count(*) FROM audit.publications")[0][0] == publications


def test_steps_failing_after_the_file_is_published_are_told_apart_from_nothing_published(
    landing_and_warehouse,
) -> None:
    """Two runs, each failing after studio.duckdb was renamed in.

    First, the publish step itself fails before `exports` is switched (a fault injected at that point,
    orchestration/lib/faults.py): the run says the file was replaced and the exports were not, and exits 1.
    Then the report step cannot write its text file (a folder stands where it goes): the warehouse was published
    whole before it, exports switched to it, so the run says so and exits 0 (SPEC: 1 is for nothing published),
    naming the failed step. Neither is recorded as a clean publication, so the next run does the failed step
    again."""
    landing, warehouse = landing_and_warehouse
    published = warehouse / "studio.duckdb"
    publications = query(published, "SELECT count(*) FROM audit.publications")[0][0]
    exports_before = os.readlink(warehouse / "exports")
    clean_file = warehouse / "_internal" / "last_clean_publication.json"
    clean = clean_file.read_bytes() if clean_file.exists() else None
    deliver_more_crew(landing)
    args = ("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF)
    done = run_cli(*args, env={"STUDIO_FAIL_AT": "exports"})
    assert done.returncode == 1, done.stderr
    assert "was replaced but its Parquet exports were not switched" in " ".join(done.stderr.split())
    assert "Nothing was published" not in done.stderr
    assert query(published, "SELECT count(*) FROM audit.publications")[0][0] == publications + 1
    assert os.readlink(warehouse / "exports") == exports_before  # readers of exports/ still see one publication
    assert (clean_file.read_bytes() if clean_file.exists() else None) == clean

    (warehouse / "reports" / "studio_budget_vs_actual.txt").unlink()
    (warehouse / "reports" / "studio_budget_vs_actual.txt").mkdir()
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "FAILED reports__studio_budget_vs_actual" in again.stderr
    assert "Nothing was published" not in again.stderr and "Published " in again.stderr
    assert query(published, "SELECT count(*) FROM audit.publications")[0][0] == publications + 2
    latest = query(published, "SELECT publication_id FROM audit.publications ORDER BY published_at DESC LIMIT 1")
    assert Path(os.readlink(warehouse / "exports")).name == latest[0][0]
    added = query(published, "SELECT amount FROM marts.fct_actual_costs WHERE source_id = 'G300'")
    exported = query(
        published,
        f"SELECT amount FROM read_parquet('{warehouse / 'exports'}/fct_actual_costs.parquet/*.parquet', "
        "hive_partitioning = false) WHERE source_id = 'G300'",
    )
    assert added == exported == [(Decimal("100.00"),)]
    assert (clean_file.read_bytes() if clean_file.exists() else None) == clean  # not recorded as clean


def test_a_failed_dbt_build_is_told_by_what_dbt_says_failed() -> None:
    """dagster-dbt's message (the command, advice about compute logs, then dbt's errors with colour codes and
    progress lines) comes down to the failing tests and dbt's words on them."""
    from orchestration.refresh import failure_summary

    message = (
        "dagster_dbt.errors.DagsterDbtCliRuntimeError: The dbt CLI process with command\n\n"
        "`dbt build --select fqn:*`\n\n"
        "failed with exit code `1`. Check the stdout in the Dagster compute logs for the full information.\n\n"
        "Errors parsed from dbt logs:\n\n"
        "12 of 300 FAIL 2 not_null_x ........ [\x1b[31mFAIL 2\x1b[0m in 0.01s]\n\n"
        "\x1b[31mFailure in test not_null_x (models/x.yml)\x1b[0m\n\n"
        "  Got 2 results, configured to fail if != 0\n\n"
        "  compiled code at target/compiled/x.sql\n"
    )
    assert failure_summary(message) == (
        "the dbt build failed:\n"
        "  Failure in test not_null_x (models/x.yml)\n"
        "  Got 2 results, configured to fail if != 0\n"
        "  compiled code at target/compiled/x.sql"
    )
    assert failure_summary("\x1b[31mOSError: disk full\x1b[0m\n") == "OSError: disk full"


def test_a_failed_step_is_told_by_what_its_code_raised_and_logged_whole() -> None:
    """Dagster wraps what an op raises in an error naming only the op: the summary is the op's own error, and the
    log holds the whole error with its stack."""
    import io

    from dagster import job, op

    from orchestration.refresh import run_failures

    @op
    def writes_the_report() -> None:
        raise PermissionError("[Errno 13] Permission denied: 'reports/studio_budget_vs_actual.txt'")

    @job
    def one_step() -> None:
        writes_the_report()

    result = one_step.execute_in_process(raise_on_error=False)
    log = io.StringIO()
    assert run_failures(result, log) == [
        "writes_the_report: PermissionError: [Errno 13] Permission denied: 'reports/studio_budget_vs_actual.txt'"
    ]
    assert "step writes_the_report failed:" in log.getvalue() and 'File "' in log.getvalue()
