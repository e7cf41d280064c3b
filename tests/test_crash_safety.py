"""Crash safety of a refresh (SPEC §5): real `studio-budget run` processes, a real kill -9 at each pause point.

A killed refresh must leave the published warehouse (studio.duckdb, exports/) at its last good publication, and
the next run must complete and publish what the killed one could not. Readers never block a refresh, a refresh never
blocks a reader, and a second refresh of the same warehouse is refused while one runs.

Every scenario starts from a copy of one published warehouse (the small studio at as-of 2025-03-15) with one new
landing file, so that the next run has real work: gl_actuals_more.csv, two March crew lines on P1/5100 in USD.
A refresh takes most of a minute here, so the scenarios run two at a time in the background (each on its own copy)
and each test waits for its scenario's observations and asserts on them. To save refreshes, some scenarios serve two
tests: the second refresh is tried while the first is held at "dbt" and at "publish", and the run after the kill at
"checks" is the one a reader holds studio.duckdb open through.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, query
from tests.test_end_to_end import mart_snapshot

REPO_ROOT = Path(__file__).resolve().parents[1]
POINTS = ("ingest", "checks", "dbt", "publish", "exports")
MARKER_WAIT = 300  # seconds a run may take to reach its pause point
RUN_TIMEOUT = 600
GROUP_EXIT_WAIT = 30

NEW_GL_FILE = "gl_actuals_more.csv"
NEW_GL_LINES = (
    "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n"
    "G9,2025-03-03,P1,5100,Crew Co,March crew,1234.50,USD,\n"
    "G10,2025-03-10,P1,5100,Crew Co,March overtime,265.25,USD,\n"
)
# P1/5100 in 2025-03 before the new file: budget 4,133.34 (V2's 12,000 spread over Jan-Mar), no actual;
# 3,500.00 year to date (G1 in January).
# After it: actual = 0 + 1,234.50 + 265.25 = 1,499.75; variance = 1,499.75 - 4,133.34 = -2,633.59;
# ytd_actual = 3,500.00 + 1,499.75 = 4,999.75.
LINE_ITEM_SQL = (
    "SELECT budget, actual, variance, ytd_actual FROM marts.mart_line_item_variance "
    "WHERE project_code = 'P1' AND account_code = '5100' AND period = DATE '2025-03-01'"
)
OLD_LINE_ITEM = (Decimal("4133.34"), Decimal("0.00"), Decimal("-4133.34"), Decimal("3500.00"))
NEW_LINE_ITEM = (Decimal("4133.34"), Decimal("1499.75"), Decimal("-2633.59"), Decimal("4999.75"))
NEW_COSTS_SQL = (
    "SELECT source_id, amount_base FROM marts.fct_actual_costs WHERE source_id IN ('G9', 'G10') ORDER BY source_id"
)
NEW_COSTS = [("G10", Decimal("265.25")), ("G9", Decimal("1234.50"))]
ACCEPTED_LOADS_BEFORE, ACCEPTED_LOADS_AFTER = 7, 8


# --- what a warehouse looks like to a reader ------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedState:
    """What readers see: the published file's bytes, its marts and audit trail, and the Parquet exports."""

    sha256: str
    publication_ids: tuple[str, ...]
    marts: dict[str, list[tuple]]
    loads: list[tuple]
    line_item: tuple
    exports_target: str  # where `exports` points, relative to the warehouse
    exports: dict[str, int]  # file name -> rows

    @property
    def publication_id(self) -> str:
        return max(self.publication_ids)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exports_rows(warehouse: Path) -> tuple[str, dict[str, int]]:
    link = warehouse / "exports"
    target = link.resolve().relative_to(warehouse.resolve()).as_posix()
    with duckdb.connect() as con:
        counts = {
            p.name: con.execute("SELECT count(*) FROM read_parquet(?)", [str(p)]).fetchone()[0]
            for p in sorted(link.glob("*.parquet"))
        }
    return target, counts


def published_state(warehouse: Path) -> PublishedState:
    database = warehouse / "studio.duckdb"
    target, counts = exports_rows(warehouse)
    return PublishedState(
        sha256=sha256_file(database),
        publication_ids=tuple(
            r[0] for r in query(database, "SELECT publication_id FROM audit.publications ORDER BY 1")
        ),
        marts=mart_snapshot(database),
        loads=query(database, "SELECT load_id, file_name, status FROM audit.loads ORDER BY ALL"),
        line_item=query(database, LINE_ITEM_SQL)[0],
        exports_target=target,
        exports=counts,
    )


def mart_tables(database: Path) -> dict[str, int]:
    names = [r[0] for r in query(database, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'")]
    return {f"{n}.parquet": query(database, f'SELECT count(*) FROM marts."{n}"')[0][0] for n in sorted(names)}


def leftovers(warehouse: Path) -> list[str]:
    """What a crashed run may leave and the next run must clean: half loads, half publications, work databases."""
    found = [
        *warehouse.glob("lake/*/.incoming-*"),
        *warehouse.glob("_internal/publishing-*.duckdb*"),
        *warehouse.glob("_internal/validation/*"),
    ]
    return sorted(str(p.relative_to(warehouse)) for p in found)


# --- real processes ---------------------------------------------------------------------------------------------


def cli_command(landing: Path, warehouse: Path) -> list[str]:
    return [
        sys.executable, "-m", "orchestration.cli", "run",
        "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", SMALL_AS_OF,
    ]  # fmt: skip


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STUDIO_PAUSE_AT", "STUDIO_PAUSE_MARKER")}
    return {**env, "COLUMNS": "160", **extra}


@dataclass(frozen=True)
class Finished:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float


def run_refresh(landing: Path, warehouse: Path) -> Finished:
    started = time.monotonic()
    done = subprocess.run(
        cli_command(landing, warehouse),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=cli_env(),
        timeout=RUN_TIMEOUT,
    )
    return Finished(done.returncode, done.stdout, done.stderr, round(time.monotonic() - started, 1))


@dataclass
class Background:
    """A refresh in its own session (process group), so that one kill reaches it and its dbt subprocess."""

    process: subprocess.Popen
    output: Path

    @classmethod
    def start(cls, landing: Path, warehouse: Path, output: Path, **env: str) -> Background:
        with output.open("wb") as sink:
            process = subprocess.Popen(
                cli_command(landing, warehouse),
                cwd=REPO_ROOT,
                env=cli_env(**env),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(process, output)

    def wait_for(self, ready: Callable[[], bool], what: str, limit: float = MARKER_WAIT) -> None:
        deadline = time.monotonic() + limit
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended ({self.process.returncode}) before {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the run did not reach {what} within {limit} s:\n{self.tail()}")
            time.sleep(0.2)

    def kill_group(self) -> list[str]:
        """kill -9 the whole run (the CLI and its dbt); the processes of the group still alive afterwards."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        return wait_group_gone(self.process.pid, GROUP_EXIT_WAIT)

    def tail(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")[-3000:]


def group_members(group: int) -> list[str]:
    """Live (not zombie) processes of a process group, as 'pid command'."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, _parent, process_group = text.rsplit(")", 1)[1].split()[:3]
        if int(process_group) == group and state != "Z":
            members.append(f"{stat.parent.name} {command.strip()[:160]}")
    return members


def wait_group_gone(group: int, limit: float) -> list[str]:
    deadline = time.monotonic() + limit
    while (members := group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return members


def new_process_reads(database: Path, sql: str) -> list[list]:
    """A query from a fresh process: DuckDB caches databases by path within a process, so the test process
    would be handed back its own open (old) database instead of the file now at that path."""
    script = (
        "import duckdb, json, sys\n"
        "with duckdb.connect(sys.argv[1], read_only=True) as con:\n"
        "    print(json.dumps(con.execute(sys.argv[2]).fetchall(), default=str))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(database), sql], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


# --- the published warehouse every scenario starts from --------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    landing: Path
    warehouse: Path
    state: PublishedState
    first_run: Finished


def copy_warehouse(source: Path, destination: Path) -> None:
    """A copy that is a warehouse of its own: `exports` is an absolute link, so point it into the copy."""
    shutil.copytree(source, destination, symlinks=True)
    link = destination / "exports"
    target = Path(os.readlink(link))
    if target.is_absolute() and target.is_relative_to(source):
        relinked = link.with_name(".exports-relinked")
        relinked.symlink_to(destination / target.relative_to(source), target_is_directory=True)
        os.replace(relinked, link)


@dataclass(frozen=True)
class Workspace:
    landing: Path
    warehouse: Path
    folder: Path

    @classmethod
    def from_baseline(cls, baseline: Baseline, folder: Path) -> Workspace:
        folder.mkdir(parents=True)
        shutil.copytree(baseline.landing, folder / "landing")
        copy_warehouse(baseline.warehouse, folder / "warehouse")
        # the copied log is the first run's; a run rewrites it, and a poll must only see this run's lines
        (folder / "warehouse" / "_internal" / "dbt_output.log").unlink(missing_ok=True)
        return cls(folder / "landing", folder / "warehouse", folder)

    @property
    def database(self) -> Path:
        return self.warehouse / "studio.duckdb"

    @property
    def dbt_log(self) -> Path:
        return self.warehouse / "_internal" / "dbt_output.log"

    def dbt_log_has(self, text: str) -> bool:
        return self.dbt_log.exists() and text.encode() in self.dbt_log.read_bytes()

    def lake_files(self) -> list[str]:
        return sorted(str(p.relative_to(self.warehouse)) for p in (self.warehouse / "lake").rglob("*"))

    def lake_loads(self, source: str) -> list[str]:
        return sorted(p.name for p in (self.warehouse / "lake" / source).glob("load_id=*"))


# --- scenarios: each returns what it observed; the tests below assert on it -----------------------------------


READER_SQL = (
    "SELECT (SELECT max(publication_id) FROM audit.publications), (SELECT count(*) FROM marts.fct_actual_costs), "
    f"(SELECT CAST(actual AS VARCHAR) FROM ({LINE_ITEM_SQL}))"
)


@dataclass
class HeldReader:
    """A reader that kept one read-only connection on studio.duckdb open for a whole refresh."""

    before: tuple
    during: list[tuple]
    after: tuple
    new_reader_after: tuple  # a connection opened (in another process) after the refresh, the old one still open


def refresh_under_a_held_reader(workspace: Workspace) -> tuple[Finished, HeldReader]:
    out, err = workspace.folder / "refresh.out", workspace.folder / "refresh.err"
    with duckdb.connect(str(workspace.database), read_only=True) as held:
        before = held.execute(READER_SQL).fetchone()
        with out.open("w") as stdout, err.open("w") as stderr:
            started = time.monotonic()
            process = subprocess.Popen(
                cli_command(workspace.landing, workspace.warehouse),
                cwd=REPO_ROOT,
                env=cli_env(),
                stdout=stdout,
                stderr=stderr,
            )
            during = []
            try:
                while process.poll() is None and time.monotonic() - started < RUN_TIMEOUT:
                    during.append(held.execute(READER_SQL).fetchone())
                    time.sleep(0.5)
            finally:
                if process.poll() is None:
                    process.kill()
                process.wait()
        run = Finished(process.returncode, out.read_text(), err.read_text(), round(time.monotonic() - started, 1))
        after = held.execute(READER_SQL).fetchone()
        new_reader = tuple(new_process_reads(workspace.database, READER_SQL)[0])
    return run, HeldReader(before, during, after, new_reader)


@dataclass
class Recovery:
    """The next normal run after a kill, and the warehouse it published."""

    run: Finished
    state: PublishedState
    mart_tables: dict[str, int]
    new_costs: list[tuple]
    new_loads: list[tuple]  # audit.loads rows of the new file
    published_loads: list[tuple]  # audit.publication_loads rows of the new file
    leftovers: list[str]
    held_reader: HeldReader | None = None


def recover(workspace: Workspace, hold_a_reader: bool = False) -> Recovery:
    held = None
    if hold_a_reader:
        run, held = refresh_under_a_held_reader(workspace)
    else:
        run = run_refresh(workspace.landing, workspace.warehouse)
    database = workspace.database
    return Recovery(
        run=run,
        state=published_state(workspace.warehouse),
        mart_tables=mart_tables(database),
        new_costs=query(database, NEW_COSTS_SQL),
        new_loads=query(database, "SELECT load_id, status FROM audit.loads WHERE file_name = ?", [NEW_GL_FILE]),
        published_loads=query(
            database, "SELECT publication_id, load_id FROM audit.publication_loads WHERE file_name = ?", [NEW_GL_FILE]
        ),
        leftovers=leftovers(workspace.warehouse),
        held_reader=held,
    )


@dataclass
class SecondRefresh:
    """A second refresh of the same warehouse started while the first is held at its pause point."""

    run: Finished
    changed_nothing_published: bool  # lake, studio.duckdb, exports
    dbt_log_before: bytes  # the first refresh's dbt output, its beginning, before and after
    dbt_log_after: bytes


@dataclass
class KillOutcome:
    """A run killed at one moment: what the kill left, what readers saw, and the next run."""

    point: str
    seconds_to_kill: float
    reader_while_paused: str  # the publication a reader opened while the run was held there
    survivors: list[str]  # processes of the killed run still alive after the kill
    after_kill: PublishedState
    evidence: dict[str, object]  # where the killed run had got to
    leftovers_after_kill: list[str]
    recovery: Recovery
    second_refresh: SecondRefresh | None = None


# at these points a second refresh is tried while the first is held; the next run after "checks" has a reader
SECOND_REFRESH_AT = ("dbt", "publish")
HELD_READER_AT = "checks"


def second_refresh(workspace: Workspace) -> SecondRefresh:
    before = (workspace.lake_files(), published_state(workspace.warehouse))
    log_before = workspace.dbt_log.read_bytes()[:40]
    run = run_refresh(workspace.landing, workspace.warehouse)
    after = (workspace.lake_files(), published_state(workspace.warehouse))
    return SecondRefresh(run, after == before, log_before, workspace.dbt_log.read_bytes()[:40])


def kill_at_pause_point(baseline: Baseline, folder: Path, point: str) -> KillOutcome:
    workspace = Workspace.from_baseline(baseline, folder)
    marker = folder / "paused"
    started = time.monotonic()
    run = Background.start(
        workspace.landing,
        workspace.warehouse,
        folder / "killed_run.out",
        STUDIO_PAUSE_AT=point,
        STUDIO_PAUSE_MARKER=str(marker),
    )
    second = None
    try:
        run.wait_for(marker.exists, f"pause point {point!r}")
        assert marker.read_text(encoding="utf-8") == point
        seconds_to_kill = round(time.monotonic() - started, 1)
        # a refresh held at this point blocks no reader
        reader = query(workspace.database, "SELECT max(publication_id) FROM audit.publications")[0][0]
        if point in SECOND_REFRESH_AT:
            second = second_refresh(workspace)
        evidence: dict[str, object] = {
            "incoming": sorted(p.name for p in workspace.warehouse.glob("lake/gl_actuals/.incoming-*")),
            "incoming_files": sorted(p.name for p in workspace.warehouse.glob("lake/gl_actuals/.incoming-*/*")),
            "gl_loads": workspace.lake_loads("gl_actuals"),
            "validation": sorted(p.name for p in workspace.warehouse.glob("_internal/validation/*")),
            "publishing": sorted(p.name for p in workspace.warehouse.glob("_internal/publishing-*.duckdb*")),
            "export_generations": sorted(p.name for p in workspace.warehouse.glob("_internal/exports/*")),
        }
    finally:
        survivors = run.kill_group()
    return KillOutcome(
        point=point,
        seconds_to_kill=seconds_to_kill,
        reader_while_paused=reader,
        survivors=survivors,
        after_kill=published_state(workspace.warehouse),
        evidence=evidence,
        leftovers_after_kill=leftovers(workspace.warehouse),
        recovery=recover(workspace, hold_a_reader=point == HELD_READER_AT),
        second_refresh=second,
    )


def kill_during_dbt_build(baseline: Baseline, folder: Path) -> KillOutcome:
    """Not before dbt but inside it: once dbt has started building the marts."""
    workspace = Workspace.from_baseline(baseline, folder)
    started = time.monotonic()
    run = Background.start(workspace.landing, workspace.warehouse, folder / "killed_run.out")
    try:
        run.wait_for(lambda: workspace.dbt_log_has("START sql table model marts."), "dbt building the marts")
        seconds_to_kill = round(time.monotonic() - started, 1)
    finally:
        survivors = run.kill_group()
    log_lines = [line for line in workspace.dbt_log.read_text(errors="replace").splitlines() if " of " in line]
    return KillOutcome(
        point="inside dbt build",
        seconds_to_kill=seconds_to_kill,
        reader_while_paused="",
        survivors=survivors,
        after_kill=published_state(workspace.warehouse),
        evidence={"last_dbt_line": log_lines[-1] if log_lines else ""},
        leftovers_after_kill=leftovers(workspace.warehouse),
        recovery=recover(workspace),
    )


@dataclass
class OrphanOutcome:
    survivors: list[str]
    next_run: Finished
    sha_before: str
    sha_after_next_run: str


def kill_only_the_cli_during_dbt(baseline: Baseline, folder: Path) -> OrphanOutcome:
    """`kill -9 <pid>` of the refresh process alone (an operator, the OOM killer), as dbt starts building."""
    workspace = Workspace.from_baseline(baseline, folder)
    sha_before = sha256_file(workspace.database)
    run = Background.start(workspace.landing, workspace.warehouse, folder / "killed_run.out")
    try:
        run.wait_for(lambda: workspace.dbt_log_has("START sql"), "dbt's first model")
        os.kill(run.process.pid, signal.SIGKILL)
        run.process.wait(timeout=60)
        survivors = wait_group_gone(run.process.pid, 2)
        next_run = run_refresh(workspace.landing, workspace.warehouse)
    finally:
        run.kill_group()  # whatever of the killed run is still running
    return OrphanOutcome(survivors, next_run, sha_before, sha256_file(workspace.database))


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The small studio published once; then one new good landing file waits for the next run."""
    folder = tmp_path_factory.mktemp("crash_baseline")
    landing, warehouse = folder / "landing", folder / "warehouse"
    shutil.copytree(SMALL_STUDIO, landing)
    first = run_refresh(landing, warehouse)
    assert first.exit_code == 0, first.stderr
    state = published_state(warehouse)
    assert len(state.publication_ids) == 1
    assert state.line_item == OLD_LINE_ITEM
    assert state.exports == mart_tables(warehouse / "studio.duckdb")
    assert sum(status == "accepted" for _, _, status in state.loads) == ACCEPTED_LOADS_BEFORE
    (landing / NEW_GL_FILE).write_text(NEW_GL_LINES, encoding="utf-8")
    return Baseline(landing, warehouse, state, first)


SCENARIOS: dict[str, Callable[[Baseline, Path], object]] = {
    # longest first: two run at a time
    "publish": lambda b, f: kill_at_pause_point(b, f, "publish"),
    "exports": lambda b, f: kill_at_pause_point(b, f, "exports"),
    "dbt": lambda b, f: kill_at_pause_point(b, f, "dbt"),
    "dbt-build": kill_during_dbt_build,
    "ingest": lambda b, f: kill_at_pause_point(b, f, "ingest"),
    "checks": lambda b, f: kill_at_pause_point(b, f, "checks"),
    "cli-only-kill": kill_only_the_cli_during_dbt,
}
TEST_SCENARIOS = {
    "test_kill_during_the_dbt_build": "dbt-build",
    "test_publication_readers_saw_stays_in_the_audit_trail": "exports",
    "test_refused_refresh_leaves_the_running_refresh_log_alone": "publish",
    "test_held_reader_keeps_its_snapshot_and_does_not_block_a_refresh": HELD_READER_AT,
    "test_kill_of_the_refresh_process_alone_leaves_nothing_running": "cli-only-kill",
}


def wanted_scenarios(items: list[pytest.Item]) -> set[str]:
    wanted = set()
    for item in items:
        if getattr(item, "module", None) is not sys.modules[__name__]:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "point" in callspec.params:
            wanted.add(callspec.params["point"])
        if item.originalname in TEST_SCENARIOS:
            wanted.add(TEST_SCENARIOS[item.originalname])
    return wanted


@pytest.fixture(scope="module")
def scenarios(
    request: pytest.FixtureRequest, baseline: Baseline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future]]:
    root = tmp_path_factory.mktemp("crash_scenarios")
    wanted = wanted_scenarios(request.session.items)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="crash-scenario")
    futures = {name: pool.submit(run, baseline, root / name) for name, run in SCENARIOS.items() if name in wanted}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def outcome(scenarios: dict[str, Future], name: str):
    return scenarios[name].result(timeout=4 * RUN_TIMEOUT)


# --- assertions shared by every kill ----------------------------------------------------------------------------


def assert_published_unchanged(before: PublishedState, after: PublishedState) -> None:
    assert after.sha256 == before.sha256, "studio.duckdb changed on disk"
    assert after.publication_ids == before.publication_ids
    assert after.marts == before.marts
    assert after.loads == before.loads
    assert after.line_item == OLD_LINE_ITEM
    assert (after.exports_target, after.exports) == (before.exports_target, before.exports)


def assert_next_run_completed(baseline: Baseline, recovery: Recovery) -> None:
    run, state = recovery.run, recovery.state
    assert run.exit_code == 0, run.stderr[-3000:]
    # published again, with the new lines, once each
    assert baseline.state.publication_id in state.publication_ids
    assert state.publication_id > baseline.state.publication_id
    assert state.line_item == NEW_LINE_ITEM
    assert recovery.new_costs == NEW_COSTS
    assert [status for _, status in recovery.new_loads] == ["accepted"]
    assert recovery.published_loads == [(state.publication_id, recovery.new_loads[0][0])]
    assert sum(status == "accepted" for _, _, status in state.loads) == ACCEPTED_LOADS_AFTER
    # the untouched lines are as before: only P1's figures moved
    assert state.marts["fct_budget_lines"] == baseline.state.marts["fct_budget_lines"]
    # exports are this publication's, one file per mart with its rows
    assert state.exports_target == f"_internal/exports/{state.publication_id}"
    assert state.exports == recovery.mart_tables
    assert recovery.leftovers == []


def report(*lines: object) -> None:
    print("\n".join(str(line) for line in lines))


# --- tests ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_pause_point_keeps_the_last_publication_and_the_next_run_completes(
    point: str, baseline: Baseline, scenarios: dict[str, Future]
) -> None:
    killed: KillOutcome = outcome(scenarios, point)
    old, after = baseline.state, killed.after_kill
    assert killed.survivors == [], "processes of the killed run still alive"
    # a refresh held at its pause point did not keep a reader out
    assert killed.reader_while_paused == after.publication_id

    evidence = killed.evidence
    if point == "ingest":  # the load's Parquet and manifest written, its folder not yet renamed into the lake
        assert len(evidence["incoming"]) == 1 and evidence["incoming_files"] == ["_load.json", "data.parquet"]
        assert len(evidence["gl_loads"]) == 1
    elif point == "checks":  # staged in its work database, not yet checked
        assert {name.split("-")[0] for name in evidence["validation"]} == {"gl_actuals"}
        assert evidence["incoming"] == [] and len(evidence["gl_loads"]) == 1
    elif point == "dbt":  # the load accepted into the lake, dbt not started
        assert len(evidence["gl_loads"]) == 2 and evidence["publishing"] == []
    elif point == "publish":  # the new file fully written beside the published one
        assert len([n for n in evidence["publishing"] if n.endswith(".duckdb")]) == 1
        assert len(evidence["export_generations"]) == 2

    if point != "exports":
        assert_published_unchanged(old, after)
    else:
        # studio.duckdb is replaced by one rename: whichever publication it holds, it holds it whole
        if after.publication_id == old.publication_id:
            assert_published_unchanged(old, after)
        else:
            assert after.publication_ids == (old.publication_id, after.publication_id)
            assert after.line_item == NEW_LINE_ITEM
            assert sum(status == "accepted" for _, _, status in after.loads) == ACCEPTED_LOADS_AFTER
            assert after.marts["fct_budget_lines"] == old.marts["fct_budget_lines"]
        # the exports link was not switched yet: still the last complete generation
        assert (after.exports_target, after.exports) == (old.exports_target, old.exports)

    recovery = killed.recovery
    assert_next_run_completed(baseline, recovery)
    if point in ("ingest", "checks"):  # the half load was dropped and the file loaded afresh
        assert "loaded 2 rows from 1 new file(s)" in recovery.run.stderr
    else:  # the load had reached the lake: it is not loaded twice
        assert "loaded 0 rows from 0 new file(s); 8 already loaded" in recovery.run.stderr
    report(
        f"[{point}] killed after {killed.seconds_to_kill} s; published sha unchanged: {after.sha256 == old.sha256}; "
        f"published after kill: {after.publication_id}; leftovers after kill: {killed.leftovers_after_kill}",
        f"[{point}] next run: exit {recovery.run.exit_code} in {recovery.run.seconds} s, "
        f"publications {recovery.state.publication_ids}",
    )


def test_kill_during_the_dbt_build(baseline: Baseline, scenarios: dict[str, Future]) -> None:
    killed: KillOutcome = outcome(scenarios, "dbt-build")
    assert killed.survivors == [], "processes of the killed run (dbt) still alive"
    assert "marts." in killed.evidence["last_dbt_line"]
    assert_published_unchanged(baseline.state, killed.after_kill)
    assert_next_run_completed(baseline, killed.recovery)
    assert "loaded 0 rows from 0 new file(s); 8 already loaded" in killed.recovery.run.stderr
    report(
        f"[dbt build] killed after {killed.seconds_to_kill} s at: {killed.evidence['last_dbt_line']}",
        f"[dbt build] next run: exit {killed.recovery.run.exit_code} in {killed.recovery.run.seconds} s",
    )


@pytest.mark.parametrize("point", SECOND_REFRESH_AT)
def test_second_refresh_is_refused_while_one_runs(point: str, baseline: Baseline, scenarios: dict[str, Future]) -> None:
    """The first refresh is held at a pause point, then killed; the run after the kill completes."""
    killed: KillOutcome = outcome(scenarios, point)
    second = killed.second_refresh
    assert second is not None
    assert second.run.exit_code == 1, second.run.stderr
    assert "another refresh" in second.run.stderr
    assert second.changed_nothing_published
    assert_published_unchanged(baseline.state, killed.after_kill)
    assert_next_run_completed(baseline, killed.recovery)
    report(
        f"[second refresh at {point}] exit {second.run.exit_code} in {second.run.seconds} s: "
        f"{second.run.stderr.strip()[-160:]}"
    )


def test_held_reader_keeps_its_snapshot_and_does_not_block_a_refresh(
    baseline: Baseline, scenarios: dict[str, Future]
) -> None:
    """The refresh after the kill at "checks" runs while a reader holds studio.duckdb open, read-only."""
    recovery: Recovery = outcome(scenarios, HELD_READER_AT).recovery
    held = recovery.held_reader
    assert held is not None
    assert recovery.run.exit_code == 0, recovery.run.stderr[-3000:]
    old = (baseline.state.publication_id, len(baseline.state.marts["fct_actual_costs"]), "0.00")
    assert held.before == old
    assert held.during and set(held.during) == {old}, "the held reader saw its snapshot change"
    assert held.after == old
    assert recovery.state.sha256 != baseline.state.sha256
    new = (recovery.state.publication_id, old[1] + 2, "1499.75")
    assert held.new_reader_after == new
    report(
        f"[reader] refresh exit {recovery.run.exit_code} in {recovery.run.seconds} s with a reader held open "
        f"({len(held.during)} reads during it); held reader {held.after}; new reader {held.new_reader_after}"
    )


def test_publication_readers_saw_stays_in_the_audit_trail(baseline: Baseline, scenarios: dict[str, Future]) -> None:
    killed: KillOutcome = outcome(scenarios, "exports")
    seen_by_readers = killed.after_kill.publication_id
    assert seen_by_readers != baseline.state.publication_id  # the killed run's publication was live
    report(f"[audit] live after the kill: {seen_by_readers}; next run's audit: {killed.recovery.state.publication_ids}")
    assert seen_by_readers in killed.recovery.state.publication_ids


def test_refused_refresh_leaves_the_running_refresh_log_alone(baseline: Baseline, scenarios: dict[str, Future]) -> None:
    """At "publish" the first refresh's dbt has finished and its output is in the log."""
    second = outcome(scenarios, "publish").second_refresh
    assert second.run.exit_code == 1 and "another refresh" in second.run.stderr
    assert second.dbt_log_before.startswith(b"Running with dbt=")
    report(
        f"[refused refresh] running refresh's dbt log begins {second.dbt_log_before!r}, "
        f"after the refused one {second.dbt_log_after!r}"
    )
    assert second.dbt_log_after == second.dbt_log_before


def test_kill_of_the_refresh_process_alone_leaves_nothing_running(
    baseline: Baseline, scenarios: dict[str, Future]
) -> None:
    seen: OrphanOutcome = outcome(scenarios, "cli-only-kill")
    assert seen.sha_after_next_run == seen.sha_before or seen.next_run.exit_code == 0  # never damaged
    lock_errors = [line for line in seen.next_run.stderr.splitlines() if "Could not set lock" in line]
    report(
        f"[kill -9 of the CLI alone] still running 2 s later: {seen.survivors}",
        f"[kill -9 of the CLI alone] next run: exit {seen.next_run.exit_code} in {seen.next_run.seconds} s; "
        f"{lock_errors[:1]}",
    )
    assert seen.survivors == []
    assert seen.next_run.exit_code == 0, seen.next_run.stderr[-3000:]
