"""Crash safety of a refresh (SPEC §5): real `studio-budget run` processes, a real kill -9 at each pause point.

A killed refresh must leave the published warehouse (studio.duckdb, exports/) at its last good publication, and
the next run must complete and publish what the killed one could not. Readers never block a refresh, a refresh never
blocks a reader, and a second refresh of the same warehouse is refused while one runs.

It starts from a copy of the session's published small studio (as-of 2025-03-15) with one new landing file, so
that a run has real work: gl_actuals_more.csv, two March crew lines on P1/5100 in USD. One refresh is killed at
each stage in turn on that warehouse — ingest, checks, before dbt, inside dbt's build (the refresh process alone,
so its dbt must die with it), publish, exports — each run being the next run of the one killed before it; a second
refresh is tried while the first is held at "dbt" and at "publish"; then the run that completes does so while a
reader holds studio.duckdb open. One killed run per stage and one recovery: the tests assert on what each saw.
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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, copy_warehouse, query
from tests.test_end_to_end import mart_snapshot

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("crash")]

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


@dataclass(frozen=True)
class Workspace:
    landing: Path
    warehouse: Path
    folder: Path

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


# --- one refresh killed at every stage in turn, then the run that completes --------------------------------------


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


@dataclass
class SecondRefresh:
    """A second refresh of the same warehouse started while the first is held at its pause point."""

    run: Finished
    changed_nothing_published: bool  # lake, studio.duckdb, exports
    dbt_log_before: bytes  # the first refresh's output (its landing files, then dbt's), before and after
    dbt_log_after: bytes


@dataclass
class Kill:
    """One refresh killed at one moment: where it had got to, what readers saw, what the kill left."""

    point: str
    seconds_to_kill: float
    reader_while_paused: str  # the publication a reader opened while the run was held there
    survivors: list[str]  # processes of the killed run still alive after the kill
    before: PublishedState
    after_kill: PublishedState
    evidence: dict[str, object]
    leftovers_after_kill: list[str]
    second_refresh: SecondRefresh | None = None


@dataclass
class Chain:
    """The kills in stage order on one warehouse, each run the next run of the one killed before it."""

    baseline: Baseline
    kills: dict[str, Kill]
    recovery: Recovery


# a second refresh is tried while the first is held at these points
SECOND_REFRESH_AT = ("dbt", "publish")
DBT_BUILD = "inside dbt build"
STAGES = ("ingest", "checks", "dbt", DBT_BUILD, "publish", "exports")


def second_refresh(workspace: Workspace) -> SecondRefresh:
    before = (workspace.lake_files(), published_state(workspace.warehouse))
    log_before = workspace.dbt_log.read_bytes()  # the first refresh is held: its log does not grow meanwhile
    run = run_refresh(workspace.landing, workspace.warehouse)
    after = (workspace.lake_files(), published_state(workspace.warehouse))
    return SecondRefresh(run, after == before, log_before, workspace.dbt_log.read_bytes())


def kill_at_pause_point(workspace: Workspace, point: str) -> Kill:
    """Hold a refresh at a pause point (see orchestration/lib/faults.py), look around, then kill -9 its group."""
    before = published_state(workspace.warehouse)
    marker = workspace.folder / f"paused-{point}"
    workspace.dbt_log.unlink(missing_ok=True)  # the log a poll reads is this run's
    started = time.monotonic()
    run = Background.start(
        workspace.landing,
        workspace.warehouse,
        workspace.folder / f"killed-at-{point}.out",
        STUDIO_PAUSE_AT=point,
        STUDIO_PAUSE_MARKER=str(marker),
    )
    second = None
    try:
        run.wait_for(marker.exists, f"pause point {point!r}")
        assert marker.read_text(encoding="utf-8") == point
        seconds_to_kill = round(time.monotonic() - started, 1)
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
    return Kill(
        point,
        seconds_to_kill,
        reader,
        survivors,
        before,
        published_state(workspace.warehouse),
        evidence,
        leftovers(workspace.warehouse),
        second,
    )


def kill_only_the_cli_inside_dbt_build(workspace: Workspace) -> Kill:
    """`kill -9 <pid>` of the refresh process alone (an operator, the OOM killer) once dbt builds the marts:
    its dbt must die with it rather than hold the build database."""
    before = published_state(workspace.warehouse)
    workspace.dbt_log.unlink(missing_ok=True)
    started = time.monotonic()
    run = Background.start(workspace.landing, workspace.warehouse, workspace.folder / "killed-in-dbt.out")
    try:
        run.wait_for(lambda: workspace.dbt_log_has("START sql table model marts."), "dbt building the marts")
        seconds_to_kill = round(time.monotonic() - started, 1)
        os.kill(run.process.pid, signal.SIGKILL)
        run.process.wait(timeout=60)
        survivors = wait_group_gone(run.process.pid, 5)
    finally:
        run.kill_group()  # whatever of the killed run is still running
    log = workspace.dbt_log.read_text(errors="replace")
    evidence = {"marts_started": "START sql table model marts." in log, "build_finished": "Finished running" in log}
    return Kill(
        DBT_BUILD,
        seconds_to_kill,
        "",
        survivors,
        before,
        published_state(workspace.warehouse),
        evidence,
        leftovers(workspace.warehouse),
    )


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
    """The next normal run after the kills (under a reader holding studio.duckdb), and what it published."""

    run: Finished
    state: PublishedState
    mart_tables: dict[str, int]
    new_costs: list[tuple]
    new_loads: list[tuple]  # audit.loads rows of the new file
    published_loads: list[tuple]  # audit.publication_loads rows of the new file
    leftovers: list[str]
    held_reader: HeldReader


def recover(workspace: Workspace) -> Recovery:
    run, held = refresh_under_a_held_reader(workspace)
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


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")  # one worker runs its group: built once, whatever runs between
def chain(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The published small studio with one new good landing file; a refresh killed at each stage in turn, then
    the run that completes."""
    folder = tmp_path_factory.mktemp("crash")
    landing, warehouse = folder / "landing", folder / "warehouse"
    shutil.copytree(SMALL_STUDIO, landing)
    copy_warehouse(small_warehouse, warehouse)
    state = published_state(warehouse)
    assert len(state.publication_ids) == 1
    assert state.line_item == OLD_LINE_ITEM
    assert state.exports == mart_tables(warehouse / "studio.duckdb")
    assert sum(status == "accepted" for _, _, status in state.loads) == ACCEPTED_LOADS_BEFORE
    (landing / NEW_GL_FILE).write_text(NEW_GL_LINES, encoding="utf-8")
    baseline = Baseline(landing, warehouse, state)
    workspace = Workspace(landing, warehouse, folder)
    kills = {}
    for stage in STAGES:
        if stage == DBT_BUILD:
            kill = kill_only_the_cli_inside_dbt_build(workspace)
        else:
            kill = kill_at_pause_point(workspace, stage)
        kills[stage] = kill
        report(
            f"[{stage}] killed after {kill.seconds_to_kill} s; published sha unchanged: "
            f"{kill.after_kill.sha256 == kill.before.sha256}; leftovers after the kill: {kill.leftovers_after_kill}"
        )
    return Chain(baseline, kills, recover(workspace))


# --- assertions -------------------------------------------------------------------------------------------------


def assert_published_unchanged(before: PublishedState, after: PublishedState) -> None:
    assert after.sha256 == before.sha256, "studio.duckdb changed on disk"
    assert after.publication_ids == before.publication_ids
    assert after.marts == before.marts
    assert after.loads == before.loads
    assert after.line_item == OLD_LINE_ITEM
    assert (after.exports_target, after.exports) == (before.exports_target, before.exports)


def report(*lines: object) -> None:
    print("\n".join(str(line) for line in lines))


# --- tests ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_a_kill_at_any_stage_leaves_the_last_publication_whole(stage: str, chain: Chain) -> None:
    killed = chain.kills[stage]
    baseline = chain.baseline.state
    assert killed.survivors == [], "processes of the killed run still alive"
    if stage != DBT_BUILD:  # a refresh held at its pause point kept no reader out
        assert killed.reader_while_paused == killed.after_kill.publication_id
    evidence = killed.evidence
    if stage == "ingest":  # the load's Parquet and manifest written, its folder not yet renamed into the lake
        assert len(evidence["incoming"]) == 1 and evidence["incoming_files"] == ["_load.json", "data.parquet"]
        assert len(evidence["gl_loads"]) == 1
    elif stage == "checks":  # the half load of the run before is gone; the file is read again, not yet checked
        assert {name.split("-")[0] for name in evidence["validation"]} == {"gl_actuals"}
        assert evidence["incoming"] == [] and len(evidence["gl_loads"]) == 1
    elif stage == "dbt":  # the load accepted into the lake (once), dbt not started
        assert len(evidence["gl_loads"]) == 2 and evidence["publishing"] == [] and evidence["validation"] == []
    elif stage == DBT_BUILD:
        assert evidence["marts_started"] and not evidence["build_finished"]
    elif stage == "publish":  # the new file fully written beside the published one
        assert len([n for n in evidence["publishing"] if n.endswith(".duckdb")]) == 1
        assert len(evidence["export_generations"]) == 2

    if stage != "exports":
        assert_published_unchanged(baseline, killed.after_kill)
        return
    # studio.duckdb is replaced by one rename: whichever publication it holds, it holds it whole
    before, after = killed.before, killed.after_kill
    if after.publication_id == before.publication_id:
        assert_published_unchanged(before, after)
    else:
        assert after.publication_ids == (before.publication_id, after.publication_id)
        assert after.line_item == NEW_LINE_ITEM
        assert sum(status == "accepted" for _, _, status in after.loads) == ACCEPTED_LOADS_AFTER
        assert after.marts["fct_budget_lines"] == before.marts["fct_budget_lines"]
    # the exports link was not switched yet: still the last complete generation
    assert (after.exports_target, after.exports) == (before.exports_target, before.exports)


def test_the_next_run_completes_and_publishes_each_new_line_once(chain: Chain) -> None:
    baseline, recovery = chain.baseline, chain.recovery
    run, state = recovery.run, recovery.state
    assert run.exit_code == 0, run.stderr[-3000:]
    # the load reached the lake once: every landing file (the small studio's and the new one) is already loaded
    landing = sorted(p.name for p in baseline.landing.iterdir() if p.suffix == ".csv")
    assert NEW_GL_FILE in landing and len(landing) == 8
    assert f"loaded 0 rows from 0 new files; {len(landing)} already loaded" in run.stderr
    assert baseline.state.publication_id in state.publication_ids
    assert state.publication_id > chain.kills["exports"].after_kill.publication_id
    assert state.line_item == NEW_LINE_ITEM
    assert recovery.new_costs == NEW_COSTS
    assert [status for _, status in recovery.new_loads] == ["accepted"]
    assert recovery.published_loads == [(state.publication_id, recovery.new_loads[0][0])]
    assert sum(status == "accepted" for _, _, status in state.loads) == ACCEPTED_LOADS_AFTER
    assert state.marts["fct_budget_lines"] == baseline.state.marts["fct_budget_lines"]  # only P1's actuals moved
    # exports are this publication's, one file per mart with its rows; nothing any killed run left remains
    assert state.exports_target == f"_internal/exports/{state.publication_id}"
    assert state.exports == recovery.mart_tables
    assert recovery.leftovers == []
    report(f"[recovery] exit {run.exit_code} in {run.seconds} s, publications {state.publication_ids}")


@pytest.mark.parametrize("stage", SECOND_REFRESH_AT)
def test_second_refresh_is_refused_while_one_runs(stage: str, chain: Chain) -> None:
    second = chain.kills[stage].second_refresh
    assert second is not None
    assert second.run.exit_code == 1, second.run.stderr
    assert "another refresh" in second.run.stderr
    assert second.changed_nothing_published


def test_refused_refresh_leaves_the_running_refresh_log_alone(chain: Chain) -> None:
    """At "publish" the first refresh has checked its landing files and its dbt has finished: both are in the log."""
    second = chain.kills["publish"].second_refresh
    assert second.dbt_log_before.startswith(b"checking ")  # the first landing file the gate took
    assert b"\nRunning with dbt=" in second.dbt_log_before
    assert second.dbt_log_after == second.dbt_log_before


def test_held_reader_keeps_its_snapshot_and_does_not_block_a_refresh(chain: Chain) -> None:
    recovery = chain.recovery
    held = recovery.held_reader
    assert recovery.run.exit_code == 0, recovery.run.stderr[-3000:]
    live = chain.kills["exports"].after_kill  # what readers had when the run began
    old = (live.publication_id, len(live.marts["fct_actual_costs"]), str(live.line_item[1]))
    assert held.before == old
    assert held.during and set(held.during) == {old}, "the held reader saw its snapshot change"
    assert held.after == old
    assert recovery.state.sha256 != live.sha256
    new = (recovery.state.publication_id, len(recovery.state.marts["fct_actual_costs"]), "1499.75")
    assert held.new_reader_after == new
    report(f"[reader] {len(held.during)} reads during the refresh; held {held.after}; new {held.new_reader_after}")


def test_publication_readers_saw_stays_in_the_audit_trail(chain: Chain) -> None:
    seen_by_readers = chain.kills["exports"].after_kill.publication_id
    assert seen_by_readers != chain.baseline.state.publication_id  # the killed run's publication was live
    assert seen_by_readers in chain.recovery.state.publication_ids
