"""Named points where a crash test stops a real run (SPEC §5: a kill -9 at any moment is survivable).

With STUDIO_PAUSE_AT=<point> in its environment, a run writes the point's name to the file named by
STUDIO_PAUSE_MARKER and waits there, so that a test can kill it at exactly that moment. With
STUDIO_FAIL_AT=<point>, the run raises `InjectedFault` (an OSError, as a full disk would) there instead, so that a
test sees how a step failing at that moment is told. Otherwise a point costs two dictionary look-ups.
"""

import os
import time
from pathlib import Path

POINTS = ("ingest", "checks", "dbt", "publish", "exports")


class InjectedFault(OSError):
    """The failure STUDIO_FAIL_AT asks for."""


def pause_point(point: str) -> None:
    if os.environ.get("STUDIO_FAIL_AT") == point:
        raise InjectedFault(f"STUDIO_FAIL_AT={point}: a failure injected at the {point!r} point")
    if os.environ.get("STUDIO_PAUSE_AT") != point:
        return
    marker = os.environ.get("STUDIO_PAUSE_MARKER")
    if marker:  # written whole, then renamed: a test that sees the marker reads the point's name, never ""
        drafted = Path(f"{marker}.draft")
        drafted.write_text(point, encoding="utf-8")
        os.replace(drafted, marker)
    time.sleep(600)  # the test kills the process long before this ends
