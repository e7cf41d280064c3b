"""Department heads' own files (SPEC §8): each department's rows of the published warehouse, and nothing else.

DuckDB has no row-level security, so a department's BI connection points at a file of its own. After each
publication, for every department (when `[departments] publish` is on):

    departments/<CODE>/studio.duckdb     the department's rows of every table it may see (replaced by one rename)
    departments/<CODE>/exports/          each of its marts as Parquet, the cost fact one file per period (a link
                                         switched by one rename)
    departments/<CODE>/reports/          its report: <CODE>_budget_vs_actual.txt, .csv and .html (a link, likewise)

A department owns its projects (projects.department_code). Which rows of a table are the department's is
declared once, below, for every published table; a table not declared there is left out (a new mart is
studio-only until someone decides otherwise, and a test names it). Everything is SQL on the published file.
A publication rewrites what changed since the department's last files (`publish_department`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.config import WarehouseLayout
from orchestration.lib.report_render import load_report, render
from orchestration.lib.sql import literal, q
from orchestration.lib.warehouse import PARTITIONED_EXPORTS, part_filter, part_fingerprints

# The department's projects, in the database the rows are read from (`source`).
_PROJECTS = "(SELECT project_code FROM source.marts.mart_project_variance WHERE department_code = $department)"

# How a row is known to be the department's. A row that names another department is never the department's.
ROW_RULES = {
    # the row's department is the department (for project rows: the project's department)
    "department": "department_code = $department",
    # the row's project is one of the department's
    "project": f"project_code IN {_PROJECTS}",
    # both: a task on the department's project done by the department's own team
    "project_and_department": f"project_code IN {_PROJECTS} AND department_code = $department",
    # a budget transfer between two of the department's projects (one that crosses departments names the other's)
    "transfer": f"from_project_code IN {_PROJECTS} AND to_project_code IN {_PROJECTS}",
    # studio settings, the same for every department
    "all": "true",
}

# Every published table: which of its rows a department's files hold (README "Department heads").
DEPARTMENT_SCOPE: dict[str, str] = {
    "marts.dim_departments": "department",
    "marts.fct_actual_costs": "department",
    "marts.fct_budget_lines": "department",
    "marts.mart_line_item_variance": "department",
    "marts.mart_line_item_cost_report": "department",
    "marts.mart_project_variance": "department",
    "marts.mart_project_category_variance": "department",
    "marts.mart_department_variance": "department",
    "marts.mart_labor_variance": "department",
    "marts.mart_run_rate": "department",  # its line item, project and department rows; not the studio's
    "marts.mart_variance_alerts": "department",
    "marts.mart_variance_commentary": "department",
    "marts.mart_budget_transfers": "transfer",
    "marts.mart_budget_versions_compared": "project",
    "marts.rpt_studio_budget_vs_actual": "department",  # its accounts and subtotal; not the studio total
    "marts.rpt_department_variances_requiring_commentary": "department",  # ranked within the department
    "marts.rpt_project_cost_report": "project",
    "marts.mart_capacity_weekly": "department",  # the department's people (hours only, no projects)
    "marts.mart_task_flow": "project_and_department",
    "marts.mart_blockers": "project",
    "marts.mart_delivery_performance": "project",
    "marts.mart_milestone_slip": "project",
    "marts.mart_project_production": "project",
    "marts.rpt_project_production": "project",
    "marts.rpt_production_summary": "project",  # its project rows; not the studio row
    "audit.alert_history": "department",
    "reference.materiality_thresholds": "all",
    "reference.alert_thresholds": "all",
    "reference.approval_ladder": "all",
}

# Published tables a department's files leave out, and why.
STUDIO_ONLY: dict[str, str] = {
    "marts.mart_studio_variance": "the studio's totals: every department's money",
    "marts.mart_category_variance": "studio-wide by category: every department's money",
    "marts.mart_estimate_accuracy": "closed projects of every department, by project type",
    "marts.rpt_variances_requiring_commentary": "a studio-wide top list (its rank and count span departments)",
    "marts.rpt_budget_transfers": "the studio's transfer list (mart_budget_transfers holds the department's)",
    "marts.rpt_production_blockers": "a studio-wide top list (mart_blockers holds the department's)",
    "audit.loads": "the studio's landing files",
    "audit.check_results": "check results name rows of any department",
    "audit.warnings": "check results name rows of any department",
    "audit.publications": "the studio's publications (the department's file has audit.department_publication)",
    "audit.publication_loads": "the studio's landing files",
    "audit.mart_fingerprints": "row counts and hashes of the studio's marts",
    "audit.append_only_exports": "the studio's cost fact's build, what its next publication compares with",
}

SAFE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CARRIED = "carried.duckdb"  # the pipeline's copy of the department's last file, which the next one starts from
GENERATION = re.compile(r"\d{8}T\d{12}")  # a generation's folder name: when it was written, to the microsecond


@dataclass(frozen=True)
class DepartmentFiles:
    department_code: str
    published_db: Path
    tables: int
    rows: int


def department_folder(layout: WarehouseLayout, department_code: str) -> Path:
    return layout.departments / department_code


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def published_departments(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The departments of the published warehouse with their owners (none before `dim_departments` existed)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = 'dim_departments'"
    ).fetchone()[0]
    if not found:
        return []
    return _dicts(
        con.execute(
            "SELECT department_code, department_name, owner_email FROM marts.dim_departments ORDER BY department_code"
        )
    )


def publish_departments(layout: WarehouseLayout) -> tuple[list[DepartmentFiles], list[str]]:
    """Every department's files from the published warehouse; returns what was written and what was refused
    (a department whose code cannot be a folder name, or whose files failed: its previous files stay)."""
    if not layout.published_db.exists():
        return [], []
    with duckdb.connect(str(layout.published_db), read_only=True) as con:
        departments = published_departments(con)
        publication_id, published_at, as_of = con.execute(
            "SELECT publication_id, published_at, as_of FROM audit.publications ORDER BY published_at DESC LIMIT 1"
        ).fetchone()
    written, refused = [], []
    for department in departments:
        code = department["department_code"]
        if not SAFE_CODE.match(code):
            refused.append(f"{code!r}: a department code must be letters, digits, '.', '_' or '-' to be a folder")
            continue
        try:
            written.append(publish_department(layout, code, publication_id, published_at, as_of))
        except Exception as error:  # one department's failure never stops the others'
            refused.append(f"{code}: {type(error).__name__}: {error}")
    return written, refused


def publish_department(
    layout: WarehouseLayout, department_code: str, publication_id: str, published_at: object, as_of: object
) -> DepartmentFiles:
    """One department's studio.duckdb, exports and report, each written aside and switched in by a rename.

    Everything is written in the pipeline's own folder (`_internal/departments/<CODE>/`): the draft, the
    generation of exports and reports, the copy handed over. The department's folder may be changed by whoever
    it is handed to, so it is only written by renames onto its three entries (`studio.duckdb`, the `exports` and
    `reports` links), which never follow what stands there, and nothing in it is read. The pipeline keeps its
    own copy of the department's last file (`carried.duckdb`), which the new file starts as when that holds
    nothing but what this writes (`_carries_on`). A table is written again only where its rows differ from the
    published ones, compared by fingerprint (count and sum of row hashes, as the studio's exports are) of both
    sides: a small table whole, a partitioned mart (`PARTITIONED_EXPORTS`: the cost records, which grow with
    history) by the periods that differ. Its exports are one file per period (all the department's rows of it: a
    department's copy is not appended to), a period's file unchanged since the last generation kept (a hard
    link). A copy that cannot start it, or a carried write that fails with a database error, gives a file written
    whole. A run that fails leaves no draft or generation behind."""
    folder = department_folder(layout, department_code)
    if folder.is_symlink() or layout.departments.is_symlink():
        raise OSError(f"{folder} is a link: a department's files are written only into a folder of its own")
    folder.mkdir(parents=True, exist_ok=True)
    for entry in ("studio.duckdb", "studio.duckdb.wal", "exports", "reports"):  # before anything is written
        if (folder / entry).is_dir() and not (folder / entry).is_symlink():
            raise IsADirectoryError(f"a folder stands where the department's {entry} goes ({folder / entry}): move it")
    private = layout.internal / "departments" / department_code
    private.mkdir(parents=True, exist_ok=True)
    written_at = datetime.now(UTC)
    generation = private / f"{written_at:%Y%m%dT%H%M%S%f}"  # its own folder, even for the same publication
    draft = private / f"publishing-{generation.name}.duckdb"
    handed = private / f"handed-{generation.name}.duckdb"
    kept_copy = private / CARRIED
    carried = kept_copy.is_file()
    identity = {
        "department": department_code,
        "publication_id": publication_id,
        "published_at": published_at,
        "as_of": as_of,
        "written_at": written_at,
    }
    recorded = False  # the pipeline's copy names this generation: it stays, whatever fails after
    try:
        try:
            tables, rows, earlier = _write_draft(layout, identity, generation, draft, kept_copy if carried else None)
        except (duckdb.Error, NotCarried):
            if not carried:
                raise
            tables, rows, earlier = _write_draft(layout, identity, generation, draft, None)  # whole, from empty
        write_department_report(layout.published_db, department_code, generation / "reports")
        shutil.copyfile(draft, handed)  # the department's copy; the draft stays the pipeline's
        # a log a writer of the department's file left beside it would not match the new file: it would not open
        (folder / "studio.duckdb.wal").unlink(missing_ok=True)  # a link, not what it points to; folders refused above
        os.replace(handed, folder / "studio.duckdb")  # the one step a department's reader sees (never follows)
        recorded = True
        os.replace(draft, kept_copy)
        for name in ("exports", "reports"):
            _switch_link(folder / name, generation / name, private)
    except BaseException:
        for leftover in (draft, draft.with_name(f"{draft.name}.wal"), handed):
            leftover.unlink(missing_ok=True)
        if not recorded:
            shutil.rmtree(generation, ignore_errors=True)
        raise
    # the one before stays a refresh longer, for a reader that opened it (the copy's, or the newest other)
    before = sorted(p.name for p in private.iterdir() if p.is_dir() and GENERATION.fullmatch(p.name))
    newest_other = next((name for name in reversed(before) if name != generation.name), None)
    _clean_generations(folder, private, keep={generation.name, earlier, newest_other})
    return DepartmentFiles(department_code, folder / "studio.duckdb", tables, rows)


def _write_draft(
    layout: WarehouseLayout, identity: dict[str, object], generation: Path, draft: Path, carried: Path | None
) -> tuple[int, int, str | None]:
    """The department's new file at `draft` (from a copy of `carried`, or empty) and its exports in the
    generation's folder; returns the number of tables and of rows, and the generation the copy was written
    with (None: none)."""
    for leftover in (draft, draft.with_name(f"{draft.name}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(generation, ignore_errors=True)
    (generation / "exports").mkdir(parents=True)
    (generation / "reports").mkdir()
    if carried is not None:
        shutil.copyfile(carried, draft)  # a reader of the current file keeps it: the draft replaces it by rename
    department_code = str(identity["department"])
    tables = rows = 0
    with duckdb.connect(str(draft)) as con:
        con.execute("SET enable_progress_bar = false")  # a long statement draws no bar on the run's output
        con.execute(f"ATTACH '{literal(layout.published_db)}' AS source (READ_ONLY)")
        if carried is not None and not _carries_on(con):
            raise NotCarried(f"{carried} holds what a department's file does not: written whole")
        if carried is not None and (gone := _left_the_department(con, department_code)):
            # a table replaced or a part deleted in a copy leaves its old rows in the file's freed blocks
            raise NotCarried(f"{', '.join(gone)} left the department: written whole, keeping none of their rows")
        previous, earlier = _previous_fingerprints(con)
        # the export folder written with the copied file (not whatever `exports` points at: a run killed between
        # the file's rename and the link's switch left the link on the generation before)
        earlier_exports = generation.parent / earlier / "exports" if earlier else None
        fingerprints: dict[str, tuple[str, str]] = {}
        published = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'source' ORDER BY 1, 2"
        ).fetchall()
        kept = {("audit", "department_publication"), ("audit", "department_fingerprints")}
        for schema, table in published:
            rule = DEPARTMENT_SCOPE.get(f"{schema}.{table}")
            if rule is None:
                continue  # studio-only, or not classified yet: left out
            kept.add((schema, table))
            name = f"{q(schema)}.{q(table)}"
            relation = f"(SELECT * FROM source.{name} WHERE {_rule_for(rule, department_code)})"
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
            if schema == "marts" and table in PARTITIONED_EXPORTS:
                fingerprints |= _refresh_partitioned(
                    con, table, relation, previous, generation / "exports", earlier_exports
                )
            else:
                if _fingerprint(con, relation, schema, table, "source") != _fingerprint(
                    con, name, schema, table, "current"
                ):
                    con.execute(f"CREATE OR REPLACE TABLE {name} AS {relation}")
                if schema == "marts":
                    target = generation / "exports" / f"{table}.parquet"
                    con.execute(f"COPY {name} TO '{literal(target)}' (FORMAT parquet)")
            rows += con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            tables += 1
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall():
            if (schema, table) not in kept:  # no longer published, or no longer the department's
                con.execute(f"DROP TABLE {q(schema)}.{q(table)}")
        for (schema,) in con.execute(
            "SELECT schema_name FROM duckdb_schemas() s WHERE database_name = current_database() AND NOT internal "
            "AND schema_name <> 'main' AND NOT EXISTS (SELECT 1 FROM duckdb_tables() t "
            "WHERE t.database_name = s.database_name AND t.schema_name = s.schema_name)"
        ).fetchall():
            con.execute(f"DROP SCHEMA {q(schema)}")
        con.execute("CREATE SCHEMA IF NOT EXISTS audit")
        con.execute(
            "CREATE OR REPLACE TABLE audit.department_publication AS SELECT $department AS department_code, "
            "$publication_id AS publication_id, CAST($published_at AS TIMESTAMPTZ) AS published_at, "
            "CAST($as_of AS DATE) AS as_of, CAST($written_at AS TIMESTAMPTZ) AS written_at",
            identity,
        )
        con.execute(
            "CREATE OR REPLACE TABLE audit.department_fingerprints "
            "(generation VARCHAR, export_file VARCHAR, fingerprint VARCHAR, file_stat VARCHAR)"
        )
        con.executemany(
            "INSERT INTO audit.department_fingerprints VALUES (?, ?, ?, ?)",
            [(generation.name, name, *value) for name, value in sorted(fingerprints.items())],
        )
        con.execute("DETACH source")
        con.execute("CHECKPOINT")
    return tables, rows, earlier


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> str | None:
    """A table's columns, names and types in order, as one text (None: no such table); `database` is SQL:
    'source' (the published file) or current_database() (the draft)."""
    return con.execute(
        "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() "
        f"WHERE database_name = {database} AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone()[0]


def _fingerprint(con: duckdb.DuckDBPyConnection, relation: str, schema: str, table: str, database: str) -> object:
    """A table's (or a department's rows of it) columns, row count and hash sum; None for a table the draft
    lacks (`database` 'current': the draft's; 'source': the published file's)."""
    columns = _columns(con, "'source'" if database == "source" else "current_database()", schema, table)
    if columns is None:
        return None
    return (columns, *con.execute(f"SELECT count(*), sum(hash(t)) FROM {relation} AS t").fetchone())


# What a department's file holds besides its tables: nothing. A file holding anything else (a view, a macro, a
# schema or table this does not write) is not carried on: its replacement is written whole.
_OTHER_OBJECTS = (
    "SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND NOT internal",
    "SELECT count(*) FROM duckdb_functions() WHERE database_name = current_database() AND NOT internal",
    "SELECT count(*) FROM duckdb_sequences() WHERE database_name = current_database()",
    "SELECT count(*) FROM duckdb_indexes() WHERE database_name = current_database()",
    "SELECT count(*) FROM duckdb_types() WHERE database_name = current_database() AND NOT internal",
    "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() AND NOT internal "
    "AND schema_name NOT IN ('main', 'marts', 'reference', 'audit')",
)


class NotCarried(Exception):
    """The pipeline's copy of a department's last file cannot start the new one (`_carries_on`)."""


def _carries_on(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the draft, a copy of the pipeline's copy of the department's last file (a copy that does not open
    fails before this), can be carried on: it holds only tables this writes (and its fingerprints), and its
    partitioned marts have the published columns (`source`). Otherwise the new file is written whole from an
    empty one: a partitioned mart replaced whole in a copy would leave its old rows' blocks in the file as free
    space (a copy never shrinks)."""
    if not _previous_fingerprints(con)[0] or any(con.execute(sql).fetchone()[0] for sql in _OTHER_OBJECTS):
        return False
    here = con.execute(
        "SELECT DISTINCT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()
    allowed = set(DEPARTMENT_SCOPE) | {"audit.department_publication", "audit.department_fingerprints"}
    if any(name not in allowed for (name,) in here):
        return False
    return all(
        _columns(con, "current_database()", "marts", t) == _columns(con, "'source'", "marts", t)
        for t in PARTITIONED_EXPORTS
    )


# who and what a department's rows are about, by table: its projects, its people (their weeks' hours) and its tasks
# (a task carries its own department)
MEMBERS = (
    ("project", "mart_project_variance", "project_code"),
    ("person", "mart_capacity_weekly", "person_id"),
    ("task", "mart_task_flow", "task_id"),
)


def _left_the_department(con: duckdb.DuckDBPyConnection, department_code: str) -> list[str]:
    """The projects and people the department's last file holds rows of that are no longer the department's (a
    project moved to another department): its new file is then written whole, not carried on from that file."""
    gone = []
    for kind, table, column in MEMBERS:
        present = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ? "
            "AND database_name IN (current_database(), 'source')",
            [table],
        ).fetchone()[0]
        if present < 2:
            continue
        left = con.execute(
            f"SELECT DISTINCT {q(column)} FROM marts.{q(table)} WHERE {q(column)} IS NOT NULL EXCEPT "
            f"SELECT {q(column)} FROM source.marts.{q(table)} WHERE department_code = $department ORDER BY 1",
            {"department": department_code},
        ).fetchall()
        gone += [f"{kind} {value}" for (value,) in left]
    return gone


def _rule_for(rule: str, department_code: str) -> str:
    """The rule's SQL condition for one department (its code is a SAFE_CODE, quoted as a literal)."""
    return ROW_RULES[rule].replace("$department", f"'{literal(department_code)}'")


def _previous_fingerprints(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple[str, str]], str | None]:
    """The cost fact's export files as the pipeline's copy of the last file recorded them (the rows'
    fingerprint, and the file's size and modification time as written), and the generation whose export folder
    holds them (none: a new file, or one of another layout). They only name the files that may be linked
    again, if still as written; what the draft's rows are is computed from its rows."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'audit' "
        "AND table_name = 'department_fingerprints' AND column_name = 'file_stat'"
    ).fetchone()[0]
    if not found:
        return {}, None
    rows = con.execute(
        "SELECT generation, export_file, fingerprint, file_stat FROM audit.department_fingerprints"
    ).fetchall()
    generation = rows[0][0] if rows and GENERATION.fullmatch(str(rows[0][0])) else None
    return ({str(name): (str(value), str(stat)) for _, name, value, stat in rows} if generation else {}), generation


def _file_stat(path: Path) -> str:
    """What tells the file written from any other at its path, or the same changed since: its inode, size and
    modification time (of the path itself: a symbolic link is not the file)."""
    found = path.lstat()
    kind = "file" if stat.S_ISREG(found.st_mode) else "other"
    return f"{kind} {found.st_ino} {found.st_size} {found.st_mtime_ns}"


def _refresh_partitioned(
    con: duckdb.DuckDBPyConnection,
    table: str,
    relation: str,
    previous: dict[str, tuple[str, str]],
    export_dir: Path,
    earlier_exports: Path | None,
) -> dict[str, tuple[str, str]]:
    """The department's rows of a partitioned mart, in the draft and as one export file per part. The parts are
    fingerprinted on both sides (the published rows, the draft's rows): a part that differs is deleted and
    inserted again, a part no longer published deleted (the table written whole when the draft lacks it or its
    columns differ, or when the draft is new). A part's file is a hard link to the last generation's when the
    part is unchanged and that file was written from the same rows; else it is written. Returns the parts'
    fingerprints."""
    column = PARTITIONED_EXPORTS[table]
    columns = _columns(con, "'source'", "marts", table)
    (kind,) = con.execute(
        "SELECT max(data_type) FROM duckdb_columns() WHERE database_name = 'source' AND schema_name = 'marts' "
        "AND table_name = ? AND column_name = ?",
        [table, column],
    ).fetchone()
    current = part_fingerprints(con, relation, table, column, kind, columns)
    in_draft = _columns(con, "current_database()", "marts", table)
    # rows stored by part: a part's rows then fill row groups of their own, which a later DELETE of the part empties
    # (dropped at the checkpoint) instead of leaving deleted rows in every row group of the table, each group
    # rewritten by the checkpoint (a day's two periods of 8.7M rows: 17.7 s and the file 328 MB -> 569 MB)
    if in_draft != columns or not previous:
        con.execute(f"CREATE OR REPLACE TABLE marts.{q(table)} AS SELECT * FROM {relation} ORDER BY {q(column)}")
        changed = set(current)
    else:
        before = part_fingerprints(con, f"marts.{q(table)}", table, column, kind, columns)
        changed = {name for name, value in current.items() if before.get(name) != value}
        stale = [Path(name).stem for name in changed | (set(before) - set(current))]
        if stale:
            where = " OR ".join(part_filter(column, part) for part in stale)
            con.execute(f"DELETE FROM marts.{q(table)} WHERE {where}")
            fresh = [Path(name).stem for name in changed]
            if fresh:
                where = " OR ".join(part_filter(column, part) for part in fresh)
                ordered = f"SELECT * FROM {relation} WHERE {where} ORDER BY {q(column)}"
                con.execute(f"INSERT INTO marts.{q(table)} {ordered}")
    con.execute("SET preserve_insertion_order = false")
    files = {}
    for name, value in current.items():
        target = export_dir / name
        target.parent.mkdir(exist_ok=True)
        files[name] = (
            value,
            _linked_or_written(con, table, column, name, value, target, earlier_exports, previous, changed),
        )
    con.execute("RESET preserve_insertion_order")
    return files


def _linked_or_written(
    con: duckdb.DuckDBPyConnection,
    table: str,
    column: str,
    name: str,
    current_value: str,
    target: Path,
    earlier_exports: Path | None,
    previous: dict[str, tuple[str, str]],
    changed: set[str],
) -> str:
    """One part's export file: a hard link to the last generation's when its rows are unchanged and that file is
    as it was written (the department's folder is the department's: a file changed there is written again),
    else written from the draft. Returns the file's stat (`_file_stat`)."""
    earlier = earlier_exports / name if earlier_exports is not None else None
    if name not in changed and earlier is not None and previous.get(name, ("", ""))[0] == current_value:
        with contextlib.suppress(OSError):  # gone, or another file system: written
            if previous[name][1] == _file_stat(earlier):
                os.link(earlier, target, follow_symlinks=False)
                return _file_stat(target)
    rows = f"(FROM marts.{q(table)} WHERE {part_filter(column, Path(name).stem)})"
    con.execute(f"COPY {rows} TO '{literal(target)}' (FORMAT parquet)")
    return _file_stat(target)


def _switch_link(link: Path, target: Path, private: Path) -> None:
    """Point `link` (in the department's folder) at `target` (relative, so the warehouse folder can move): a link
    made in the pipeline's folder and renamed onto it."""
    temporary = private / f"link-{link.name}-{target.parent.name}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    os.replace(temporary, link)  # replaces a file or link there without following it


def _clean_generations(folder: Path, private: Path, keep: set[str | None]) -> None:
    """In the pipeline's folder: drop the generations but `keep`, and the drafts, copies and links of killed runs.
    In the department's: the half-made links and copies earlier layouts left there, removed without following
    them."""
    for leftover in private.iterdir():
        if leftover.is_dir() and not leftover.is_symlink():
            if leftover.name not in keep:
                # what a department wrote through its links is in there too: nothing it made stops the run
                with contextlib.suppress(Exception):
                    shutil.rmtree(leftover, ignore_errors=True)
        elif leftover.name != CARRIED:
            leftover.unlink(missing_ok=True)
    for leftover in [*folder.glob(".exports-*"), *folder.glob(".reports-*"), *folder.glob(".studio.duckdb-*")]:
        with contextlib.suppress(OSError):  # a folder there is not the pipeline's to delete
            leftover.unlink()


# --- the department's report (SPEC §8): `studio-budget report --level department CODE` as text, CSV and HTML ---

CSV_NAME = "{code}_budget_vs_actual.csv"
REPORT_FORMATS = {".txt": "text", ".csv": "csv", ".html": "html"}


def write_department_report(published_db: Path, department_code: str, folder: Path) -> list[Path]:
    """`<CODE>_budget_vs_actual.txt`, `.csv` and `.html` in `folder`, each written aside and renamed."""
    report = load_report(published_db, "department", department_code)
    written = []
    for suffix, fmt in REPORT_FORMATS.items():
        path = folder / f"{department_code}_budget_vs_actual{suffix}"
        draft = path.with_name(f".{path.name}.part")
        draft.write_text(render(report, fmt), encoding="utf-8")
        os.replace(draft, path)
        written.append(path)
    return written
