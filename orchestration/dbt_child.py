"""Start dbt so that it dies with the process that started it, and, in a refresh, already imported.

dagster-dbt runs dbt as a child process (`orchestration/bin/dbt`, which runs `main` here). If the run is killed
(kill -9 of the run alone, not its process group), an orphaned dbt would go on holding the build database's lock
and the next run could not start. On Linux the kernel sends dbt SIGKILL when its parent dies (PR_SET_PDEATHSIG).

With STUDIO_DBT_WORKDIR set, dbt runs in that folder (the warehouse's `_internal`) on the project it was started in
(DBT_PROJECT_DIR): the pipeline names the build and work databases relative to it, so that the dbt vars and profile
are the same for every warehouse and dbt's partial parse holds in a new or copied warehouse (`dbt_environment`).

dbt started here (a refresh's build and docs) writes no debug log file of its own (`DBT_LOG_LEVEL_FILE=none`
unless the environment sets it): its output is kept in `_internal/dbt_output.log`, and the debug file (about 10 MB
of JSON per build of the sample) cost 2 to 3 s of a 15 to 17 s build of the sample studio.
`DBT_LOG_LEVEL_FILE=debug studio-budget run` brings it back, in the warehouse's `_internal/dbt_target/dbt.log`.

**A dbt imported in advance** (`warm_dbt`, Linux). Importing dbt takes about 2 s, and a refresh's dbt starts only
after the gate, while the second core has been idle since the run began. `studio-budget run` therefore starts,
before it imports Dagster and Great Expectations, one process that imports dbt and waits (`serve`). The refresh's
first dbt command (`main`, started by dagster-dbt as usual) hands it its arguments, environment, folder and
standard streams over a Unix socket (an abstract name, the run's own random token, the same user) and waits for
its exit status; a signal it gets (dagster-dbt's SIGINT) is passed on. The waiting process serves one command: a
later one, or one that finds no waiting process, runs dbt in its own process. Either way dbt's output and exit
status are the same. The waiting process dies with the run (PR_SET_PDEATHSIG) and with the command it serves (its
socket closing).

**The end of a dbt command.** After dbt's command line returns, what was registered to run at exit runs (dbt-duckdb
closes its DuckDB connections there) and the process ends without the interpreter's teardown, which took 0.65 to
0.85 s of each command (measured). On the Spark target, whose dbt process hosts the JVM, dbt ends as usual.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NoReturn

PR_SET_PDEATHSIG = 1
WARM_ENV = "STUDIO_DBT_WARM"  # "<abstract socket name> <token>" of the waiting dbt process, while a refresh runs
SPARK_TARGET = "spark"  # orchestration.lib.spark.DBT_TARGETS (not imported: it imports DuckDB)
MESSAGE_LIMIT = 1 << 20  # the command's arguments and environment, one message
REQUEST_SECONDS = 5  # what a connection has to send its request in, once accepted


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What dbt's environment gains from the launcher: no debug log file, unless the environment asks for one."""
    return {"DBT_LOG_LEVEL_FILE": environ.get("DBT_LOG_LEVEL_FILE") or "none"}  # dbt reads an empty one as unset


def die_with_parent() -> bool:
    """Ask the kernel to kill this process when its parent dies; False when the parent is already gone."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):  # not Linux: dbt runs as an ordinary child
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return os.getppid() == parent


def ends_fast(args: list[str]) -> bool:
    """Whether the dbt command may end without the interpreter's teardown: not on the Spark target."""
    pairs = zip(args, [*args[1:], ""], strict=True)
    return not any(
        (arg in ("--target", "-t") and value == SPARK_TARGET) or arg == f"--target={SPARK_TARGET}"
        for arg, value in pairs
    )


def run_dbt(args: list[str]) -> int:
    """dbt's command line on `args` in this process (what the `dbt` command runs); its exit status."""
    from dbt.cli.main import cli

    sys.argv = ["dbt", *args]
    try:
        cli.main(args=args, prog_name="dbt")
    except SystemExit as end:
        if end.code is None or isinstance(end.code, int):
            return end.code or 0
        print(end.code, file=sys.stderr)
        return 1
    return 0


def finish(code: int, fast: bool, report: Callable[[int], None] | None = None) -> NoReturn:
    """End the process with `code` once the exit handlers have run (then `report(code)`, when given); when `fast`,
    without the interpreter's teardown."""
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()  # what sys.exit would run first; they are not run twice
    sys.stdout.flush()
    sys.stderr.flush()
    if report is not None:
        report(code)
    if fast:
        os._exit(code)
    sys.exit(code)


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        serve()
    if not die_with_parent():  # the parent died before the flag was set
        sys.exit(1)
    os.environ.update(child_environment(os.environ))
    workdir = os.environ.get("STUDIO_DBT_WORKDIR")
    if workdir:
        os.environ.setdefault("DBT_PROJECT_DIR", os.getcwd())
        if Path("profiles.yml").is_file():  # dbt would otherwise look for its profile in the folder it runs in
            os.environ.setdefault("DBT_PROFILES_DIR", os.getcwd())
        os.chdir(workdir)
    args = sys.argv[1:]
    code = run_by_waiting_dbt(args)
    if code is None:
        finish(run_dbt(args), ends_fast(args))
    sys.exit(code)


# the waiting dbt process


def run_by_waiting_dbt(args: list[str]) -> int | None:
    """Have the waiting dbt process run this command with this process's environment, folder and standard streams;
    its exit status, or None when no process waits (or it is taken)."""
    name, _, token = os.environ.get(WARM_ENV, "").partition(" ")
    if not name or not token:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        connection.connect("\0" + name)
        request = {"token": token, "args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(connection, [json.dumps(request).encode()], [0, 1, 2])
        served = connection.recv(16)  # the serving process's pid; nothing when it refused the request
    except OSError:
        served = b""
    if len(served) != 4:
        connection.close()
        return None
    pid = struct.unpack("i", served)[0]

    def pass_on(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, pass_on)
    status = b""
    with contextlib.suppress(OSError):
        status = connection.recv(16)  # one message, whole (SOCK_SEQPACKET); nothing when the process died first
    connection.close()
    if len(status) != 4:
        print("dbt ended without an exit status", file=sys.stderr)
        return 1
    return struct.unpack("i", status)[0]


def serve() -> NoReturn:
    """Import dbt, wait for one command (`run_by_waiting_dbt`), run it as that command's process, and end."""
    if not die_with_parent():
        os._exit(1)
    name, _, token = os.environ.pop(WARM_ENV, "").partition(" ")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind("\0" + name)
    listener.listen(4)
    for module in ("dbt.cli.main", "dbt.adapters.duckdb"):  # dbt, and the adapter of the default target
        importlib.import_module(module)

    while True:
        connection, _ = listener.accept()
        request, fds = accepted_request(connection, token)
        if request is not None:
            break
        connection.close()
    listener.close()  # one command: the next finds no waiting process
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, standard in zip(fds, (0, 1, 2), strict=True):
        os.dup2(fd, standard)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.pop(WARM_ENV, None)
    try:
        connection.sendall(struct.pack("i", os.getpid()))
    except OSError:  # the command is gone already (interrupted while it waited): nothing to run
        os._exit(1)
    reported = threading.Event()
    threading.Thread(target=end_with_command, args=(connection, reported), daemon=True).start()

    def report(code: int) -> None:
        reported.set()
        connection.sendall(struct.pack("i", code))

    args = list(request["args"])
    finish(run_dbt(args), ends_fast(args), report)


def accepted_request(connection: socket.socket, token: str) -> tuple[dict | None, list[int]]:
    """The command sent on `connection` and its three standard streams; None for one not from this run: another
    user's (refused before anything is read), one without the run's token, or one that sends nothing whole within
    REQUEST_SECONDS (a connection that says nothing cannot keep the run's command waiting)."""
    uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[1]
    if uid != os.getuid():
        return None, []
    connection.settimeout(REQUEST_SECONDS)
    fds: list[int] = []
    try:
        message, fds, flags, _ = socket.recv_fds(connection, MESSAGE_LIMIT, 3, socket.MSG_CMSG_CLOEXEC)
        request = json.loads(message)
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(fds) != 3 or not isinstance(request, dict):
            raise ValueError("not a whole request")
        if not secrets.compare_digest(str(request.get("token")), token):
            raise ValueError("not this run's")
    except (OSError, ValueError):
        for fd in fds:
            os.close(fd)  # a stream kept open here would keep its reader waiting for the end of it
        return None, []
    connection.settimeout(None)
    return request, fds


def end_with_command(connection: socket.socket, reported: threading.Event) -> None:
    """Kill this process when the command it serves is gone (its socket closed) before its exit status was sent:
    nothing waits for it then."""
    with contextlib.suppress(OSError):
        while connection.recv(1):
            pass
    if not reported.is_set():
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def warm_dbt(project_dir: Path) -> Iterator[subprocess.Popen | None]:
    """While the block runs, a dbt process imported in advance waits for the block's first dbt command (Linux);
    after it, that process is gone whether it served or not."""
    if not sys.platform.startswith("linux"):
        yield None
        return
    value = f"studio-budget-dbt-{os.getpid()}-{secrets.token_hex(8)} {secrets.token_hex(16)}"
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.dbt_child", "--serve"],
        cwd=project_dir,  # as dagster-dbt starts dbt: no module of the caller's folder shadows dbt's
        env={**os.environ, WARM_ENV: value},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = os.environ.get(WARM_ENV)
    os.environ[WARM_ENV] = value
    try:
        yield process
    finally:
        if before is None:
            os.environ.pop(WARM_ENV, None)
        else:
            os.environ[WARM_ENV] = before
        if process.poll() is None:
            process.kill()
        process.wait()


if __name__ == "__main__":
    main()
