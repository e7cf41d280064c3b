"""A tiny run of `benchmarks/refresh.py`, so the benchmark cannot rot: every step runs and the table is written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_refresh_benchmark_runs_every_step_on_a_tiny_studio(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    script = str(REPO_ROOT / "benchmarks" / "refresh.py")
    done = subprocess.run(
        # one next day: the median of several is `median_run`, below
        [sys.executable, script, "--rows", "2500", "--days", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert "`python benchmarks/refresh.py --rows 2500 --days 1`, one run." in text  # how to run it again
    row = next(line for line in text.splitlines() if line.startswith("| 2,500 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 10 and all(re.search(r"\d", c) for c in cells)
    # every step of the pipeline took some time, and the process tree was measured
    assert re.search(r"2,500 rows, \(d\): dbt [\d.]+, .*other steps [\d.]+", text)
    assert re.search(r"2,500 rows: \(a\) [\d,]+ MB, \(d\) [\d,]+ MB", text)
    assert re.search(r"^- 2,500 rows: [\d.]+ s$", text, re.MULTILINE)  # the one day's wall clock
    # (c) agreed with the published mart, line-month by line-month (the benchmark stops otherwise)
    assert re.search(r"pandas \d+ line-months equal to the mart, [\d,.]+ posted; polars \d+ line-months", text)


def test_the_next_day_shown_is_the_run_of_the_median_wall_clock() -> None:
    from benchmarks.refresh import median_run

    runs = [{"wall_s": 3.0, "day": 1}, {"wall_s": 1.0, "day": 2}, {"wall_s": 2.0, "day": 3}]
    assert median_run(runs)["day"] == 3  # 1.0, 2.0, 3.0: the middle one
    assert median_run([*runs, {"wall_s": 9.0, "day": 4}])["day"] == 3  # of four, the lower middle (2.0)
    assert median_run(runs[:1])["day"] == 1
