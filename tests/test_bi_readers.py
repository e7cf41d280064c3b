"""A BI tool reading the published warehouse while a refresh runs (SPEC §5 write-audit-publish, as Superset or
Metabase meet it): through SQLAlchemy and duckdb-engine, read-only, a new connection per read."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy

from tests.conftest import SMALL_AS_OF, SMALL_STUDIO, cents, copy_warehouse

# The small studio's cost actuals at as-of 2025-03-15 (USD; G4 on 4000 is revenue, G7 is after as-of):
# G1 3500 + G2 2600 + G3 700 + G5 800 GBP x 1.25 = 1000 + G6 100 GBP x 1.20 = 120 + G8 64000 GBP x 1.30 = 83200
BEFORE = Decimal("91120.00")
# the new file's one line: March crew on P1/5100, 1000.00 USD, posted before as-of
NEW_GL = "txn_id,posted_date,project_code,account_code,vendor,description,amount,currency,source_ref\n" + (
    "G9,2025-03-10,P1,5100,Crew Co,March crew,1000.00,USD,\n"
)
AFTER = BEFORE + Decimal("1000.00")

READ = (
    "SELECT (SELECT max(publication_id) FROM audit.publications), (SELECT sum(actual) FROM marts.mart_studio_variance)"
)


def read_once(database: Path) -> tuple[str, Decimal]:
    """What a dashboard does per chart: open a connection, read in one transaction, let go."""
    engine = sqlalchemy.create_engine(f"duckdb:///{database}", connect_args={"read_only": True})
    try:
        with engine.begin() as connection:
            publication_id, actual = connection.execute(sqlalchemy.text(READ)).one()
        return publication_id, cents(actual)
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.xdist_group("bi_reader")
def test_bi_reads_stay_consistent_during_a_refresh(small_warehouse: Path, tmp_path: Path) -> None:
    warehouse, landing = tmp_path / "warehouse", tmp_path / "landing"
    copy_warehouse(small_warehouse, warehouse)
    shutil.copytree(SMALL_STUDIO, landing)
    (landing / "gl_actuals_2025_03.csv").write_text(NEW_GL, encoding="utf-8")
    database = warehouse / "studio.duckdb"

    first_id, first_actual = read_once(database)
    assert first_actual == BEFORE

    reads: list[tuple[str, Decimal]] = []
    failures: list[str] = []
    refresh = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--as-of",
            SMALL_AS_OF,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        while refresh.poll() is None:
            try:
                reads.append(read_once(database))
            except Exception as error:  # every failed read is the finding, whatever its type
                failures.append(repr(error))
            time.sleep(0.05)
        output = refresh.communicate(timeout=60)[0]
    finally:
        if refresh.poll() is None:
            refresh.kill()
            refresh.wait()
    last_id, last_actual = read_once(database)

    assert refresh.returncode == 0, output[-4000:]
    assert failures == []
    assert len(reads) >= 1, "no read happened while the refresh ran"
    assert last_id != first_id and last_actual == AFTER
    figures: dict[str, set[Decimal]] = {}
    for publication_id, actual in [(first_id, first_actual), *reads, (last_id, last_actual)]:
        figures.setdefault(publication_id, set()).add(actual)
    # each publication always comes with one figure: the old one's or the new one's, never a mix
    assert figures == {first_id: {BEFORE}, last_id: {AFTER}}, figures
    # reads never go back: once the new publication is seen, the old one is never read again
    seen = [publication_id for publication_id, _ in reads]
    if last_id in seen:
        assert all(p == last_id for p in seen[seen.index(last_id) :])
