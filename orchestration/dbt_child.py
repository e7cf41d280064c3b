"""Start dbt so that it dies with the process that started it.

dagster-dbt runs dbt as a child process. If the run is killed (kill -9 of the run alone, not its
process group), an orphaned dbt would go on holding the build database's lock and the next run
could not start. On Linux the kernel sends dbt SIGKILL when its parent dies (PR_SET_PDEATHSIG);
the flag survives the exec into dbt.
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
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
