"""The README's example SQL ("Querying the warehouse", docs/queries/) runs on a published warehouse as an analyst
runs it: read-only, and returns rows with the columns the README names."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CliRun

QUERIES = Path(__file__).parent.parent / "docs" / "queries"
README = Path(__file__).parent.parent / "README.md"

# the columns the README names for each query (SPEC §1's five questions)
COLUMNS = {
    "1_planned_by_version.sql": ["project_code", "budget_version", "is_original", "is_current", "budget_base"],
    "2_spent_posted_and_accrued.sql": ["project_code", "posted_actual", "accrued_actual", "actual"],
    "3_variance_by_line_item.sql": ["project_code", "account_code", "ytd_budget", "ytd_actual", "ytd_variance"],
    "4a_drivers_transactions.sql": ["project_code", "account_code", "vendor", "person_id", "amount_base"],
    "4b_drivers_labour.sql": ["labour_variance", "rate_variance", "hours_variance", "overtime_premium"],
    "5a_action_commentary.sql": ["variance", "commentary_status", "days_missing", "drafted_explanation"],
    "5b_action_alerts.sql": ["alert_type", "severity", "notify_email", "message"],
}


def test_every_query_file_is_checked_and_in_the_readme() -> None:
    assert sorted(p.name for p in QUERIES.glob("*.sql")) == sorted(COLUMNS)
    readme = README.read_text(encoding="utf-8")
    for name, columns in COLUMNS.items():
        assert f"docs/queries/{name}" in readme, name
        assert (QUERIES / name).read_text(encoding="utf-8") in readme, f"the README's copy of {name} differs"
        assert all(f"`{column}`" in readme for column in columns), name


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_example_query_returns_rows(sample_run: CliRun, name: str) -> None:
    assert sample_run.exit_code == 0, sample_run.stderr[-2000:]
    with duckdb.connect(str(sample_run.warehouse / "studio.duckdb"), read_only=True) as con:
        cursor = con.execute((QUERIES / name).read_text(encoding="utf-8"))
        names = [d[0] for d in cursor.description]
        found = cursor.fetchall()
    assert set(COLUMNS[name]) <= set(names), names
    assert found, f"{name} returned no rows"


def test_the_variance_query_reads_the_month_of_the_current_publication(sample_run: CliRun, tmp_path: Path) -> None:
    """After a refresh at an earlier as-of date than a publication before it (`run --as-of` a month back), query 3
    shows the as-of month of the publication readers have, not the latest as-of any publication had."""
    published = tmp_path / "studio.duckdb"
    shutil.copyfile(sample_run.warehouse / "studio.duckdb", published)
    query = (QUERIES / "3_variance_by_line_item.sql").read_text(encoding="utf-8")
    with duckdb.connect(str(published)) as con:
        expected = con.execute(query).fetchall()
        # an earlier publication, made at an as-of date 40 days later than the current one's
        con.execute(
            "INSERT INTO audit.publications SELECT 'earlier', published_at - INTERVAL 1 DAY, run_id, "
            "as_of + INTERVAL 40 DAY, tables, loads FROM audit.publications ORDER BY published_at DESC LIMIT 1"
        )
        assert expected and con.execute(query).fetchall() == expected
