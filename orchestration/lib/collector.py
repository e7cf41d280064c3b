"""Python's cyclic garbage collector, kept out of a process's start (`studio-budget run`, the dbt it starts).

Importing Dagster, Great Expectations and dbt creates about 580,000 objects that live as long as the process. The
collector runs while they are being made, and its full collections scan every one of them again: with it off, the
run's imports took 2.1 s instead of 2.9 s and dbt's 1.2 s instead of 1.4 s (three of each, this machine). After
the imports the objects they made are frozen (`gc.freeze`: the collector never scans them again, so reference
cycles among them that are garbage already stay for the life of the process) and the collector is on again, with
its thresholds as they were; it then goes over only what the process makes after.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused(collect: bool = False) -> Iterator[None]:
    """The collector off while the block runs (a process's imports, and the parse it keeps); then, with `collect`,
    one collection of the garbage the block left (a dbt parse leaves about 320,000 objects of it: 0.4 s, worth it
    only off the run's critical path), what the process holds frozen, and the collector on again if it was on.
    Nested blocks freeze at each end; the outermost turns the collector back on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collect:
            gc.collect()
        gc.freeze()
        if was_on:
            gc.enable()
