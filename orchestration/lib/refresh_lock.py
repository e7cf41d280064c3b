"""One refresh of a warehouse at a time (a DuckDB file takes one writer). Light to import: the command line takes
the lock before it imports Dagster and dbt, so a second refresh is refused in a moment, not after seconds."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from orchestration.lib.config import WarehouseLayout


class RefreshRunning(RuntimeError):
    """Another refresh holds this warehouse."""


@contextlib.contextmanager
def refresh_lock(layout: WarehouseLayout) -> Iterator[None]:
    """Held for the whole refresh; released even on kill -9 (the kernel drops the lock with the process)."""
    with (layout.internal / "refresh.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise RefreshRunning(f"another refresh of {layout.root} is running") from error
        yield
