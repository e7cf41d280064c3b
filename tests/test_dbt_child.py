"""How the pipeline's dbt is started (orchestration/dbt_child.py): a dbt imported in advance serves a refresh's first
dbt command with the same output and exit status as a dbt started for it, serves that one command only, serves no
one else, and dies with the command it serves."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestration.dbt_child import WARM_ENV, Prepared, ends_fast, environment_read, project_files, warm_dbt
from orchestration.lib.config import DBT_PROJECT_DIR, StudioConfig, WarehouseLayout
from orchestration.lib.dbt import dbt_executable, prepare_manifest
from orchestration.lib.dbt_vars import parse_in_advance

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the waiting dbt is Linux's")


def dbt(*args: str) -> subprocess.CompletedProcess[str]:
    """A dbt command as dagster-dbt starts one: the pipeline's executable, in the project's folder."""
    return subprocess.run([dbt_executable(), *args], cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=120)


def wait_until_listening(name: str, deadline: float = 60) -> None:
    """Until the waiting process has its socket (it binds before it imports dbt)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if f"@{name}" in Path("/proc/net/unix").read_text(encoding="utf-8"):
            return
        time.sleep(0.05)
    raise AssertionError(f"no process listens on @{name}")


def test_the_waiting_dbt_serves_one_command_as_a_dbt_started_for_it_would() -> None:
    cold_version, cold_usage = dbt("--version"), dbt("no-such-command")
    assert cold_version.returncode == 0 and "installed:" in cold_version.stdout
    assert cold_usage.returncode == 2 and "No such command 'no-such-command'" in cold_usage.stderr
    for command, cold in ((["--version"], cold_version), (["no-such-command"], cold_usage)):
        with warm_dbt(DBT_PROJECT_DIR) as waiting:
            assert waiting is not None
            wait_until_listening(os.environ[WARM_ENV].split()[0])
            served = dbt(*command)
            assert waiting.wait(timeout=60) == cold.returncode  # it ended with the command: it served it
            after = dbt(*command)  # no process waits any more: dbt is started for the command
        assert (served.returncode, served.stdout, served.stderr) == (cold.returncode, cold.stdout, cold.stderr)
        assert (after.returncode, after.stdout, after.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert WARM_ENV not in os.environ


def test_an_unused_waiting_dbt_is_gone_after_the_run() -> None:
    with warm_dbt(DBT_PROJECT_DIR) as waiting:
        assert waiting is not None
        wait_until_listening(os.environ[WARM_ENV].split()[0])
        assert waiting.poll() is None
    assert waiting.returncode == -signal.SIGKILL


def waiting_children() -> dict[int, int]:
    """This process's waiting dbt processes that are alive: pid -> nice value."""
    found = {}
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text(encoding="utf-8").split():
            with contextlib.suppress(OSError):
                state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"--serve" in command and state != "Z":
                    found[int(pid)] = os.getpriority(os.PRIO_PROCESS, int(pid))
    return found


def test_a_successor_serves_the_next_command_once_the_first_is_taken(tmp_path: Path) -> None:
    """A refresh whose docs are to be made has a second dbt imported in advance for them: started as soon as the
    first took its command (not when that command ends), at the run's priority, and serving the next command as a
    dbt started for it would."""
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    parse = parse_in_advance(StudioConfig(), date(2026, 10, 15), layout)  # as a refresh's first waits: parsing
    cold = dbt("--version")
    with warm_dbt(DBT_PROJECT_DIR, parse, successor=True) as waiting:
        assert waiting is not None
        first, _, second, _ = os.environ[WARM_ENV].split()  # both named from the start
        wait_until_listening(first)
        time.sleep(1)  # were a successor started before the first is taken, it would be by now
        assert waiting_children() == {waiting.pid: os.getpriority(os.PRIO_PROCESS, 0)}
        # a whole parse into a new target folder: seconds of work, far longer than a successor takes to start
        whole_parse = ["parse", "--no-partial-parse", "--target-path", str(tmp_path / "whole")]
        taken = subprocess.Popen(
            [dbt_executable(), *whole_parse],
            cwd=DBT_PROJECT_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_listening(second)
        assert waiting.poll() is None  # the first still runs the command it took
        others = [nice for pid, nice in waiting_children().items() if pid != waiting.pid]
        assert others == [os.getpriority(os.PRIO_PROCESS, 0)]  # one successor, at the run's priority
        assert taken.wait(timeout=120) == 0
        assert waiting.wait(timeout=60) == 0  # the first served it
        again = dbt("--version")  # the first's name is refused now: the command tries the successor's
        end = time.monotonic() + 60
        while waiting_children() and time.monotonic() < end:
            time.sleep(0.05)
        assert waiting_children() == {}  # the successor served it and ended: it serves one command too
        after = dbt("--version")  # no third: dbt is started for the command
    for result in (again, after):
        assert (result.returncode, result.stdout, result.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert WARM_ENV not in os.environ


def test_no_successor_starts_when_the_first_is_not_taken() -> None:
    with warm_dbt(DBT_PROJECT_DIR, successor=True) as waiting:
        assert waiting is not None
        wait_until_listening(os.environ[WARM_ENV].split()[0])
        waiting.kill()  # it ends without a command (as if killed): the next command starts its own dbt
        time.sleep(1)
        assert waiting_children() == {}
    assert waiting.returncode == -signal.SIGKILL
    with warm_dbt(DBT_PROJECT_DIR, successor=True) as waiting:
        assert waiting is not None
        wait_until_listening(os.environ[WARM_ENV].split()[0])
    assert waiting.returncode == -signal.SIGKILL  # the run ended first
    time.sleep(0.5)
    assert waiting_children() == {}


def request(name: str, token: str, args: list[str]) -> socket.socket:
    """Send the waiting process a command, as `run_by_waiting_dbt` does, with /dev/null as its streams."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    connection.connect("\0" + name)
    message = {"token": token, "args": args, "cwd": str(DBT_PROJECT_DIR), "env": dict(os.environ)}
    null = os.open(os.devnull, os.O_RDWR)
    try:
        socket.send_fds(connection, [json.dumps(message).encode()], [null, null, null])
    finally:
        os.close(null)
    return connection


def test_a_command_without_the_runs_token_is_refused() -> None:
    with warm_dbt(DBT_PROJECT_DIR) as waiting:
        assert waiting is not None
        name, token = os.environ[WARM_ENV].split()
        wait_until_listening(name)
        stranger = request(name, "0" * len(token), ["--version"])
        assert stranger.recv(16) == b""  # refused: closed without a pid
        stranger.close()
        assert waiting.poll() is None  # still waiting, for this run's command
        served = dbt("--version")
        assert served.returncode == 0 and "installed:" in served.stdout
        assert waiting.wait(timeout=60) == 0


def test_a_connection_that_sends_nothing_does_not_keep_the_runs_command_waiting() -> None:
    with warm_dbt(DBT_PROJECT_DIR) as waiting:
        assert waiting is not None
        name, _ = os.environ[WARM_ENV].split()
        wait_until_listening(name)
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        silent.connect("\0" + name)  # first in the queue, and says nothing
        try:
            served = dbt("--version")  # dbt() gives up after 120 s: a waiting process stuck on `silent` fails it
        finally:
            silent.close()
        assert served.returncode == 0 and "installed:" in served.stdout
        assert waiting.wait(timeout=60) == 0  # the waiting process served it (not a dbt started for it)


def test_the_waiting_dbt_dies_with_the_command_it_serves(tmp_path: Path) -> None:
    with warm_dbt(DBT_PROJECT_DIR) as waiting:
        assert waiting is not None
        name, token = os.environ[WARM_ENV].split()
        wait_until_listening(name)
        # a whole parse into a new target folder: seconds of work, far longer than its end below takes
        client = request(name, token, ["parse", "--no-partial-parse", "--target-path", str(tmp_path)])
        assert struct.unpack("i", client.recv(16))[0] == waiting.pid
        client.close()  # the command's process is gone (killed): nothing waits for the dbt it started
        assert waiting.wait(timeout=60) == -signal.SIGKILL


@pytest.mark.parametrize(
    ("args", "fast"),
    [
        (["build", "--target", "local"], True),
        (["build"], True),
        (["build", "--target", "spark"], False),
        (["build", "-t", "spark", "--full-refresh"], False),
        (["docs", "generate", "--target=spark"], False),
        (["build", "--vars", "{}", "--target"], True),
    ],
)
def test_only_a_spark_dbt_ends_with_the_interpreters_teardown(args: list[str], fast: bool) -> None:
    assert ends_fast(args) is fast


# a parse made in advance (orchestration/dbt_child.py `prepare`)

PARSED = ["parse", "--vars", '{"base_currency": "USD"}', "--target", "local"]
PARSED_ENV = {"STUDIO_AS_OF": "2026-10-15", "DBT_PROJECT_DIR": "/project", "DBT_TARGET_PATH": "/wh/_internal/t"}
BUILD = ["build", "--vars", '{"base_currency": "USD"}', "--target", "local", "--threads", "2"]


def prepared(env_vars: dict[str, str] | None = None) -> Prepared:
    manifest = SimpleNamespace(env_vars=env_vars or {}, files={})
    files = project_files(Path(PARSED_ENV["DBT_PROJECT_DIR"]))
    return Prepared(PARSED, "/wh/_internal", {**PARSED_ENV, "PATH": "/bin"}, manifest, files)


@pytest.mark.parametrize(
    ("args", "differences"),
    [
        (BUILD, []),
        ([*BUILD, "--exclude", "test_type:unit", "--select", "a", "b", "--full-refresh"], []),
        (["build", "-t", "local", "--vars", '{"base_currency": "USD"}'], []),
        (["build", "--target=local", "--vars", '{"base_currency": "USD"}'], []),
        (["build", "--vars", '{"base_currency": "EUR"}', "--target", "local"], ["option --vars"]),
        (["build", "--vars", '{"base_currency": "USD"}'], ["option --target"]),
        ([*BUILD, "--target-path", "elsewhere"], ["option --target-path"]),
        ([*BUILD, "--defer"], ["option --defer"]),  # not known to leave the parse as it is
        (["build", "stray", *BUILD[1:]], ["option (a word before any option)"]),
        (["docs", "generate", *BUILD[1:]], ["the command is docs, not build"]),
        (["--version"], ["the command is none, not build"]),
    ],
)
def test_a_build_is_given_the_parse_made_in_advance_only_with_its_own_arguments(
    args: list[str], differences: list[str]
) -> None:
    assert prepared().differences(args, "/wh/_internal", {**PARSED_ENV, "PATH": "/bin"}) == differences


def test_a_build_is_given_the_parse_made_in_advance_only_in_its_folder_and_environment() -> None:
    made = prepared({"STUDIO_SECRET_SCHEMA": "a", "MY_SCHEMA": "x"})  # read through env_var() by the project's files
    env = {**PARSED_ENV, "PATH": "/bin"}
    assert made.differences(BUILD, "/wh/_internal", env) == []
    assert made.differences(BUILD, "/other/_internal", env) == ["the folder it runs in"]
    # what a parse does not read: the shell's, Python's, dbt's logging, the launcher's
    unread = {"PWD": "/x", "PATH": "/usr/bin", "PYTHONUNBUFFERED": "1", "DBT_LOG_FORMAT": "json", "DBT_LOG_PATH": "/l"}
    assert made.differences(BUILD, "/wh/_internal", {**env, **unread, WARM_ENV: "x y"}) == []
    read = {"STUDIO_AS_OF": "2026-10-16", "DBT_STATIC_PARSER": "false", "MY_SCHEMA": "y"}
    assert made.differences(BUILD, "/wh/_internal", {**env, **read}) == [
        f"environment variable {name}" for name in sorted(read)
    ]
    assert made.differences(BUILD, "/wh/_internal", {k: v for k, v in env.items() if k != "DBT_TARGET_PATH"}) == [
        "environment variable DBT_TARGET_PATH"
    ]


def test_a_build_is_not_given_the_parse_made_in_advance_once_a_file_of_the_project_changed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = project / "models" / "m.sql"
    model.write_text("select 1 as x", encoding="utf-8")
    env = {**PARSED_ENV, "DBT_PROJECT_DIR": str(project)}
    made = Prepared(PARSED, "/wh/_internal", env, SimpleNamespace(env_vars={}, files={}), project_files(project))
    assert made.differences(BUILD, "/wh/_internal", env) == []
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}", encoding="utf-8")  # dbt's own output: not the project
    (project / "logs").mkdir()
    assert made.differences(BUILD, "/wh/_internal", env) == []
    model.write_text("select 2 as x", encoding="utf-8")
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    assert made.differences(BUILD, "/wh/_internal", env) == ["the project's files changed since the parse"]
    model.unlink()
    assert made.differences(BUILD, "/wh/_internal", env) == ["the project's files changed since the parse"]


def test_the_environment_a_parse_read_is_what_its_manifest_records() -> None:
    files = {
        "schema": SimpleNamespace(env_vars={"models": {"m": ["IN_YAML"]}, "sources": {"s": ["IN_SOURCE"]}}),
        "model": SimpleNamespace(env_vars=["IN_SQL"]),
        "seed": SimpleNamespace(),
    }
    manifest = SimpleNamespace(env_vars={"IN_MACRO": "value"}, files=files)
    assert environment_read(manifest) == {"IN_YAML", "IN_SOURCE", "IN_SQL", "IN_MACRO"}
    # the project's profile and dbt_project.yml read none (their own would not be in the manifest's record)
    for name in ("profiles.yml", "dbt_project.yml"):
        assert "env_var" not in (DBT_PROJECT_DIR / name).read_text(encoding="utf-8"), name


def invocations(target: Path) -> tuple[str, str]:
    """The dbt invocation that wrote the manifest and the one that wrote the run's results: one and the same when
    the command parsed the project itself, the parse's and the build's when it ran on a parse made in advance."""
    return tuple(  # type: ignore[return-value]
        json.loads((target / name).read_text(encoding="utf-8"))["metadata"]["invocation_id"]
        for name in ("manifest.json", "run_results.json")
    )


@pytest.mark.parametrize(
    ("added", "status"),
    [
        (["--select", "stg_departments"], 1),  # a model whose lake views were never made: the build fails on it
        (["--threads", "x"], 2),  # a usage error
    ],
)
def test_the_waiting_dbt_runs_a_build_on_the_parse_it_made_as_a_dbt_started_for_it_would(
    tmp_path: Path, added: list[str], status: int
) -> None:
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    parse = parse_in_advance(StudioConfig(), date(2026, 10, 15), layout)
    # a new warehouse's parse starts from the project's, as dagster-dbt starts a build in a new target folder
    assert parse["start_from"] == str(prepare_manifest().with_name("partial_parse.msgpack"))
    assert not layout.dbt_target.exists()
    args = ["build", *parse["args"][1:], *added]

    def build() -> subprocess.CompletedProcess[str]:
        command = [dbt_executable(), *args]
        env = {**os.environ, **parse["env"]}  # as dagster-dbt and dbt_environment start the build's dbt
        return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)

    with warm_dbt(DBT_PROJECT_DIR, parse) as waiting:
        assert waiting is not None
        wait_until_listening(os.environ[WARM_ENV].split()[0])
        served = build()
        assert waiting.wait(timeout=60) == served.returncode  # it ended with the command: it served it
    record = layout.dbt_target / "prepared_parse.json"
    said = json.loads(record.read_text(encoding="utf-8"))
    # it compiled the parse's templates while it waited, or none: the build had connected before the parse ended
    compiled, templates = said.pop("templates_compiled_ahead")
    macros = json.loads(prepare_manifest().read_text(encoding="utf-8"))["macros"]
    assert 0 <= compiled <= templates and templates > len(macros)
    assert said == {"used": True, "differences": []}
    parsed = (layout.dbt_target / "prepared_parse.log").read_text(encoding="utf-8")
    assert "Running with dbt" in parsed and "Unable to do partial parsing" not in parsed
    if status == 1:
        parse_id, build_id = invocations(layout.dbt_target)
        assert parse_id != build_id  # the build did not parse: it ran on the manifest the waiting process made
    record.unlink()
    cold = build()  # no process waits: dbt started for the command parses the project itself
    assert not record.exists()
    assert served.returncode == cold.returncode == status
    if status == 2:
        assert served.stderr == cold.stderr and "Invalid value for '--threads'" in served.stderr
        return
    parse_id, build_id = invocations(layout.dbt_target)
    assert parse_id == build_id
    # the same nodes, the same outcome: what dbt says of each, and its summary (its clock and timings apart)
    said = [
        [
            re.sub(r"\s+\[.*", "", line.split("  ", 1)[-1])
            for line in run.stdout.splitlines()
            if re.search(r"\d+ of \d+ |Done\.", line)
        ]
        for run in (served, cold)
    ]
    assert said[0] == said[1]
    assert any("ERROR creating sql view model work.staging.stg_departments" in line for line in said[0]), served.stdout
    assert any("ERROR=1" in line for line in said[0])


def test_a_parse_made_in_advance_that_fails_is_recorded_and_leaves_the_build_to_parse(tmp_path: Path) -> None:
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.ensure()
    spec = parse_in_advance(StudioConfig(), date(2026, 10, 15), layout)
    spec["args"] = [*spec["args"][:-1], "no-such-target"]  # a target the profile does not have
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys; from orchestration.dbt_child import prepare; print(prepare(json.loads(sys.argv[1])))",
            json.dumps(spec),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=DBT_PROJECT_DIR,
    )
    assert made.returncode == 0 and made.stdout.strip() == "None", made.stderr
    record = json.loads((layout.dbt_target / "prepared_parse.json").read_text(encoding="utf-8"))
    assert record == {
        "used": False,
        "differences": ["the parse made in advance failed (its output: prepared_parse.log)"],
    }
    assert "no-such-target" in (layout.dbt_target / "prepared_parse.log").read_text(encoding="utf-8")


def test_the_waiting_dbt_makes_the_projects_parse_first_when_it_is_to_be_made(tmp_path: Path) -> None:
    """A fresh clone has no project parse: the run's waiting dbt makes it (holding the parse's lock from its start,
    so that the run's `prepare_manifest` waits for it instead of making it too), as `prepare_manifest` would, and
    `prepare_manifest` then finds it made."""
    import fcntl

    from dagster_dbt import DbtProject

    from orchestration import dbt_child
    from orchestration.lib import dbt_vars

    assert dbt_child.PARSE_LOCK == dbt_vars.PARSE_LOCK
    project = tmp_path / "project"  # the dbt project as a fresh clone has it: no target folder
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    spec = dbt_vars.project_parse(project)
    assert spec is not None and spec["target"] == str(project / "target")
    target = project / "target"
    with warm_dbt(DBT_PROJECT_DIR, {"project": spec}) as waiting:
        assert waiting is not None
        wait_until_listening(os.environ[WARM_ENV].split()[0])  # it binds its socket once it holds the lock
        with (target / dbt_vars.PARSE_LOCK).open("w") as lock:
            with pytest.raises(BlockingIOError):
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_EX)  # as prepare_manifest waits: until the parse is made
        assert waiting.poll() is None  # it made the parse and goes on waiting for its command
    made = target / "manifest.json"
    assert not dbt_vars.project_parse_needed(project, target, str(spec["made_with"]))
    assert dbt_vars.project_parse(project) is None
    nodes = json.loads(made.read_text(encoding="utf-8"))["nodes"]
    assert "model.studio_budget.fct_actual_costs" in nodes
    written = made.stat().st_mtime_ns
    assert prepare_manifest(DbtProject(project_dir=project, profiles_dir=project)) == made
    assert made.stat().st_mtime_ns == written  # found made: not parsed again
