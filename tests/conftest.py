"""Shared fixtures: real pipeline runs on temporary warehouses (no mocks of the database).

A full refresh is the most expensive thing a test can do, so the session builds each published warehouse once
(the small studio, the bundled sample), shared by every pytest-xdist worker; a test that changes one copies it.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from filelock import FileLock

if TYPE_CHECKING:
    from orchestration.lib.config import WarehouseLayout

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


def shared_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder every pytest-xdist worker of this session sees (the session's own base folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if worker_id != "master" else base


def build_once(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """`root/name`, built by whichever worker of the session asks first; the others wait for it, then reuse it.

    Shared builds are read-only: a test that changes a warehouse works on a copy (`copy_warehouse`)."""
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


def compiled_test(warehouse: Path, prefix: str) -> str:
    """The SQL of the one dbt test whose name starts with `prefix`, as the warehouse's last build compiled it."""
    compiled = warehouse / "_internal" / "dbt_target" / "compiled"
    found = sorted(compiled.rglob(f"{prefix}*.sql"))
    assert len(found) == 1, found
    return found[0].read_text(encoding="utf-8")


def two_file_studio(tmp_path: Path) -> tuple[Path, WarehouseLayout]:
    """A landing folder of two small files (projects, one ledger file) and a warehouse with a published file."""
    from orchestration.lib.config import WarehouseLayout

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "projects.csv").write_text("project_code\nP1\n", encoding="utf-8")
    (landing / "gl_actuals_1.csv").write_text("txn_id\nT1\n", encoding="utf-8")
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    layout.published_db.write_bytes(b"published")
    return landing, layout


def copy_warehouse(source: Path, destination: Path) -> None:
    """A copy that is a warehouse of its own (its `exports` link stays inside the copy)."""
    shutil.copytree(source, destination, symlinks=True)
    link = destination / "exports"
    if link.is_symlink():
        target = Path(os.readlink(link))
        if target.is_absolute() and target.is_relative_to(source):
            relinked = link.with_name(".exports-relinked")
            relinked.symlink_to(destination / target.relative_to(source), target_is_directory=True)
            os.replace(relinked, link)


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The hand-made small studio, refreshed once per test session at as-of 2025-03-15 (January fiscal year)."""

    def build(folder: Path) -> None:
        result = refresh(SMALL_STUDIO, folder / "warehouse", SMALL_AS_OF)
        assert result.success, result.failures
        assert result.rejected == []

    return build_once(shared_root(tmp_path_factory, worker_id), "small", build) / "warehouse"


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
    temp_left: tuple[str, ...] = ()  # what the run left in its temporary folder (TMPDIR)


def run_cli(
    *args: str, cwd: Path | None = None, timeout: int = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
    )


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> CliRun:
    """The bundled sample studio through `studio-budget run` with every default but the warehouse, once per session."""
    from orchestration.lib.config import SAMPLE_LANDING_DIR, default_as_of

    def build(folder: Path) -> None:
        # piped, with FORCE_COLOR set as CI services set it: the output must still carry no control sequence
        temp = folder / "tmp"
        temp.mkdir()
        done = run_cli("run", "--warehouse", str(folder / "warehouse"), env={"FORCE_COLOR": "1", "TMPDIR": str(temp)})
        left = sorted(p.name for p in temp.iterdir())
        (folder / "run.json").write_text(
            json.dumps({"exit_code": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "temp_left": left}),
            encoding="utf-8",
        )

    folder = build_once(shared_root(tmp_path_factory, worker_id), "sample", build)
    done = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return CliRun(
        SAMPLE_LANDING_DIR,
        folder / "warehouse",
        default_as_of(SAMPLE_LANDING_DIR),
        done["exit_code"],
        done["stdout"],
        done["stderr"],
        tuple(done["temp_left"]),
    )


def _silence_teardown() -> None:
    """Interpreter teardown (after pytest's summary) writes to /dev/null: the duckdb binding's leak report."""
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


atexit.register(_silence_teardown)
