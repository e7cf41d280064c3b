"""Named points where a crash test stops a real run (SPEC §5: a kill -9 at any moment is survivable).

With STUDIO_PAUSE_AT=<point> in its environment, a run writes the point's name to the file named by
STUDIO_PAUSE_MARKER and waits there, so that a test can kill it at exactly that moment. Otherwise a
point costs one dictionary look-up.
"""

import os
import time
from pathlib import Path

POINTS = ("ingest", "checks", "dbt", "publish", "exports")


def pause_point(point: str) -> None:
    if os.environ.get("STUDIO_PAUSE_AT") != point:
        return
    marker = os.environ.get("STUDIO_PAUSE_MARKER")
    if marker:  # written whole, then renamed: a test that sees the marker reads the point's name, never ""
        drafted = Path(f"{marker}.draft")
        drafted.write_text(point, encoding="utf-8")
        os.replace(drafted, marker)
    time.sleep(600)  # the test kills the process long before this ends
