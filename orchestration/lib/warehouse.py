"""Atomic publication of the built warehouse for readers (SPEC §5 write-audit-publish).

The marts, reference seeds and the audit trail are written from the build database into a new
file beside the published one, which then replaces it with one rename. Readers holding the old
file keep reading it; a crash at any moment leaves the last good publication in place.
Parquet exports go to a new folder that the `exports` link is switched to, also by a rename. A mart that grows with
history (`PARTITIONED_EXPORTS`) is exported as a folder of one file per period, so that a day's publication writes
only the periods whose rows changed.

The new file starts as a file copy of the build database (not a query: the bytes as dbt wrote them), from which
everything but the published schemas is dropped. The build file holds nothing else of the build: the staging and
intermediate models are built in a file of their own (`WarehouseLayout.work_db`), because a dropped table's bytes
stay in the file (its blocks are only marked free).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import duckdb

from orchestration.lib.alerts import carry_alert_history
from orchestration.lib.config import StudioConfig, WarehouseLayout, in_process_memory_limit
from orchestration.lib.faults import pause_point
from orchestration.lib.lake import LOAD_COLUMNS, empty_select, json_columns
from orchestration.lib.sql import literal, q

PUBLISHED_SCHEMAS = ("marts", "reference")

# Marts exported as a folder of one Parquet file per value of a DATE column
# (`exports/<mart>.parquet/2026-10-01.parquet`, as Spark writes a table) rather than as one file: facts that grow
# with history, of which a day's loads change a few periods. DuckDB (1.4 and later), pandas, polars and Spark read
# the folder by the same path as a file. A publication writes the files of the periods whose rows changed and keeps
# the others (a 10M-row fact of 22 periods: about 6 s written whole; a day's delivery changed two periods, 1.5M
# rows, about 1.3 s, measured).
PARTITIONED_EXPORTS: Mapping[str, str] = MappingProxyType({"fct_actual_costs": "period"})
EMPTY_PART = "empty"  # the one file of a partitioned mart without rows: its columns, for readers


@dataclass(frozen=True)
class AppendOnly:
    """How an incremental build changes a partitioned mart, so that a publication hashes only the parts it may
    have changed (`part_fingerprints`) instead of every row (10M rows: 0.5 s).

    Between two full builds, a build keeps the mart's `kept` rows as they are and adds only rows of which one
    `high_water` column is above its highest value among the kept rows before (the mart's own rule: see
    fct_actual_costs.sql); the other rows it may replace whole. Each full build writes a new token into
    `marker` (the model's post-hook). So, when the token is the previous publication's, the parts the builds
    since may have changed are those of the rows not kept, then and now, and of the kept rows above the previous
    publication's high-water marks; every other part holds the rows it held then."""

    marker: str  # a table of one row, `build_token`: the mart's last full build, in the build database
    kept: str  # the condition of the rows a build between full builds leaves as they are
    high_water: tuple[str, ...]  # columns whose maximum over the kept rows marks what a build has added


APPEND_ONLY_EXPORTS: Mapping[str, AppendOnly] = MappingProxyType(
    {"fct_actual_costs": AppendOnly("lake.fct_actual_costs_build", "status = 'posted'", ("load_id", "cost_date"))}
)


@dataclass(frozen=True)
class Publication:
    publication_id: str
    published_at: str
    tables: int
    loads: int
    exports_written: int = 0  # Parquet files written: a mart's, or a period's of a partitioned mart
    exports_reused: int = 0  # files whose rows are unchanged since the previous publication: kept (a hard link)


def publish(
    layout: WarehouseLayout,
    run_id: str,
    as_of: str,
    memory_limit: str = in_process_memory_limit(StudioConfig.duckdb_memory_limit),
    build_db: Path | None = None,
    partitioned: Mapping[str, str] = PARTITIONED_EXPORTS,
    append_only: Mapping[str, AppendOnly] = APPEND_ONLY_EXPORTS,
) -> Publication:
    """Publish the marts and reference tables of `build_db` (default: DuckDB's build database); the marts of
    `partitioned` are exported as a folder of one file per value of the column it names, those of `append_only`
    hashing only the parts a build may have changed since the previous publication."""
    layout.ensure()
    now = datetime.now(UTC)
    publication_id = f"{now:%Y%m%dT%H%M%S%f}"
    draft_file = layout.internal / f"publishing-{publication_id}.duckdb"
    export_dir = layout.internal / "exports" / publication_id
    export_dir.mkdir(parents=True, exist_ok=True)
    build = build_db or layout.build_db
    with duckdb.connect(str(build), config={"memory_limit": memory_limit}) as con:
        con.execute("CHECKPOINT")  # whatever dbt left in the write-ahead log goes into the file copied next
    shutil.copyfile(build, draft_file)  # the published file is never written after its rename
    with duckdb.connect(str(draft_file), config={"memory_limit": memory_limit}) as con:
        tokens = _build_tokens(con, {t: a for t, a in append_only.items() if t in partitioned})
        tables = _keep_published_schemas(con)
        marts = [table for schema, table in tables if schema == "marts"]
        exports = _write_exports(con, layout, marts, export_dir, partitioned, append_only, tokens)
        loads = _write_audit(con, layout, publication_id, now, run_id, as_of, len(tables))
        # alert state is carried from the publication this one replaces (SPEC §7: a rerun raises nothing new)
        carry_alert_history(con, layout.published_db if layout.published_db.exists() else None, publication_id, now)
        _export_audit(con, export_dir / "audit")
        con.execute("CHECKPOINT")
    pause_point("publish")
    os.replace(draft_file, layout.published_db)  # the one atomic step readers see
    pause_point("exports")
    previous_exports = _switch_exports(layout, export_dir)
    _clean_leftovers(layout, keep={export_dir.name, previous_exports})
    return Publication(publication_id, now.isoformat(), len(tables), loads, exports["written"], exports["reused"])


def _keep_published_schemas(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Of the copied build database, drop every schema but the published ones (staging, intermediate, the lake's
    views, dbt's own) and every view, which would name what is dropped; return the published tables."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    for (schema,) in con.execute(
        "SELECT schema_name FROM duckdb_schemas() WHERE database_name = ? AND NOT internal", [database]
    ).fetchall():
        if schema not in (*PUBLISHED_SCHEMAS, "main"):
            con.execute(f'DROP SCHEMA "{schema}" CASCADE')
    for schema, view in con.execute(
        "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal", [database]
    ).fetchall():
        con.execute(f'DROP VIEW "{schema}"."{view}"')
    for schema, table in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
        [database],
    ).fetchall():
        con.execute(f'DROP TABLE "{schema}"."{table}"')
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        f"AND schema_name IN ({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) ORDER BY 1, 2",
        [database],
    ).fetchall()


def _export_audit(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """The audit schema as Parquet too (`exports/audit/<table>.parquet`): which loads, checks and publications
    stand behind the figures, for tools that do not speak DuckDB. Small tables: written every time."""
    folder.mkdir(parents=True, exist_ok=True)
    database = con.execute("SELECT current_database()").fetchone()[0]
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'audit' ORDER BY 1",
        [database],
    ).fetchall()
    for (table,) in tables:
        con.execute(f"COPY audit.\"{table}\" TO '{literal(folder / (table + '.parquet'))}' (FORMAT parquet)")


NOT_HASHED = "not hashed"


def _build_tokens(con: duckdb.DuckDBPyConnection, append_only: Mapping[str, AppendOnly]) -> dict[str, str]:
    """The token of each append-only mart's last full build (`AppendOnly.marker`), where the build wrote one."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    tokens = {}
    for table, rule in append_only.items():
        schema, name = rule.marker.split(".")
        if con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ?",
            [database, schema, name],
        ).fetchone()[0]:
            found = con.execute(f"SELECT build_token FROM {q(schema)}.{q(name)}").fetchall()
            if len(found) == 1 and found[0][0]:
                tokens[table] = str(found[0][0])
    return tokens


@dataclass(frozen=True)
class AppendedSince:
    """What a publication knows of an append-only mart's build (`AppendOnly`), for the next one to compare."""

    build_token: str
    high_water: tuple[str | None, ...]  # the kept rows' maximum of each high-water column, as text
    changing_parts: tuple[str, ...]  # the parts of the rows not kept
    rule: str  # the rule and the partitioning these were recorded by (`_rule_text`)


APPEND_STATE = "append_only_exports"  # audit table: one AppendedSince per append-only mart


def _appended_since(
    con: duckdb.DuckDBPyConnection, table: str, rule: AppendOnly, column: str, token: str
) -> AppendedSince:
    """The mart's state as this publication leaves it."""
    high = con.execute(
        f"SELECT {', '.join(f'CAST(max({q(c)}) AS VARCHAR)' for c in rule.high_water)} "
        f"FROM marts.{q(table)} WHERE {rule.kept}"
    ).fetchone()
    parts = con.execute(
        f"SELECT DISTINCT {_part_value(column)} FROM marts.{q(table)} WHERE NOT coalesce(({rule.kept}), false) "
        "ORDER BY 1"
    ).fetchall()
    return AppendedSince(token, tuple(high), tuple(p for (p,) in parts), _rule_text(rule, column))


def _rule_text(rule: AppendOnly, column: str) -> str:
    """An append-only mart's rule and partitioning as one text: a publication compares the previous one's state
    with its own only under the same rule (another rule, or another partitioning, hashes every part)."""
    return f"by {column}; kept: {rule.kept}; high water: {', '.join(rule.high_water)}"


def _parts_to_hash(
    con: duckdb.DuckDBPyConnection, table: str, rule: AppendOnly, column: str, before: AppendedSince
) -> set[str] | None:
    """The parts a build may have changed since the publication that left `before` (of the same full build):
    those of the rows not kept, then and now, and of the kept rows above its high-water marks; None: any part.
    Each condition is a SELECT of its own on a constant (their parts united), on which the engine skips the
    blocks of rows outside it (10M rows: 0.02 s)."""
    conditions = [f"NOT coalesce(({rule.kept}), false)"]
    for high_column, value in zip(rule.high_water, before.high_water, strict=True):
        if value is None:  # no kept rows then
            return None
        conditions.append(f"{q(high_column)} > CAST('{literal(value)}' AS {_column_type(con, table, high_column)})")
    queries = [f"SELECT {_part_value(column)} FROM marts.{q(table)} WHERE {c}" for c in conditions]
    return set(before.changing_parts) | {p for (p,) in con.execute(" UNION ".join(queries)).fetchall()}


def _column_type(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str:
    (kind,) = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'marts' "
        "AND table_name = ? AND column_name = ?",
        [table, column],
    ).fetchone()
    return kind


def _previous_appended(con: duckdb.DuckDBPyConnection) -> dict[str, AppendedSince]:
    """The append-only marts' state the previous publication (attached as `previous`) recorded, if it did (with
    the rule it was recorded by: a record without one is none)."""
    if not con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = 'previous' AND schema_name = 'audit' "
        "AND table_name = ? AND column_name = 'rule'",
        [APPEND_STATE],
    ).fetchone()[0]:
        return {}
    rows = con.execute(
        f"SELECT table_name, build_token, high_water, changing_parts, rule FROM previous.audit.{APPEND_STATE}"
    ).fetchall()
    return {table: AppendedSince(token, tuple(high), tuple(parts), rule) for table, token, high, parts, rule in rows}


def _fingerprints(
    con: duckdb.DuckDBPyConnection,
    database: str,
    marts: list[str],
    previous: dict[str, str],
    partitioned: Mapping[str, str],
    changed_parts: Mapping[str, set[str]] = MappingProxyType({}),
) -> dict[str, str]:
    """Each export file's content as one value, by its path in the export folder: the mart's columns (names,
    types), row count and the sum of its rows' hashes; for a partitioned mart, one per value of its column
    (`part_fingerprints`). The sum is not taken when the previous publication's fingerprint of an unpartitioned
    mart has other columns or another row count: the mart has changed whatever its rows hold. A fingerprint
    without a sum equals no other: the next publication writes that file again. `changed_parts`: for a
    partitioned mart, the only parts whose rows may differ from the previous publication's; the others'
    fingerprints are carried from it, not hashed again (`part_fingerprints`)."""
    found = {}
    for table in marts:
        # its columns, and the type of the column a partitioned mart is exported by
        columns, kind = con.execute(
            "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index), "
            "max(data_type) FILTER (WHERE column_name = ?) FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = 'marts' AND table_name = ?",
            [partitioned.get(table), database, table],
        ).fetchone()
        if table in partitioned:
            found |= part_fingerprints(
                con, f"marts.{q(table)}", table, partitioned[table], kind, columns, changed_parts.get(table), previous
            )
            continue
        (rows,) = con.execute(f'SELECT count(*) FROM marts."{table}"').fetchone()
        counted = f"{columns} | {rows} | "
        key = f"{table}.parquet"
        if key not in previous or previous[key].startswith(counted):
            (hashes,) = con.execute(f'SELECT sum(hash(t)) FROM marts."{table}" AS t').fetchone()
            found[key] = f"{counted}{hashes}"
        else:
            found[key] = f"{counted}{NOT_HASHED}"
    return found


def _mart_of(export_file: str) -> str:
    """The mart an export file holds: `fct_actual_costs.parquet/2026-10-01.parquet` → `fct_actual_costs`."""
    return export_file.split("/")[0].removesuffix(".parquet")


def _part_value(column: str) -> str:
    """The SQL text of a row's part of a partitioned mart: its column's value as text ('null' for none)."""
    return f"coalesce(CAST({q(column)} AS VARCHAR), 'null')"


def part_filter(column: str, part: str) -> str:
    """The SQL condition of a partitioned mart's rows in one part: its column compared as a DATE, so that
    DuckDB skips the row groups outside it (10M rows: a period's rows counted in 0.007 s, against 0.14 s with every
    row cast to text)."""
    if part == EMPTY_PART:
        return "false"
    if part == "null":
        return f"{q(column)} IS NULL"
    return f"{q(column)} = DATE '{literal(part)}'"


def part_fingerprints(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    table: str,
    column: str,
    kind: str | None,
    columns: str,
    changed: set[str] | None = None,
    previous: Mapping[str, str] = MappingProxyType({}),
) -> dict[str, str]:
    """The fingerprints of a partitioned mart's files, one per value of its DATE column (one scan of `relation`,
    the mart's rows: the table, or a department's rows of it). Only a DATE names files safely: its text is
    `YYYY-MM-DD`, never `null` or `empty` (the names of the files of rows without one and of a mart without
    rows), never a name Spark or pyarrow would take for a hidden file. `changed`: when known, the only parts whose
    rows may differ from those of the publication that recorded `previous` (its fingerprints); every other part
    keeps its recorded fingerprint where that names the same columns and row count, and the rest are hashed."""
    if kind != "DATE":
        raise ValueError(f"marts.{table} is exported by {column}, which must be a DATE column (found: {kind})")
    known: dict[str, str] = {}
    if changed is None:
        parts = con.execute(_by_part(column, f"count(*), sum(hash(t)) FROM {relation} AS t")).fetchall()
    else:
        counts = dict(con.execute(_by_part(column, f"count(*) FROM {relation} AS t")).fetchall())
        for part, rows in counts.items():
            _check_part_name(table, column, part)
            recorded = previous.get(_part_file(table, part), "")
            if part not in changed and recorded.startswith(f"{columns} | {rows} | ") and NOT_HASHED not in recorded:
                known[_part_file(table, part)] = recorded
        hashed = [p for p in counts if _part_file(table, p) not in known]
        parts = []
        if hashed:
            parts = con.execute(
                _by_part(
                    column,
                    f"count(*), sum(hash(t)) FROM {relation} AS t "
                    f"WHERE {' OR '.join(part_filter(column, p) for p in hashed)}",
                )
            ).fetchall()
    if not parts and not known:
        return {_part_file(table, EMPTY_PART): f"{columns} | 0 | "}
    found = dict(known)
    for part, rows, hashes in parts:
        _check_part_name(table, column, part)
        found[_part_file(table, part)] = f"{columns} | {rows} | {hashes}"
    return found


def _by_part(column: str, aggregates: str) -> str:
    """`SELECT <aggregates>` grouped by the part's column (`aggregates` goes on to its FROM and WHERE), each group
    named by its part (`_part_value`): the rows are grouped by the DATE itself and only the groups' values are cast
    to text (10M rows, 23 periods: counted in 0.016 s instead of 0.09 s with every row's date cast)."""
    return f"SELECT {_part_value(column)}, * EXCLUDE ({q(column)}) FROM (SELECT t.{q(column)}, {aggregates} GROUP BY 1)"


def _part_file(table: str, part: str) -> str:
    """The export file of a partitioned mart's part: `fct_actual_costs.parquet/2026-10-01.parquet`."""
    return f"{table}.parquet/{part}.parquet"


def _check_part_name(table: str, column: str, part: str) -> None:
    if part != "null" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", part):
        raise ValueError(f"{table}.{column} = {part!r} cannot name an export file")


def _write_exports(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    marts: list[str],
    export_dir: Path,
    partitioned: Mapping[str, str],
    append_only: Mapping[str, AppendOnly] = APPEND_ONLY_EXPORTS,
    tokens: Mapping[str, str] = MappingProxyType({}),
) -> dict[str, int]:
    """Every mart as Parquet in the new export folder: one file, or for a partitioned mart one file per value of
    its column. A file whose rows are those of the previous publication is kept (a hard link to it, not a
    rewrite); the others are written. The fingerprints go to audit.mart_fingerprints for the next publication to
    compare with. An append-only mart (`AppendOnly`) whose full build (`tokens`) is the previous publication's
    has only the parts its builds since may have changed hashed; the others' fingerprints are carried."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    previous: dict[str, str] = {}
    appended: dict[str, AppendedSince] = {}
    earlier_dir = None
    if layout.published_db.exists():
        con.execute(f"ATTACH '{literal(layout.published_db)}' AS previous (READ_ONLY)")
        if con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'previous' AND schema_name = 'audit' "
            "AND table_name = 'mart_fingerprints'"
        ).fetchone()[0]:
            # by export file; a publication before partitioned exports had one file per mart, named after it
            has_files = con.execute(
                "SELECT count(*) FROM duckdb_columns() WHERE database_name = 'previous' AND schema_name = 'audit' "
                "AND table_name = 'mart_fingerprints' AND column_name = 'export_file'"
            ).fetchone()[0]
            export_file = "export_file" if has_files else "table_name || '.parquet'"
            previous = dict(
                con.execute(f"SELECT {export_file}, fingerprint FROM previous.audit.mart_fingerprints").fetchall()
            )
            # that publication's own export folder, not whatever `exports` points at: a run killed between the
            # rename of studio.duckdb and the switch of the link left the link on an older generation
            (last,) = con.execute("SELECT max(publication_id) FROM previous.audit.publications").fetchone()
            earlier_dir = layout.internal / "exports" / last if last else None
            appended = _previous_appended(con)
        con.execute("DETACH previous")
    changed_parts = {}
    for table, token in tokens.items():
        before = appended.get(table)
        if (
            table in marts
            and before is not None
            and before.build_token == token
            and before.rule == _rule_text(append_only[table], partitioned[table])
        ):
            to_hash = _parts_to_hash(con, table, append_only[table], partitioned[table], before)
            if to_hash is not None:
                changed_parts[table] = to_hash
    current = _fingerprints(con, database, marts, previous, partitioned, changed_parts)
    written = reused = 0
    # a table's rows have no order: the file is written by every thread at once (4.6 s instead of 5.7 s for a
    # 10M-row fact, measured)
    con.execute("SET preserve_insertion_order = false")
    for name, fingerprint in current.items():
        target = export_dir / name
        target.parent.mkdir(exist_ok=True)
        earlier = earlier_dir / name if earlier_dir is not None else None
        # a fingerprint not hashed differs from the previous one by construction (_fingerprints)
        if previous.get(name) == fingerprint and earlier is not None and earlier.is_file():
            try:
                os.link(earlier, target)
                reused += 1
                continue
            except OSError:
                pass  # another file system: write it
        table = _mart_of(name)
        rows = f"marts.{q(table)}"
        if table in partitioned:
            rows = f"(FROM {rows} WHERE {part_filter(partitioned[table], target.stem)})"
        con.execute(f"COPY {rows} TO '{literal(target)}' (FORMAT parquet)")
        written += 1
    con.execute("RESET preserve_insertion_order")
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute("CREATE TABLE audit.mart_fingerprints (table_name VARCHAR, export_file VARCHAR, fingerprint VARCHAR)")
    con.executemany(
        "INSERT INTO audit.mart_fingerprints VALUES (?, ?, ?)",
        [(_mart_of(name), name, fingerprint) for name, fingerprint in current.items()],
    )
    con.execute(
        f"CREATE TABLE audit.{APPEND_STATE} (table_name VARCHAR, build_token VARCHAR, high_water VARCHAR[], "
        "changing_parts VARCHAR[], rule VARCHAR)"
    )
    for table, token in tokens.items():
        if table in marts:
            state = _appended_since(con, table, append_only[table], partitioned[table], token)
            con.execute(
                f"INSERT INTO audit.{APPEND_STATE} VALUES (?, ?, ?, ?, ?)",
                [table, state.build_token, list(state.high_water), list(state.changing_parts), state.rule],
            )
    return {"written": written, "reused": reused}


def _write_audit(
    con: duckdb.DuckDBPyConnection,
    layout: WarehouseLayout,
    publication_id: str,
    now: datetime,
    run_id: str,
    as_of: str,
    tables: int,
) -> int:
    """The audit schema: which loads make up this publication, and every earlier publication."""
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    manifests = _manifest_globs(layout)
    con.execute(f"CREATE TABLE audit.loads AS {_loads_select(manifests)}")
    con.execute(f"CREATE TABLE audit.check_results AS {_checks_select(manifests)}")
    con.execute("CREATE TABLE audit.warnings AS SELECT * FROM audit.check_results WHERE NOT passed AND NOT blocking")
    loads = con.execute("SELECT count(*) FROM audit.loads WHERE status = 'accepted'").fetchone()[0]
    con.execute(
        "CREATE TABLE audit.publications (publication_id VARCHAR, published_at TIMESTAMPTZ, run_id VARCHAR, "
        "as_of DATE, tables INTEGER, loads INTEGER)"
    )
    # the history is the one readers saw: the publications recorded in the warehouse this one replaces
    if layout.published_db.exists():
        con.execute(f"ATTACH '{literal(layout.published_db)}' AS previous (READ_ONLY)")
        con.execute(
            "INSERT INTO audit.publications SELECT publication_id, published_at, run_id, as_of, tables, loads "
            "FROM previous.audit.publications"
        )
        con.execute("DETACH previous")
    con.execute(
        "INSERT INTO audit.publications VALUES (?, ?, ?, ?, ?, ?)",
        [publication_id, now.isoformat(), run_id, as_of, tables, loads],
    )
    con.execute(
        "CREATE TABLE audit.publication_loads AS SELECT ? AS publication_id, load_id, source, file_name, sha256 "
        "FROM audit.loads WHERE status = 'accepted'",
        [publication_id],
    )
    return int(loads)


CHECK_FIELDS = {
    "rule": "VARCHAR",
    "column": "VARCHAR",
    "blocking": "BOOLEAN",
    "passed": "BOOLEAN",
    "bad_rows": "BIGINT",
    "message": "VARCHAR",
}


def _manifest_globs(layout: WarehouseLayout) -> list[str]:
    """The load manifests: accepted loads in the lake, rejected ones in quarantine."""
    found = []
    for folder, pattern in ((layout.lake, "*/load_id=*/_load.json"), (layout.quarantine, "*/_load.json")):
        if any(folder.glob(pattern)):
            found.append(literal(folder / pattern))
    return found


def _loads_select(globs: list[str]) -> str:
    """Every load, accepted or rejected, from its manifest."""
    if not globs:
        return empty_select(LOAD_COLUMNS)
    files = ", ".join(f"'{g}'" for g in globs)
    return f"SELECT * FROM read_json([{files}], columns = {json_columns(LOAD_COLUMNS)}) ORDER BY loaded_at, load_id"


def _checks_select(globs: list[str]) -> str:
    """Every rule's result on every load."""
    fields = ", ".join(f'"{n}": "{k}"' for n, k in CHECK_FIELDS.items())
    if not globs:
        columns = {"load_id": "VARCHAR", "source": "VARCHAR", "file_name": "VARCHAR", **CHECK_FIELDS}
        return empty_select(columns)
    files = ", ".join(f"'{g}'" for g in globs)
    columns = json_columns({"load_id": "VARCHAR", "source": "VARCHAR", "file_name": "VARCHAR", "checks": "JSON"})
    manifests = f"read_json([{files}], columns = {columns})"
    return (
        "SELECT load_id, source, file_name, c.* FROM ("
        f"SELECT load_id, source, file_name, unnest(from_json(checks, '[{{{fields}}}]')) AS c FROM {manifests})"
    )


def _switch_exports(layout: WarehouseLayout, export_dir: Path) -> str | None:
    """Point `exports` at the new folder with one rename of a symbolic link; return the folder it left.

    The link is relative, so a warehouse folder can be moved or copied whole."""
    link = layout.exports
    previous = Path(os.readlink(link)).name if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a plain folder from an earlier layout
    temporary = link.with_name(f".exports-{export_dir.name}")
    temporary.symlink_to(export_dir.relative_to(link.parent), target_is_directory=True)
    os.replace(temporary, link)
    return previous


def _clean_leftovers(layout: WarehouseLayout, keep: set[str | None]) -> None:
    """Remove half-written publications of killed runs, and export folders neither the link nor the last
    publication points to (a reader that opened the previous generation keeps it one more refresh)."""
    for leftover in layout.internal.glob("publishing-*.duckdb*"):
        leftover.unlink(missing_ok=True)
    for folder in (layout.internal / "exports").iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
    for link in layout.root.glob(".exports-*"):
        link.unlink(missing_ok=True)
