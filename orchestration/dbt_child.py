"""Start dbt so that it dies with the process that started it.

dagster-dbt runs dbt as a child process. If the run is killed (kill -9 of the run alone, not its
process group), an orphaned dbt would go on holding the build database's lock and the next run
could not start. On Linux the kernel sends dbt SIGKILL when its parent dies (PR_SET_PDEATHSIG);
the flag survives the exec into dbt.

With STUDIO_DBT_WORKDIR set, dbt runs in that folder (the warehouse's `_internal`) on the project it was started in
(DBT_PROJECT_DIR): the pipeline names the build and work databases relative to it, so that the dbt vars and profile
are the same for every warehouse and dbt's partial parse holds in a new or copied warehouse (`dbt_environment`).
"""

import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):  # not Linux: dbt runs as an ordinary child
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the flag was set
        sys.exit(1)
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
