"""How the pipeline's dbt is started (orchestration/dbt_child.py): a dbt imported in advance serves a refresh's first
dbt command with the same output and exit status as a dbt started for it, serves that one command only, serves no
one else, and dies with the command it serves."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.dbt_child import WARM_ENV, ends_fast, warm_dbt
from orchestration.lib.config import DBT_PROJECT_DIR
from orchestration.lib.dbt import dbt_executable

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
