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

**A successor for the docs** (`warm_dbt(successor=True)`). When the run's docs page is to be made again (a new
warehouse, other code: `lib/freshness.docs_to_be_made`), the docs are a second dbt command, after the build and the
publish, which would import dbt again (about 1.2 s). The waiting process says on its standard output when a
command took it (`TAKEN`); the run then starts another one, which imports dbt while the build runs and serves the
next command the same way (without a parse made in advance: the docs parse from the build's partial parse).
WARM_ENV names both from the start, and a command tries them in turn: nothing writes the environment from the
thread that starts the successor. Not when the first ends without a command: the next one starts its own dbt.

**A parse made in advance** (`prepare`). The build needs the project's parse (its manifest) before it runs a
node: about 1.1 s of a day's dbt command at 1M rows, read and checked from dbt's partial parse and written out
again. `studio-budget run` knows the build's vars, target, folder and as-of date before it imports Dagster
(`lib/dbt_vars.parse_in_advance`), so the waiting process makes that parse as soon as dbt is imported, on the
second core while the run imports Dagster and checks its loads, and keeps the manifest. The command it then serves
is given that manifest (dbt's `dbtRunner(manifest=...)`, the programmatic way to reuse one) only when it is a
`build` whose parse-relevant arguments, folder and environment are the parse's, on the project's files as they
stood when the parse began (`Prepared.differences`); otherwise
it runs as dbt's command line would, parse and all. Either way the build's output and exit status are the same
(what dbt says while parsing is then in the parse's own output, `prepared_parse.log`); what was done is written to
`prepared_parse.json` in the command's target folder.

**The project's own parse, first, when it is to be made** (a fresh clone, other code: `lib/dbt_vars.project_parse`).
The run needs it for its Dagster definitions (`lib/dbt.prepare_manifest`), and the build's parse starts from it.
The waiting process takes the parse's lock before it binds its socket, makes the parse once dbt is imported (as
`prepare_manifest` has dagster-dbt make it: its arguments, folder and environment; dbt's output in
`project_parse.log`) and stamps it; the run's `prepare_manifest`, waiting on the lock, then finds it made. A parse
that fails leaves no stamp, and `prepare_manifest` makes it as before.

**Templates compiled in advance** (`lib/dbt_templates.py`). Once the parse is made, the waiting process compiles
its Jinja (every macro, each node's SQL, hooks and test arguments) while it waits, and stops when a command connects;
the build then renders them without compiling them again. How many were compiled, of all, is in PREPARED_RECORD.

**Debug events nobody takes** are dropped at once in every dbt command started here (`lib/dbt_events.py`).

**The end of a dbt command.** After dbt's command line returns, what was registered to run at exit runs (dbt-duckdb
closes its DuckDB connections there) and the process ends without the interpreter's teardown, which took 0.65 to
0.85 s of each command (measured). On the Spark target, whose dbt process hosts the JVM, dbt ends as usual.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import importlib
import json
import os
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TextIO

from orchestration.lib.collector import collector_paused

PR_SET_PDEATHSIG = 1
# "<abstract socket name> <token>" of each waiting dbt process (the first, then its successor), while a refresh runs
WARM_ENV = "STUDIO_DBT_WARM"
SPARK_TARGET = "spark"  # orchestration.lib.spark.DBT_TARGETS (not imported: it imports DuckDB)
MESSAGE_LIMIT = 1 << 20  # the command's arguments and environment, one message
REQUEST_SECONDS = 5  # what a connection has to send its request in, once accepted
TAKEN = b"taken\n"  # what the waiting process writes on its standard output when a command takes it (`serve`)
PREPARE_ENV = "STUDIO_DBT_PREPARE"  # JSON: the parse the waiting process makes in advance (`prepare`)
PREPARED_RECORD = "prepared_parse.json"  # in the served command's target folder: whether its parse was the one made
PREPARED_LOG = "prepared_parse.log"  # dbt's output of the parse made in advance, in the parse's target folder
PROJECT_PARSE_LOG = "project_parse.log"  # dbt's output of the project's parse made by the waiting dbt, in its target
PARSE_LOCK = ".parse.lock"  # orchestration.lib.dbt_vars.PARSE_LOCK (not imported before dbt: it imports DuckDB)
PROJECT_OUTPUT_FOLDERS = frozenset({"target", "logs", "dbt_packages"})  # what dbt writes in a project's folder
# options of a `build` that do not change its parse (the others must be the parse's own, or be absent from both)
NOT_PARSE_OPTIONS = frozenset({"--select", "-s", "--exclude", "--selector", "--threads", "--full-refresh"})
PARSE_OPTIONS = frozenset({"--vars", "--target", "-t", "--profile", "--profiles-dir", "--project-dir", "--target-path"})
# The environment variables a parse may read: dbt's own (DBT_*, its flags), the pipeline's (STUDIO_*), and those the
# project's files read through env_var(), which the manifest records (the profile and dbt_project.yml read none:
# tests/test_dbt_child.py); but these, which say where dbt logs, how the launcher runs and how tests are selected
NOT_READ_BY_PARSE = frozenset(
    {
        WARM_ENV,
        PREPARE_ENV,
        "DBT_INDIRECT_SELECTION",  # which tests a selection brings: read when nodes are selected, not parsed
        "DBT_LOG_FORMAT",
        "DBT_LOG_LEVEL_FILE",
        "DBT_LOG_PATH",
        "DBT_SEND_ANONYMOUS_USAGE_STATS",
        "STUDIO_DBT_PYTHON",
    }
)


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


def run_dbt(args: list[str], manifest: object | None = None) -> int:
    """dbt's command line on `args` in this process (what the `dbt` command runs); its exit status. With a
    `manifest` (`Prepared.manifest_for`), dbt runs the command on it instead of parsing the project: its programmatic
    runner, whose results are dbt's exit statuses (1 a node failed, 2 dbt itself did); a usage error goes to dbt's
    command line, which tells it as it does."""
    from dbt.cli.exceptions import DbtUsageException
    from dbt.cli.main import cli, dbtRunner

    from orchestration.lib.dbt_events import drop_debug_events_nobody_takes

    drop_debug_events_nobody_takes()
    sys.argv = ["dbt", *args]
    if manifest is not None:
        result = dbtRunner(manifest=manifest).invoke(args)  # type: ignore[arg-type]
        if result.success:
            return 0
        if isinstance(result.exception, DbtUsageException):  # told as dbt's command line tells it (before a parse)
            return run_dbt(args)
        return 1 if result.exception is None else 2
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
        with collector_paused():  # dbt's imports (lib/collector.py)
            importlib.import_module("dbt.cli.main")
        finish(run_dbt(args), ends_fast(args))
    sys.exit(code)


# the waiting dbt process


def command_options(args: list[str]) -> tuple[str, dict[str, list[str]]]:
    """A dbt command's name and its options, each with its values (the words after it up to the next option;
    `--name=value` is one). Words before any option are kept under the name ""."""
    if not args or args[0].startswith("-"):
        return "", {}
    found: dict[str, list[str]] = {}
    current = ""
    for word in args[1:]:
        if word.startswith("-"):
            name, given, value = word.partition("=")
            current = "--target" if name == "-t" else name
            found.setdefault(current, [])
            if given:
                found[current].append(value)
        else:
            found.setdefault(current, []).append(word)
    return args[0], found


def project_files(project_dir: Path) -> str:
    """The dbt project's files as they stand: each one's path, size and modification time, as one digest (dbt's
    own output folders apart). A file edited after a parse changes it."""
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in PROJECT_OUTPUT_FOLDERS or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{relative.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass
class Prepared:
    """A parse made in advance (`prepare`): its arguments, folder and environment, the project's files as they
    stood before it (`project_files`), and the manifest it made."""

    args: list[str]
    cwd: str
    env: dict[str, str]
    manifest: object
    files: str = ""
    compiled_ahead: tuple[int, int] | None = None  # templates compiled before the command came, of all (`serve`)

    def differences(self, args: list[str], cwd: str, env: Mapping[str, str]) -> list[str]:
        """Why a command run with these arguments, in this folder and environment, might parse the project
        otherwise than this parse did (none: it may run on this manifest). Only a `build` is given one."""
        command, given = command_options(args)
        if command != "build":
            return [f"the command is {command or 'none'}, not build"]
        _, parsed = command_options(self.args)
        found = [
            f"option {name or '(a word before any option)'}"
            for name in sorted(set(given) | set(parsed))
            if name not in NOT_PARSE_OPTIONS and (name not in PARSE_OPTIONS or given.get(name) != parsed.get(name))
        ]
        if cwd != self.cwd:
            found.append("the folder it runs in")
        names = {name for name in set(env) | set(self.env) if name.startswith(("DBT_", "STUDIO_"))}
        names = (names | environment_read(self.manifest)) - NOT_READ_BY_PARSE
        found += [f"environment variable {name}" for name in sorted(names) if env.get(name) != self.env.get(name)]
        project = env.get("DBT_PROJECT_DIR")
        if not found and project and project_files(Path(project)) != self.files:
            found.append("the project's files changed since the parse")
        return found

    def manifest_for(self, args: list[str], cwd: str, env: Mapping[str, str]) -> object | None:
        """This manifest when the command may run on it, else None; what was decided is written to
        PREPARED_RECORD in the command's target folder (when it names one)."""
        differences = self.differences(args, cwd, env)
        target = env.get("DBT_TARGET_PATH")
        if target:
            write_record(Path(cwd) / target, differences, self.compiled_ahead)
        return None if differences else self.manifest


def write_record(target: Path, differences: list[str], compiled_ahead: tuple[int, int] | None = None) -> None:
    """PREPARED_RECORD in a target folder: whether the command ran on the parse made in advance (no differences),
    else why not, and how many of its Jinja templates were compiled before the command came, of all
    (`lib/dbt_templates.py`). `studio-budget run` removes the last run's before it starts (a run may make no parse)."""
    with contextlib.suppress(OSError):
        record: dict[str, object] = {"used": not differences, "differences": differences}
        if compiled_ahead is not None:
            record["templates_compiled_ahead"] = list(compiled_ahead)
        (target / PREPARED_RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")


def environment_read(manifest: object) -> set[str]:
    """The environment variables the project's files read through env_var() as dbt parsed them: the manifest's
    record of them (for its own partial parse), of macros and models, and of each YAML file."""
    names = set(getattr(manifest, "env_vars", None) or {})
    for file in (getattr(manifest, "files", None) or {}).values():
        names |= _leaves(getattr(file, "env_vars", None))
    return names


def _leaves(value: object) -> set[str]:
    """The names a file's record of its environment variables holds: a list of them, or keys down to lists."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, Mapping):
        return set().union(*(_leaves(item) for item in value.values()))
    if isinstance(value, list | tuple | set):
        return set().union(*(_leaves(item) for item in value))
    return set()


@contextlib.contextmanager
def command_environment(env: Mapping[str, object]) -> Iterator[dict[str, str]]:
    """This process's environment with a command's variables added (and `child_environment`'s), as that
    environment; the environment and the working folder are this process's own again afterwards."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    os.environ.update(child_environment(os.environ))
    try:
        yield dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)


def parse_logged(args: list[str], cwd: str | Path, log: Path) -> object:
    """dbt's result of a parse command run in this process, in `cwd`, its output written to `log`."""
    from dbt.cli.main import dbtRunner

    from orchestration.lib.dbt_events import drop_debug_events_nobody_takes

    drop_debug_events_nobody_takes()
    os.chdir(cwd)
    with log.open("w", encoding="utf-8") as output, contextlib.redirect_stdout(output):
        return dbtRunner().invoke(args)


def prepare(spec: Mapping[str, object]) -> Prepared | None:
    """Make the parse `spec` names (`lib/dbt_vars.parse_in_advance`: its arguments, in its folder, with its
    environment variables added to this process's, from the saved parse `start_from` when the target folder has
    none), dbt's output written to PREPARED_LOG in its target folder; None when it fails (the command served then
    parses the project itself, and says why)."""
    args, cwd = [str(word) for word in spec["args"]], str(spec["cwd"])  # type: ignore[union-attr]
    with command_environment(spec["env"]) as env:  # type: ignore[arg-type]
        target = Path(cwd) / env.get("DBT_TARGET_PATH", "target")
        files = project_files(Path(env["DBT_PROJECT_DIR"])) if env.get("DBT_PROJECT_DIR") else ""
        try:
            target.mkdir(parents=True, exist_ok=True)
            start_from = Path(str(spec.get("start_from") or ""))
            if spec.get("start_from") and start_from.is_file() and not (target / start_from.name).exists():
                incoming = target / f".{start_from.name}.incoming"  # whole or not at all: dbt reads what is there
                shutil.copy(start_from, incoming)
                os.replace(incoming, target / start_from.name)
            result = parse_logged(args, cwd, target / PREPARED_LOG)
        except Exception as error:  # any failure: the command parses as usual
            write_record(target, [f"the parse made in advance failed: {type(error).__name__}: {error}"])
            return None
    if not result.success or result.result is None:  # type: ignore[attr-defined]
        write_record(target, [f"the parse made in advance failed (its output: {PREPARED_LOG})"])
        return None
    return Prepared(args, cwd, env, result.result, files)  # type: ignore[attr-defined]


def lock_project_parse(project: Mapping[str, object]) -> TextIO | None:
    """The lock of the project's parse (`lib/dbt.prepare_manifest`'s), taken; None when it cannot be opened."""
    try:
        target = Path(str(project["target"]))
        target.mkdir(parents=True, exist_ok=True)
        lock = (target / PARSE_LOCK).open("w")
    except OSError:
        return None
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def make_project_parse(project: Mapping[str, object], lock: TextIO) -> None:
    """Make the project's own parse (`lib/dbt_vars.project_parse`), when it is still to be made, as
    `lib/dbt.prepare_manifest` would have dagster-dbt make it (its arguments, folder and environment), and stamp it;
    then release the lock. A parse that fails leaves no stamp: `prepare_manifest` makes it again."""
    from orchestration.lib.dbt_vars import PARSE_STAMP, project_parse_needed

    try:
        cwd, target = Path(str(project["cwd"])), Path(str(project["target"]))
        made_with = str(project["made_with"])
        if not project_parse_needed(cwd, target, made_with):  # made by another process while the lock was waited for
            return
        (target / PARSE_STAMP).unlink(missing_ok=True)
        args = [str(word) for word in project["args"]]  # type: ignore[union-attr]
        with command_environment(project["env"]):  # type: ignore[arg-type]
            result = parse_logged(args, cwd, target / PROJECT_PARSE_LOG)
        if result.success:  # type: ignore[attr-defined]
            (target / PARSE_STAMP).write_text(made_with, encoding="utf-8")
    except Exception:  # any failure: the run's `prepare_manifest` makes the parse
        return
    finally:
        lock.close()


def run_by_waiting_dbt(args: list[str]) -> int | None:
    """Have a waiting dbt process run this command with this process's environment, folder and standard streams;
    its exit status, or None when no process waits (each one named is taken, or not started yet)."""
    words = os.environ.get(WARM_ENV, "").split()
    for name, token in zip(words[0::2], words[1::2], strict=False):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            connection.connect("\0" + name)
            request = {"token": token, "args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
            socket.send_fds(connection, [json.dumps(request).encode()], [0, 1, 2])
            served = connection.recv(16)  # the serving process's pid; nothing when it refused the request
        except OSError:
            served = b""
        if len(served) == 4:
            break
        connection.close()
    else:
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
    spec = json.loads(os.environ.pop(PREPARE_ENV, None) or "null")
    # the project's parse, when it is to be made, locked before anything else (before the socket is bound): the
    # run's own `prepare_manifest` waits for it then, rather than make it too
    project_lock = lock_project_parse(spec["project"]) if spec and spec.get("project") else None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind("\0" + name)
    listener.listen(4)
    # dbt's imports and the parse the build keeps (lib/collector.py); the parse's garbage collected before the
    # freeze, while the run itself still imports and checks its loads
    with collector_paused(collect=True):
        for module in ("dbt.cli.main", "dbt.adapters.duckdb"):  # dbt, and the adapter of the default target
            importlib.import_module(module)
        if project_lock is not None:
            make_project_parse(spec["project"], project_lock)
        prepared = prepare(spec) if spec and spec.get("args") else None
    if prepared is not None:
        # the parse's Jinja compiled while the run still checks its loads, until its command connects; whatever
        # goes wrong here, the command compiles its templates itself
        with contextlib.suppress(Exception):
            from orchestration.lib.dbt_templates import compile_ahead, keep_compiled_templates

            if keep_compiled_templates():
                prepared.compiled_ahead = compile_ahead(
                    prepared.manifest, lambda: bool(select.select([listener], [], [], 0)[0])
                )

    while True:
        connection, _ = listener.accept()
        request, fds = accepted_request(connection, token)
        if request is not None:
            break
        connection.close()
    listener.close()  # one command: the next finds no waiting process
    sys.stdout.flush()
    sys.stderr.flush()
    with contextlib.suppress(OSError):
        # taken: told on the standard output it had until now (`warm_dbt` starts a successor on it). Not by closing
        # it: dbt's multiprocessing resource tracker, started by the parse, holds a copy of it until dbt ends
        os.write(1, TAKEN)
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
    manifest = prepared.manifest_for(args, request["cwd"], request["env"]) if prepared else None
    finish(run_dbt(args, manifest), ends_fast(args), report)


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
def warm_dbt(
    project_dir: Path, parse: Mapping[str, object] | None = None, successor: bool = False
) -> Iterator[subprocess.Popen | None]:
    """While the block runs, a dbt process imported in advance waits for the block's first dbt command (Linux);
    after it, that process is gone whether it served or not. With `parse` (`lib/dbt_vars.parse_in_advance`), it
    makes that parse while it waits (`prepare`).

    With `successor`, once that process has taken its command, another one starts, imports dbt and waits for the
    block's next dbt command (a refresh's docs, when they are to be made again). Both are named in WARM_ENV from
    the start (a command tries them in turn); the successor is gone after the block too."""
    if not sys.platform.startswith("linux"):
        yield None
        return
    lock, done = threading.Lock(), threading.Event()
    started: list[subprocess.Popen] = []
    before = os.environ.get(WARM_ENV)
    base_env = {k: v for k, v in os.environ.items() if k != WARM_ENV}  # as the block starts: not read by a thread
    names = [f"studio-budget-dbt-{os.getpid()}-{secrets.token_hex(8)} {secrets.token_hex(16)}"]
    if successor:
        names.append(f"studio-budget-dbt-{os.getpid()}-{secrets.token_hex(8)} {secrets.token_hex(16)}")

    def start(value: str, prepare_spec: Mapping[str, object] | None, watched: bool) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.dbt_child", "--serve"],
            cwd=project_dir,  # as dagster-dbt starts dbt: no module of the caller's folder shadows dbt's
            env={**base_env, WARM_ENV: value, **({PREPARE_ENV: json.dumps(prepare_spec)} if prepare_spec else {})},
            stdin=subprocess.DEVNULL,
            # its standard output, until it takes a command's streams: what it writes there tells `follow`
            stdout=subprocess.PIPE if watched else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    def follow(first: subprocess.Popen) -> None:
        """Start the successor when the first process has taken its command, then live as long as the block: the
        kernel kills the successor when the thread that started it ends (PR_SET_PDEATHSIG)."""
        assert first.stdout is not None
        said = b""
        with contextlib.suppress(OSError, ValueError):
            said = first.stdout.read(len(TAKEN))  # nothing when it ended without a command
        with lock:
            if said == TAKEN and not done.is_set():
                with contextlib.suppress(Exception):  # no successor: the next command starts a dbt of its own
                    start(names[1], None, watched=False)
        done.wait()

    with lock:
        first = start(names[0], parse, watched=successor)
    os.environ[WARM_ENV] = " ".join(names)
    if successor:
        threading.Thread(target=follow, args=(first,), daemon=True, name="dbt-successor").start()
    try:
        yield first
    finally:
        with lock:
            done.set()
            processes = list(started)
        if before is None:
            os.environ.pop(WARM_ENV, None)
        else:
            os.environ[WARM_ENV] = before
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    main()
