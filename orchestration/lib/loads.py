"""Ingest: every new landing file of a source through the gate into the lake, or into quarantine (SPEC §5).

One file is one load. It is read as text into its own check database, its suite runs there, and an accepted
load is written to the lake typed by the contract; a rejected one goes to `quarantine/<load_id>/` with a
readable report, and nothing of it reaches the lake. A file whose sha256 the lake already holds is skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from great_expectations.core import ExpectationSuiteValidationResult

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.contract import SOURCES, Source, source_for_file
from orchestration.lib.faults import pause_point
from orchestration.lib.freshness import hash_cache, landing_sha256
from orchestration.lib.gate.checks import CHECK_DB_CONFIG, run_gate
from orchestration.lib.gate.context import RunContext, prepare_context
from orchestration.lib.gate.data_docs import write_load_page
from orchestration.lib.gate.landed import READABLE, read_landed
from orchestration.lib.gate.results import DATA_DOCS_LINE, CheckResult, render_quarantine_report
from orchestration.lib.gate.rules import DATA_ROWS_RULE
from orchestration.lib.lake import LOAD_MANIFEST, accepted_manifests, remove_incomplete_loads, write_load
from orchestration.lib.mappings import (
    Mapping,
    export_origin,
    load_mappings,
    map_export,
    mapping_for_file,
    rate_currency_check,
)

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
    data_docs: Path | None = None  # GX's Data Docs page of its validation (none when the suite did not run)

    def progress_line(self) -> str:
        """One line on what happened to the file: loaded with its rows, already loaded, or rejected."""
        if self.status == "accepted":
            return f"loaded {self.file_name}: {self.rows:,} row{'' if self.rows == 1 else 's'}"
        if self.status == "skipped":
            return f"{self.file_name} already loaded"
        return f"rejected {self.file_name}"

    @property
    def reasons(self) -> list[str]:
        return [c.message for c in self.checks if not c.passed and c.blocking]

    @property
    def warnings(self) -> list[str]:
        return [c.message for c in self.checks if not c.passed and not c.blocking]


def unsafe_name_message(name: str) -> str:
    """Why a file name is refused, naming what in it is not allowed (`gl_actuals_oct (1).csv`: '(' and ')')."""
    odd = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "._ -"))})
    found = []
    if odd:
        found.append(f"it holds {' '.join(repr(c) for c in odd)}")
    if ".." in name:
        found.append("it holds '..'")
    if name[:1] in (".", "_", "-", " "):
        found.append(f"it starts with {name[:1]!r}")
    return f"{UNSAFE_NAME_MESSAGE}: {'; '.join(found)}; rename it" if found else UNSAFE_NAME_MESSAGE


def new_load_id(sha256: str) -> str:
    # sortable by load time, unique by content
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{sha256[:12]}"


def source_for_landing_file(file_name: str, mappings: dict[str, Mapping]) -> Source | None:
    """A contract file's source by its name prefix (SPEC §4), else the target of the mapping it is named after
    (an export as a studio's own tool writes it, SPEC §4b)."""
    source = source_for_file(file_name)
    if source is None and (mapping := mapping_for_file(file_name, mappings)) is not None:
        return mapping.target
    return source


def landing_files(landing_dir: Path, source: Source, mappings: dict[str, Mapping] | None = None) -> list[Path]:
    """The landing files of one source, in name order: its own files and exports mapped to it."""
    if not landing_dir.is_dir():
        return []
    mappings = load_mappings() if mappings is None else mappings
    found = [
        p
        for p in landing_dir.iterdir()
        if p.is_file() and (s := source_for_landing_file(p.name, mappings)) and s.name == source.name
    ]
    return sorted(found, key=lambda p: p.name)


def ingest_source(
    source: Source,
    landing_dir: Path,
    layout: WarehouseLayout,
    run_id: str = "",
    run: RunContext | None = None,
    mappings: dict[str, Mapping] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[LoadOutcome]:
    """Load every new landing file of one source; return what happened to each. `mappings` default to the
    ones in mappings/. `progress` hears of each file as its turn comes and as it ends (a terminal's status line:
    the gate of a ten-million-row ledger takes a while)."""
    mappings = load_mappings() if mappings is None else mappings
    layout.ensure()
    remove_incomplete_loads(layout, source)
    for leftover in layout.check_dbs.glob(f"{source.name}-*"):  # a killed run's check databases
        leftover.unlink(missing_ok=True)
    known = {m["sha256"]: m for m in accepted_manifests(layout, source.name)}
    hashes = hash_cache(layout)  # the landing files' sha256 as the run's start hashed them (read once)
    outcomes = []
    for path in landing_files(landing_dir, source, mappings):
        if progress:
            progress(f"checking {path.name}")
        mapping = _mapping_of(path.name, mappings)
        outcome = ingest_file(path, source, layout, known, run_id, run or RunContext(), mapping, hashes)
        if progress:
            progress(outcome.progress_line())
        outcomes.append(outcome)
    return outcomes


def _mapping_of(file_name: str, mappings: dict[str, Mapping]) -> Mapping | None:
    return None if source_for_file(file_name) is not None else mapping_for_file(file_name, mappings)


def ingest_file(
    path: Path,
    source: Source,
    layout: WarehouseLayout,
    known: dict[str, dict],
    run_id: str,
    run: RunContext,
    mapping: Mapping | None = None,
    hashes: dict[str, str] | None = None,
) -> LoadOutcome:
    sha = landing_sha256(path, hashes or {})
    if sha in known:
        return LoadOutcome(path.name, source.name, "skipped", known[sha]["load_id"], sha, known[sha]["rows"])
    load_id = new_load_id(sha)
    outcome = LoadOutcome(path.name, source.name, "rejected", load_id, sha)
    if not SAFE_FILE_NAME.match(path.name) or ".." in path.name:
        outcome.checks = [CheckResult.failure("the file name is plain", unsafe_name_message(path.name))]
        if not _rejected_before(path, outcome, layout):
            outcome.quarantine_report = _quarantine(path, outcome, layout, run_id)
        return outcome
    check_db = layout.check_dbs / f"{source.name}-{load_id}.duckdb"
    check_db.parent.mkdir(parents=True, exist_ok=True)
    try:
        unreadable, mapped = _read_with_context(path, source, layout, run, check_db, outcome, mapping)
        pause_point("checks")
        validations: list[ExpectationSuiteValidationResult] = []
        outcome.checks = [unreadable] if unreadable else mapped + run_gate(check_db, source, validations)
        if mapping is not None:
            for check in outcome.checks[len(mapped) :]:
                origin = export_origin(mapping, check.column) if not check.passed else None
                if origin:
                    check.message = f"{check.message} ({origin})"
                if check.rule == DATA_ROWS_RULE and not check.passed and source.kind == "actuals":
                    # a ledger or time tracker's export of a quiet week (a header, balances and totals only) is a
                    # load of no rows; a budget export with none is still an error
                    check.blocking = False
                    check.message = f"{DATA_ROWS_RULE}: the export has no transactions (a quiet week?): loaded empty"
        rejected = any(not c.passed and c.blocking for c in outcome.checks)
        if rejected and _rejected_before(path, outcome, layout):
            return outcome  # its Data Docs page too is its first rejection's
        if validations:
            outcome.data_docs = write_load_page(layout, source.name, path.name, load_id, run_id, validations)
        if rejected:
            outcome.quarantine_report = _quarantine(path, outcome, layout, run_id, export=mapping is not None)
            return outcome
        with duckdb.connect(str(check_db), read_only=True, config=CHECK_DB_CONFIG) as con:
            write_load(con, source, load_id, _manifest(source, path, outcome, run_id, "accepted"), layout)
    finally:
        for leftover in check_db.parent.glob(f"{check_db.name}*"):
            leftover.unlink(missing_ok=True)
    outcome.status = "accepted"
    known[sha] = {"load_id": load_id, "rows": outcome.rows}
    return outcome


def _read_with_context(
    path: Path,
    source: Source,
    layout: WarehouseLayout,
    run: RunContext,
    check_db: Path,
    outcome: LoadOutcome,
    mapping: Mapping | None,
) -> tuple[CheckResult | None, list[CheckResult]]:
    """Read the file (through its mapping, if an export) and its rules' context into the load's check database;
    why not, when it cannot be, and the mapping's own failed checks (crosswalk misses, cells off format)."""
    mapped: list[CheckResult] = []
    try:
        with duckdb.connect(str(check_db), config=CHECK_DB_CONFIG) as con:
            if mapping is None:
                unreadable = read_landed(con, path, source)
            else:
                mapped = map_export(con, path, mapping)
                unreadable = next((c for c in mapped if c.rule == READABLE), None)
            if unreadable is None:
                outcome.rows = int(con.execute("SELECT count(*) FROM landed").fetchone()[0])
                prepare_context(con, layout, source, run)
                if mapping is not None and (stated := rate_currency_check(con, mapping)) is not None:
                    mapped.append(stated)
            return unreadable, mapped
    except (duckdb.Error, OSError, ValueError) as error:  # one bad file never crashes the run
        detail = " ".join(str(error).split())[:400]
        return CheckResult.failure(READABLE, f"cannot be read: {detail}"), []


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


def _rejected_before(path: Path, outcome: LoadOutcome, layout: WarehouseLayout) -> bool:
    """Whether this file (its name and content) was quarantined before for the same reasons (its blocking rules
    and their messages: a warning may change with the as-of date or a warning's wording, the rejection does not);
    if so, the outcome takes that rejection's load id, report and Data Docs page. A file is checked again at every
    run (what it refers to may have arrived since), but a file still rejected as before is not kept twice."""
    failed = [(c.rule, c.message) for c in outcome.checks if not c.passed and c.blocking]
    for manifest in sorted(layout.quarantine.glob(f"*/{LOAD_MANIFEST}")):
        try:
            kept = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(kept, dict) or kept.get("sha256") != outcome.sha256 or kept.get("file_name") != path.name:
            continue
        report = manifest.parent / "report.txt"
        if not report.is_file():  # a run killed while quarantining it: not whole
            continue
        kept_checks = [c for c in kept.get("checks") or [] if isinstance(c, dict) and not c.get("passed")]
        if [(c.get("rule"), c.get("message")) for c in kept_checks if c.get("blocking")] == failed:
            outcome.load_id, outcome.quarantine_report = manifest.parent.name, report
            outcome.data_docs = _data_docs_of(report)
            return True
    return False


def _data_docs_of(report: Path) -> Path | None:
    """The Data Docs page a quarantine report links to (relative to it), None when it has none or it is gone."""
    for line in report.read_text(encoding="utf-8").splitlines():
        if line.startswith(DATA_DOCS_LINE):
            page = (report.parent / line.removeprefix(DATA_DOCS_LINE)).resolve()
            return page if page.is_file() else None
    return None


def _quarantine(path: Path, outcome: LoadOutcome, layout: WarehouseLayout, run_id: str, export: bool = False) -> Path:
    folder = layout.quarantine / f"{outcome.load_id}"
    folder.mkdir(parents=True, exist_ok=True)
    safe_name = path.name if SAFE_FILE_NAME.match(path.name) and ".." not in path.name else "rejected_file"
    shutil.copy2(path, folder / safe_name)
    source = SOURCES[outcome.source]
    (folder / LOAD_MANIFEST).write_text(json.dumps(_manifest(source, path, outcome, run_id, "rejected"), indent=2))
    report = folder / "report.txt"
    page = os.path.relpath(outcome.data_docs, folder) if outcome.data_docs else None
    report.write_text(
        render_quarantine_report(path.name, outcome.source, outcome.checks, page, export=export), encoding="utf-8"
    )
    return report
