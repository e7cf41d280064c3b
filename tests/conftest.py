"""Shared fixtures: real pipeline runs on temporary warehouses (no mocks of the database)."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SMALL_STUDIO = FIXTURES / "small_studio"
SMALL_AS_OF = "2025-03-15"


def refresh(landing: Path, warehouse: Path, as_of: str = "", config: Path | None = None):
    """One real refresh through the Dagster asset graph."""
    from orchestration.defs.resources import StudioSettings
    from orchestration.refresh import refresh as run_refresh

    return run_refresh(StudioSettings.for_run(landing, warehouse, as_of or None, config))


def query(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def rows(database: Path, sql: str, params: list | None = None) -> list[dict]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made small studio, refreshed once at as-of 2025-03-15 with a January fiscal year."""
    warehouse = tmp_path_factory.mktemp("small") / "warehouse"
    result = refresh(SMALL_STUDIO, warehouse, SMALL_AS_OF)
    assert result.success, result.failures
    assert result.rejected == []
    return warehouse


@pytest.fixture(scope="session")
def small_db(small_warehouse: Path) -> Path:
    return small_warehouse / "studio.duckdb"


@pytest.fixture
def line_item(small_db: Path) -> Callable[[str, str, str], dict]:
    def get(period: str, project: str, account: str) -> dict:
        found = rows(
            small_db,
            "SELECT * FROM marts.mart_line_item_variance WHERE period = ? AND project_code = ? AND account_code = ?",
            [period, project, account],
        )
        assert len(found) == 1, (period, project, account, found)
        return found[0]

    return get


def cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class CliRun:
    """`studio-budget run` as a user runs it: a real process, its exit code and its output."""

    landing: Path
    warehouse: Path
    as_of: date
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160"},
    )


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The bundled sample studio through `studio-budget run` with every default but the warehouse."""
    from orchestration.lib.config import SAMPLE_LANDING_DIR, default_as_of

    warehouse = tmp_path_factory.mktemp("sample") / "warehouse"
    done = run_cli("run", "--warehouse", str(warehouse))
    return CliRun(
        SAMPLE_LANDING_DIR, warehouse, default_as_of(SAMPLE_LANDING_DIR), done.returncode, done.stdout, done.stderr
    )


def _silence_teardown() -> None:
    """Interpreter teardown (after pytest's summary) writes to /dev/null: the duckdb binding's leak report."""
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


atexit.register(_silence_teardown)
