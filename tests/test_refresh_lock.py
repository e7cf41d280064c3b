"""A second refresh of a warehouse is refused while one holds it, before the refused run imports Dagster or dbt
(seconds of imports for a run that can do nothing), and without touching the running one's log. A bad studio.toml
is a usage error told before anything is created, locked or imported, whether or not a refresh runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.refresh_lock import refresh_lock
from tests.conftest import SMALL_AS_OF, SMALL_STUDIO

MAIN = (
    "import sys\n"
    "from orchestration.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(sorted(m for m in ('dagster', 'dbt', 'great_expectations') if m in sys.modules))\n"
    "sys.exit(code)\n"
)


def run_main(*args: str) -> subprocess.CompletedProcess:
    """`studio-budget` in a process of its own, which prints the pipeline's heavy modules it imported."""
    return subprocess.run([sys.executable, "-c", MAIN, *args], capture_output=True, text=True, timeout=300)


def test_a_refused_refresh_ends_before_importing_the_pipeline(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    log = layout.internal / "dbt_output.log"
    log.write_text("the running refresh's dbt output\n", encoding="utf-8")
    with refresh_lock(layout):  # a refresh running
        done = run_main("run", "--landing", str(SMALL_STUDIO), "--warehouse", str(layout.root), "--as-of", SMALL_AS_OF)
    assert done.returncode == 1, done.stderr
    assert "another refresh" in done.stderr and "nothing was done" in done.stderr
    assert done.stdout.strip() == "[]"  # neither Dagster, dbt nor Great Expectations was imported
    assert log.read_text(encoding="utf-8") == "the running refresh's dbt output\n"
    assert not layout.published_db.exists()


def test_a_bad_studio_toml_is_told_before_anything_is_created_or_locked(tmp_path: Path) -> None:
    config = tmp_path / "studio.toml"
    config.write_text('base_currency = "USD"\nfiscal_year_start_month = "April"\n', encoding="utf-8")
    args = ["run", "--landing", str(SMALL_STUDIO), "--as-of", SMALL_AS_OF, "--config", str(config)]
    fresh = run_main(*args, "--warehouse", str(tmp_path / "new"))
    assert fresh.returncode == 2, fresh.stderr
    assert "fiscal_year_start_month" in fresh.stderr and fresh.stdout.strip() == "[]"
    assert not (tmp_path / "new").exists()
    layout = WarehouseLayout(tmp_path / "busy")
    layout.ensure()
    with refresh_lock(layout):  # a refresh running: still the usage error, not "another refresh"
        busy = run_main(*args, "--warehouse", str(layout.root))
    assert busy.returncode == 2 and "another refresh" not in busy.stderr, busy.stderr
