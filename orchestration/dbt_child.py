"""Start dbt so that it dies with the process that started it.

dagster-dbt runs dbt as a child process. If the run is killed (kill -9 of the run alone, not its
process group), an orphaned dbt would go on holding the build database's lock and the next run
could not start. On Linux the kernel sends dbt SIGKILL when its parent dies (PR_SET_PDEATHSIG);
the flag survives the exec into dbt.

With STUDIO_DBT_WORKDIR set, dbt runs in that folder (the warehouse's `_internal`) on the project it was started in
(DBT_PROJECT_DIR): the pipeline names the build and work databases relative to it, so that the dbt vars and profile
are the same for every warehouse and dbt's partial parse holds in a new or copied warehouse (`dbt_environment`).

dbt started here (a refresh's build and docs) writes no debug log file of its own (`DBT_LOG_LEVEL_FILE=none`
unless the environment sets it): its output is kept in `_internal/dbt_output.log`, and the debug file (about 10 MB
of JSON per build of the sample) cost 2 to 3 s of a 15 to 17 s build of the sample studio.
`DBT_LOG_LEVEL_FILE=debug studio-budget run` brings it back, in the warehouse's `_internal/dbt_target/dbt.log`.
"""

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

PR_SET_PDEATHSIG = 1


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What dbt's environment gains from the launcher: no debug log file, unless the environment asks for one."""
    return {"DBT_LOG_LEVEL_FILE": environ.get("DBT_LOG_LEVEL_FILE") or "none"}  # dbt reads an empty one as unset


def main() -> None:
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):  # not Linux: dbt runs as an ordinary child
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the flag was set
        sys.exit(1)
    os.environ.update(child_environment(os.environ))
    workdir = os.environ.get("STUDIO_DBT_WORKDIR")
    if workdir:
        os.environ.setdefault("DBT_PROJECT_DIR", os.getcwd())
        if Path("profiles.yml").is_file():  # dbt would otherwise look for its profile in the folder it runs in
            os.environ.setdefault("DBT_PROFILES_DIR", os.getcwd())
        os.chdir(workdir)
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
