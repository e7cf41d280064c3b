"""Landing file → immutable Parquet load in the lake (SPEC §5).

One file is one load. A load is read as text, checked, typed, and written to
`lake/<source>/load_id=<id>/data.parquet` with its manifest `_load.json` beside it. The
folder is renamed into place only when complete, so the lake never holds half a load, and
the manifests are the load ledger: a file whose sha256 is already there is not loaded again.
A rejected load goes to `quarantine/` with a report instead, and nothing of it reaches the lake.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.faults import pause_point
from orchestration.lib.config import WarehouseLayout
from orchestration.lib.contract import SOURCES, Source, source_for_file
from orchestration.quality import (
    WORK_DB_CONFIG,
    CheckResult,
    RunContext,
    prepare_context,
    render_quarantine_report,
    run_gate,
    stage,
)

LOAD_MANIFEST = "_load.json"
DATA_FILE = "data.parquet"
# a landing file name is a plain name: no path parts, no shell metacharacters
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]*$")
UNSAFE_NAME_MESSAGE = "file name may hold only letters, digits, '.', '_', '-' and spaces (no path parts, no '..')"


@dataclass
class LoadOutcome:
    """What happened to one landing file in one run."""

    file_name: str
    source: str
    status: str  # accepted, rejected, skipped (already loaded)
    load_id: str | None = None
    sha256: str | None = None
    rows: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    quarantine_report: Path | None = None

    @property
    def reasons(self) -> list[str]:
        return [c.message for c in self.checks if not c.passed and c.blocking]

    @property
    def warnings(self) -> list[str]:
        return [c.message for c in self.checks if not c.passed and not c.blocking]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_load_id(sha256: str) -> str:
    # sortable by load time, unique by content
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{sha256[:12]}"


def landing_files(landing_dir: Path, source: Source) -> list[Path]:
    """The landing files of one source, in name order (SPEC §4 name prefixes)."""
    if not landing_dir.is_dir():
        return []
    found = [
        p for p in landing_dir.iterdir() if p.is_file() and (s := source_for_file(p.name)) and s.name == source.name
    ]
    return sorted(found, key=lambda p: p.name)


def accepted_manifests(layout: WarehouseLayout, source: str | None = None) -> list[dict]:
    """The load ledger: the manifest of every accepted load (of one source, or all)."""
    pattern = f"{source}/load_id=*/{LOAD_MANIFEST}" if source else f"*/load_id=*/{LOAD_MANIFEST}"
    if not layout.lake.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(layout.lake.glob(pattern))]


def ingest_source(
    source: Source, landing_dir: Path, layout: WarehouseLayout, run_id: str = "", run: RunContext | None = None
) -> list[LoadOutcome]:
    """Load every new landing file of one source; return what happened to each."""
    layout.ensure()
    _remove_incomplete_loads(layout, source)
    known = {m["sha256"]: m for m in accepted_manifests(layout, source.name)}
    return [
        ingest_file(p, source, layout, known, run_id, run or RunContext()) for p in landing_files(landing_dir, source)
    ]


def _remove_incomplete_loads(layout: WarehouseLayout, source: Source) -> None:
    """What a crash left of a load never became visible: its half-written folder and work database go."""
    for folder in (layout.lake / source.name).glob(".incoming-*"):
        shutil.rmtree(folder, ignore_errors=True)
    for leftover in (layout.internal / "validation").glob(f"{source.name}-*"):
        leftover.unlink(missing_ok=True)


def ingest_file(
    path: Path, source: Source, layout: WarehouseLayout, known: dict[str, dict], run_id: str, run: RunContext
) -> LoadOutcome:
    sha = sha256_of(path)
    if sha in known:
        return LoadOutcome(path.name, source.name, "skipped", known[sha]["load_id"], sha, known[sha]["rows"])
    load_id = new_load_id(sha)
    outcome = LoadOutcome(path.name, source.name, "rejected", load_id, sha)
    if not SAFE_FILE_NAME.match(path.name) or ".." in path.name:
        outcome.checks = [CheckResult.failure("the file name is plain", UNSAFE_NAME_MESSAGE)]
        outcome.quarantine_report = _quarantine(path, outcome, layout, run_id)
        return outcome
    work_db = layout.internal / "validation" / f"{source.name}-{load_id}.duckdb"
    work_db.parent.mkdir(parents=True, exist_ok=True)
    try:
        unreadable = _stage_with_context(path, source, layout, run, work_db, outcome)
        pause_point("checks")
        outcome.checks = [unreadable] if unreadable else run_gate(work_db, source)
        if any(not c.passed and c.blocking for c in outcome.checks):
            outcome.quarantine_report = _quarantine(path, outcome, layout, run_id)
            return outcome
        with duckdb.connect(str(work_db), read_only=True, config=WORK_DB_CONFIG) as con:
            _write_load(con, source, path, outcome, layout, run_id)
    finally:
        for leftover in work_db.parent.glob(f"{work_db.name}*"):
            leftover.unlink(missing_ok=True)
    outcome.status = "accepted"
    known[sha] = {"load_id": load_id, "rows": outcome.rows}
    return outcome


def _stage_with_context(
    path: Path, source: Source, layout: WarehouseLayout, run: RunContext, work_db: Path, outcome: LoadOutcome
) -> CheckResult | None:
    """Stage the file and its rules' context in the load's own database; why not, when it cannot be."""
    try:
        with duckdb.connect(str(work_db), config=WORK_DB_CONFIG) as con:
            readable = path
            if path.suffix.lower() == ".xlsx":
                try:
                    readable = _xlsx_as_csv(path)
                except Exception as error:  # openpyxl raises many kinds on a damaged workbook
                    return CheckResult.failure("the file is readable", f"cannot be read as xlsx: {error}")
            unreadable = stage(con, readable, source)
            if unreadable is None:
                outcome.rows = int(con.execute("SELECT count(*) FROM landed").fetchone()[0])
                prepare_context(con, layout, source, run)
            return unreadable
    except (duckdb.Error, OSError, ValueError) as error:  # one bad file never crashes the run
        detail = " ".join(str(error).split())[:400]
        return CheckResult.failure("the file is readable", f"cannot be staged: {detail}")


def _xlsx_as_csv(path: Path) -> Path:
    """The first sheet of a workbook as a CSV file of text cells (budgets live in spreadsheets)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    out = Path(tempfile.mkdtemp(prefix="studio-xlsx-")) / (path.stem + ".csv")
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in sheet.iter_rows(values_only=True):
            writer.writerow(["" if v is None else _cell_text(v) for v in row])
    workbook.close()
    return out


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    return str(value)


def typed_select(source: Source, present: Iterable[str]) -> str:
    """SELECT list that types the landed text by the contract; absent optional columns are NULL."""
    present = set(present)
    parts = []
    for column in source.columns:
        value = f'"{column.name}"' if column.name in present else "NULL"
        parts.append(f'CAST({value} AS {column.type}) AS "{column.name}"')
    return ", ".join(parts)


def _write_load(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    path: Path,
    outcome: LoadOutcome,
    layout: WarehouseLayout,
    run_id: str,
) -> None:
    present = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed)").fetchall()]
    final = layout.lake / source.name / f"load_id={outcome.load_id}"
    work = layout.lake / source.name / f".incoming-{outcome.load_id}"
    work.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY (SELECT {typed_select(source, present)}, CAST(? AS VARCHAR) AS _load_id, "
        f"CAST(_row_number AS BIGINT) AS _row_number FROM landed) "  # landed is in file order already
        f"TO '{_sql_path(work / DATA_FILE)}' (FORMAT parquet)",
        [outcome.load_id],
    )
    manifest = _manifest(source, path, outcome, run_id, "accepted")
    (work / LOAD_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    pause_point("ingest")
    work.rename(final)  # the load appears whole or not at all


def _manifest(source: Source, path: Path, outcome: LoadOutcome, run_id: str, status: str) -> dict:
    return {
        "load_id": outcome.load_id,
        "source": source.name,
        "file_name": path.name,
        "landing_path": str(path.resolve()),
        "sha256": outcome.sha256,
        "rows": outcome.rows,
        "status": status,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": run_id,
        "checks": [c.as_dict() for c in outcome.checks],
    }


def _quarantine(path: Path, outcome: LoadOutcome, layout: WarehouseLayout, run_id: str) -> Path:
    folder = layout.quarantine / f"{outcome.load_id}"
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = path.name if SAFE_FILE_NAME.match(path.name) and ".." not in path.name else "rejected_file"
    shutil.copy2(path, folder / safe_name)
    source = SOURCES[outcome.source]
    (folder / LOAD_MANIFEST).write_text(json.dumps(_manifest(source, path, outcome, run_id, "rejected"), indent=2))
    report = folder / "report.txt"
    report.write_text(render_quarantine_report(path.name, outcome.source, outcome.checks), encoding="utf-8")
    return report


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def register_lake_views(layout: WarehouseLayout, sources: Iterable[Source] | None = None) -> None:
    """In the build database, one view per source over its accepted loads (dbt's sources)."""
    layout.ensure()
    with duckdb.connect(str(layout.build_db)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS lake")
        for source in sources or SOURCES.values():
            con.execute(f"CREATE OR REPLACE VIEW lake.{source.name} AS {lake_select(layout, source)}")
        con.execute(f"CREATE OR REPLACE VIEW lake.load_ledger AS {ledger_select(layout)}")


def lake_select(layout: WarehouseLayout, source: Source) -> str:
    files = layout.lake / source.name / "load_id=*" / DATA_FILE
    if any((layout.lake / source.name).glob(f"load_id=*/{DATA_FILE}")):
        return f"SELECT * FROM read_parquet('{_sql_path(files)}', union_by_name = true)"
    empty = ", ".join(f'CAST(NULL AS {c.type}) AS "{c.name}"' for c in source.columns)
    return f"SELECT {empty}, CAST(NULL AS VARCHAR) AS _load_id, CAST(NULL AS BIGINT) AS _row_number WHERE false"


# the fields of a load manifest that the ledger view and the audit read
LOAD_COLUMNS = {
    "load_id": "VARCHAR",
    "source": "VARCHAR",
    "file_name": "VARCHAR",
    "landing_path": "VARCHAR",
    "sha256": "VARCHAR",
    "rows": "BIGINT",
    "status": "VARCHAR",
    "loaded_at": "TIMESTAMPTZ",
    "run_id": "VARCHAR",
}


def json_columns(columns: dict[str, str]) -> str:
    """A read_json `columns` struct literal."""
    return "{" + ", ".join(f"{name}: '{kind}'" for name, kind in columns.items()) + "}"


def empty_select(columns: dict[str, str]) -> str:
    return "SELECT " + ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in columns.items()) + " WHERE false"


def ledger_select(layout: WarehouseLayout) -> str:
    if any(layout.lake.glob(f"*/load_id=*/{LOAD_MANIFEST}")):
        files = _sql_path(layout.lake / "*" / "load_id=*" / LOAD_MANIFEST)
        return f"SELECT * FROM read_json('{files}', columns = {json_columns(LOAD_COLUMNS)})"
    return empty_select(LOAD_COLUMNS)
