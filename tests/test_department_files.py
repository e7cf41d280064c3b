"""Department heads get their own numbers and no one else's (SPEC §8).

On a copy of the published sample, each department's files are written (studio.duckdb, exports/*.parquet, the
report as text, CSV and HTML), then every file is scanned: every string of every column of every table, every
number, every word of the reports. What the department must not see is worked out from the landing files (the
other departments' codes, their projects' codes and names, the ids of their records, the amounts on their lines)
and from the full warehouse (the other departments' totals and the studio's); none of it may appear. The
department's own records and totals must appear, so a department file that held nothing would fail too.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.config import SAMPLE_LANDING_DIR, WarehouseLayout
from orchestration.lib.departments import DEPARTMENT_SCOPE, STUDIO_ONLY, publish_departments
from tests.conftest import CliRun, copy_warehouse, query

LANDING = SAMPLE_LANDING_DIR
DEPARTMENTS = [row[0] for row in duckdb.sql(f"SELECT department_code FROM '{LANDING / 'departments.csv'}'").fetchall()]

# landing source → (its record id, the amount columns on its lines)
RECORDS = {
    "gl_actuals*": ("txn_id", ("amount",)),
    "timesheets": ("entry_id", ()),
    "equipment_rentals": ("rental_id", ("day_rate", "damage_charge")),
    "invoices": ("invoice_id", ("amount",)),
    "purchase_orders": ("po_id", ("amount",)),
    "change_orders": ("change_order_id", ("revenue_amount", "budget_amount")),
    "budgets*": (None, ("amount",)),
    "estimates_to_complete": (None, ("etc_amount",)),
    "tasks": ("task_id", ()),
}
# the department's cost records: each is a row of its fct_actual_costs (a ledger line, or the entry it pays)
COST_RECORDS = ("gl_actuals*", "timesheets", "equipment_rentals", "invoices")
TOKEN = r"(?<![A-Za-z0-9_-]){}(?![A-Za-z0-9_-])"
WORD = re.compile(r"[A-Za-z0-9_-]+")  # what TOKEN bounds a code by: a whole word of these


def codes_in(text: str, codes: set[str]) -> set[str]:
    """The codes the text holds as TOKEN bounds them: one of word characters alone as a whole word of the text
    (a set lookup), any other through TOKEN itself."""
    words = {c for c in codes if WORD.fullmatch(c)}
    found = set(WORD.findall(text)) & words
    others = sorted(codes - words, key=len, reverse=True)
    if others:
        found |= {m.group(0) for m in re.finditer("|".join(TOKEN.format(re.escape(c)) for c in others), text)}
    return found


NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+\.\d+|-?\d+")


def landing(source: str) -> str:
    """A landing source as a DuckDB relation of text columns (every file of it, CSV or Parquet)."""
    files = sorted(LANDING.glob(f"{source}.csv")) + sorted(LANDING.glob(f"{source}.parquet"))
    selects = [
        f"SELECT * FROM read_csv('{f}', all_varchar = true)"
        if f.suffix == ".csv"
        else f"SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{f}')"
        for f in files
    ]
    return "(" + " UNION ALL BY NAME ".join(selects) + ")"


def cents(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() else None


@dataclass(frozen=True)
class Secrets:
    """What one department may not see, and what it must see."""

    codes: set[str]  # department and project codes, record ids: matched as whole words
    names: set[str]  # project names: matched as text
    amounts: set[Decimal]  # on other departments' lines and in their totals, and on none of its own
    own_records: set[str]  # its cost records' ids


def secrets_of(department: str, full_db: Path) -> Secrets:
    con = duckdb.connect()
    con.execute(f"ATTACH '{full_db}' AS full_db (READ_ONLY)")
    projects = dict(con.sql(f"SELECT project_code, department_code FROM {landing('projects')}").fetchall())
    names = dict(con.sql(f"SELECT project_code, project_name FROM {landing('projects')}").fetchall())
    own = {p for p, d in projects.items() if d == department}
    foreign = set(projects) - own
    codes = {d for d in DEPARTMENTS if d != department} | foreign
    foreign_amounts: set[Decimal] = set()
    own_amounts: set[Decimal] = set()
    own_records: set[str] = set()
    for source, (record_id, amounts) in RECORDS.items():
        relation = con.sql(f"SELECT * FROM {landing(source)}")
        for row in relation.fetchall():
            record = dict(zip(relation.columns, row, strict=True))
            mine = record["project_code"] in own
            if record_id and not mine:
                codes.add(record[record_id])
            elif record_id and source in COST_RECORDS:
                own_records.add(record[record_id])
            for column in amounts:
                value = cents(record[column])
                if value:
                    (own_amounts if mine else foreign_amounts).add(value)
    transfers = f"SELECT transfer_id, from_project_code, to_project_code, amount FROM {landing('budget_transfers')}"
    for transfer_id, source, target, amount in con.sql(transfers).fetchall():
        if source in foreign or target in foreign:
            codes.add(transfer_id)
            foreign_amounts.add(cents(amount))
    for project, value in con.sql(f"SELECT project_code, contract_value FROM {landing('projects')}").fetchall():
        if value and cents(value):
            (own_amounts if project in own else foreign_amounts).add(cents(value))
    # the other departments' totals and the studio's, from the full warehouse
    for table, columns, where in (
        ("mart_department_variance", "budget, actual, ytd_budget, ytd_actual", "department_code <> $department"),
        ("mart_project_variance", "budget, actual, final_budget, efc", "department_code <> $department"),
        ("mart_studio_variance", "budget, actual, ytd_budget, ytd_actual", "$department IS NOT NULL"),
    ):
        for row in con.execute(
            f"SELECT {columns} FROM full_db.marts.{table} WHERE {where}", {"department": department}
        ).fetchall():
            foreign_amounts |= {cents(v) for v in row if v}
    people = dict(con.sql(f"SELECT person_id, department_code FROM {landing('people')}").fetchall())
    # an amount on any row of the department's own, anywhere in the full warehouse, is its own: another
    # department having one like it (a round budget line, an hour count) is no leak
    own_amounts |= owned_amounts(con, department, own, people)
    return Secrets(
        codes=codes,
        names={names[p] for p in foreign},
        amounts=foreign_amounts - own_amounts - {Decimal("0.00")},
        own_records=own_records,
    )


def owned_amounts(
    con: duckdb.DuckDBPyConnection, department: str, own: set[str], people: dict[str, str]
) -> set[Decimal]:
    """Every number on a row of the full warehouse that is the department's by the landing files: its project's
    (project_code, or either side of a transfer), else its own (department_code), else its person's; and the
    studio's settings (reference), the same for everyone."""
    found: set[Decimal] = set()
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'full_db'")
    for schema, table in tables.fetchall():
        relation = con.sql(f'SELECT * FROM full_db.{schema}."{table}"')
        for row in relation.fetchall():
            record = dict(zip(relation.columns, row, strict=True))
            if record.get("project_code"):
                mine = record["project_code"] in own
            elif record.get("from_project_code"):
                mine = bool({record["from_project_code"], record["to_project_code"]} & own)
            elif record.get("department_code"):
                mine = record["department_code"] == department
            elif record.get("person_id"):
                mine = people.get(record["person_id"]) == department
            else:
                mine = schema == "reference"
            if mine:
                found |= {cents(v) for v in row if isinstance(v, int | float | Decimal) and not isinstance(v, bool)}
    return found


def values_of(con: duckdb.DuckDBPyConnection, relation: str) -> Iterator[object]:
    """Every value of every column of a relation."""
    for row in con.execute(f"SELECT * FROM {relation}").fetchall():
        yield from row


def files_in(folder: Path) -> list[Path]:
    """Every file under a folder, through the `exports` and `reports` links."""
    return sorted(Path(root) / name for root, _, names in os.walk(folder, followlinks=True) for name in names)


def file_values(folder: Path) -> Iterator[tuple[str, object]]:
    """(where, value) for every value in every file of a department's folder, links followed."""
    con = duckdb.connect()
    for path in files_in(folder):
        where = str(path.relative_to(folder))
        if path.suffix == ".parquet":
            for value in values_of(con, f"read_parquet('{path}')"):
                yield where, value
        elif path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as db:
                tables = db.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
                for schema, table in tables:
                    for value in values_of(db, f'{schema}."{table}"'):
                        yield f"{where}:{schema}.{table}", value
        else:
            text = path.read_text(encoding="utf-8")
            yield where, text  # codes and names: anywhere in the file, markup included
            # amounts: what a reader sees (an HTML page's text, a chart's labels and values), not the numbers of
            # its markup (a chart's coordinates, sizes and styles)
            shown = visible_text(text) if path.suffix == ".html" else text
            for number in NUMBER.findall(shown):
                yield where, cents(number)


class _ShownText(HTMLParser):
    """The figures a page shows: its text, a chart's values and labels; not styles, scripts, a chart's axis scale
    (round ticks: 10,000, 20,000, ...) or the coordinates of its points (`<desc class="x ...">`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # whether each open element hides its text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        hidden = tag in ("style", "script") or (tag == "g" and "axis" in classes)
        hidden = hidden or (tag == "desc" and bool({"x", "y"} & set(classes)))
        if tag not in ("br", "img", "meta", "link", "input", "hr"):  # HTML's elements without an end tag
            self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # `<path ... />` and the like: no text of their own

    def handle_endtag(self, tag: str) -> None:
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(markup: str) -> str:
    """The figures and words an HTML page shows (see `_ShownText`)."""
    parser = _ShownText()
    parser.feed(markup)
    return " ".join(parser.parts)


def leaks(folder: Path, secrets: Secrets) -> tuple[set[tuple[str, str]], set[str], set[Decimal]]:
    """What of the secrets the folder's files hold as (file, what) pairs; and every text and amount seen."""
    texts: dict[str, set[str]] = {}
    amounts: dict[str, set[Decimal]] = {}
    for where, value in file_values(folder):
        if isinstance(value, str):
            texts.setdefault(where, set()).add(value)
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            amounts.setdefault(where, set()).add(cents(value))
    found: set[tuple[str, str]] = set()
    for where, values in texts.items():
        text = "\n".join(values)
        found |= {(where, code) for code in codes_in(text, secrets.codes)}
        found |= {(where, name) for name in secrets.names if name in text}
    for where, values in amounts.items():
        found |= {(where, str(a)) for a in values & secrets.amounts}
    return found, set().union(*texts.values()), set().union(*amounts.values())


@pytest.fixture(scope="module")
def department_warehouse(sample_run: CliRun, tmp_path_factory: pytest.TempPathFactory) -> WarehouseLayout:
    """A warehouse holding a copy of the sample's published file, with every department's files written."""
    assert sample_run.exit_code == 0, sample_run.stderr
    layout = WarehouseLayout(tmp_path_factory.mktemp("departments") / "warehouse")
    layout.root.mkdir()
    shutil.copy2(sample_run.warehouse / "studio.duckdb", layout.published_db)
    written, refused = publish_departments(layout)
    assert refused == []
    assert sorted(f.department_code for f in written) == sorted(DEPARTMENTS)
    return layout


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_a_department_sees_its_own_numbers_and_no_one_elses(
    department_warehouse: WarehouseLayout, department: str
) -> None:
    folder = department_warehouse.departments / department
    secrets = secrets_of(department, department_warehouse.published_db)
    assert secrets.codes and secrets.amounts  # there is something to leak
    found, texts, amounts = leaks(folder, secrets)
    assert sorted(found) == []
    # its own: every record of its projects, its totals, its report in three formats
    seen = " ".join(texts)
    missing = set(secrets.own_records) - codes_in(seen, set(secrets.own_records))
    assert missing == set()
    own_ytd = query(
        department_warehouse.published_db,
        "SELECT ytd_actual FROM marts.mart_department_variance WHERE department_code = ? ORDER BY period DESC LIMIT 1",
        [department],
    )[0][0]
    assert cents(own_ytd) in amounts
    files = {p.name for p in files_in(folder)}
    assert {f"{department}_budget_vs_actual.{s}" for s in ("txt", "csv", "html")} <= files
    assert "studio.duckdb" in files


def test_the_scan_finds_what_a_department_must_not_see(
    department_warehouse: WarehouseLayout, tmp_path: Path, sample_run: CliRun
) -> None:
    """The scanner is not blind: the studio's own exports, scanned for the Production department, leak everything."""
    studio = tmp_path / "studio"
    shutil.copytree(sample_run.warehouse / "exports", studio / "exports")
    shutil.copy2(sample_run.warehouse / "reports" / "studio_budget_vs_actual.txt", studio)
    secrets = secrets_of("PROD", department_warehouse.published_db)
    found, _, _ = leaks(studio, secrets)
    leaked = {value for _, value in found}
    assert {d for d in DEPARTMENTS if d != "PROD"} <= leaked
    assert {str(a) for a in secrets.amounts} & leaked


def test_every_department_holds_the_rows_of_its_projects_to_the_cent(department_warehouse: WarehouseLayout) -> None:
    """Nothing of the department is missing: its cost records and budget lines, counted and summed from the full
    warehouse by the landing files' project → department map."""
    con = duckdb.connect()
    projects = f"(SELECT project_code, department_code FROM {landing('projects')})"
    con.execute(f"ATTACH '{department_warehouse.published_db}' AS full_db (READ_ONLY)")
    for department in DEPARTMENTS:
        exports = department_warehouse.departments / department / "exports"
        for mart, amount in (("fct_actual_costs", "amount_base"), ("fct_budget_lines", "amount_base")):
            expected = con.execute(
                f"SELECT count(*), sum({amount}) FROM full_db.marts.{mart} JOIN {projects} AS p USING (project_code) "
                "WHERE p.department_code = ?",
                [department],
            ).fetchone()
            got = con.execute(
                f"SELECT count(*), sum({amount}) FROM read_parquet('{exports / mart}.parquet')"
            ).fetchone()
            assert got == expected, (department, mart)


def test_every_published_table_is_scoped_or_declared_studio_only(sample_run: CliRun) -> None:
    """A new mart must be given a rule: until then it is left out of the department's files, and this fails."""
    published = {
        f"{s}.{t}"
        for s, t in query(sample_run.warehouse / "studio.duckdb", "SELECT schema_name, table_name FROM duckdb_tables()")
    }
    assert set(DEPARTMENT_SCOPE) & set(STUDIO_ONLY) == set()
    assert published == set(DEPARTMENT_SCOPE) | set(STUDIO_ONLY)


def test_files_are_replaced_whole_and_old_generations_cleaned(sample_run: CliRun, tmp_path: Path) -> None:
    """A second writing switches the links and the file by rename; the generation before stays, older ones go."""
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.root.mkdir()
    shutil.copy2(sample_run.warehouse / "studio.duckdb", layout.published_db)
    publish_departments(layout)
    folder = layout.departments / "AUDIO"
    first = (folder / "exports").readlink()
    # what a run killed in the middle leaves: a draft, a copy and a link made but not yet renamed into place, and
    # a link an earlier layout left half-made in the department's folder
    private = layout.internal / "departments" / "AUDIO"
    (private / "publishing-killed.duckdb").write_bytes(b"half")
    (private / "handed-killed.duckdb").write_bytes(b"half")
    (private / "link-exports-killed").symlink_to("nowhere")
    (folder / ".exports-killed").symlink_to("nowhere")
    for _ in range(2):
        publish_departments(layout)
    generations = sorted(p.name for p in private.iterdir() if p.is_dir())
    assert len(generations) == 2 and first.parent.name not in generations
    assert (folder / "exports").resolve() == private / generations[-1] / "exports"
    assert sorted(p.name for p in folder.iterdir()) == ["exports", "reports", "studio.duckdb"]
    assert sorted(p.name for p in private.iterdir() if not p.is_dir()) == ["carried.duckdb"]  # the pipeline's copy


def assert_same_files(ours: Path, theirs: Path) -> None:
    """Two department folders hold the same: the same files (through the links), each Parquet file's rows (as
    multisets), the same schemas, tables and columns in studio.duckdb, and each table's rows, but when and where
    they were written."""

    assert [p.relative_to(ours) for p in files_in(ours)] == [p.relative_to(theirs) for p in files_in(theirs)]
    con = duckdb.connect()
    for path in files_in(ours / "exports"):
        same = path.relative_to(ours)
        mine, other = f"read_parquet('{path}')", f"read_parquet('{theirs / same}')"
        assert con.execute(f"FROM {mine} EXCEPT ALL FROM {other}").fetchall() == [], same
        assert con.execute(f"FROM {other} EXCEPT ALL FROM {mine}").fetchall() == [], same
    con.execute(f"ATTACH '{ours / 'studio.duckdb'}' AS ours (READ_ONLY)")
    con.execute(f"ATTACH '{theirs / 'studio.duckdb'}' AS theirs (READ_ONLY)")
    catalog = (
        "SELECT schema_name, table_name, list(column_name || ' ' || data_type ORDER BY column_index) "
        "FROM duckdb_columns() WHERE database_name = ? GROUP BY ALL ORDER BY ALL"
    )
    tables = con.execute(catalog, ["ours"]).fetchall()
    assert tables == con.execute(catalog, ["theirs"]).fetchall()
    schemas = "SELECT list(schema_name ORDER BY schema_name) FROM duckdb_schemas() WHERE database_name = ?"
    assert con.execute(schemas, ["ours"]).fetchall() == con.execute(schemas, ["theirs"]).fetchall()
    for schema, table, _ in tables:
        if (schema, table) == ("audit", "department_publication"):
            continue  # when it was written
        drop = " EXCLUDE (generation, file_stat)" if table == "department_fingerprints" else ""
        mine, other = (f"SELECT *{drop} FROM {db}.{schema}.{table}" for db in ("ours", "theirs"))
        assert con.execute(f"{mine} EXCEPT ALL {other}").fetchall() == [], (ours.name, table)
        assert con.execute(f"{other} EXCEPT ALL {mine}").fetchall() == [], (ours.name, table)


def linked_periods(folder: Path) -> set[str]:
    """The periods of a department's cost export kept from the last generation (a hard link), not written."""
    exports = folder / "exports" / "fct_actual_costs.parquet"
    return {f.stem for f in exports.iterdir() if f.stat().st_nlink > 1}


def test_a_day_rewrites_only_the_cost_periods_it_changed_and_ends_as_a_whole_rewrite(
    sample_run: CliRun, tmp_path: Path
) -> None:
    """Department files are carried from the last ones: a day that changed one period of PROD's costs, removed
    OPS's January 2025, added a month of AUDIO's and changed PHOTO's budget lines writes those and keeps every
    other period's file (a hard link); every department's table and export then equals what files written from
    scratch hold. A department's folder changed by someone (rows edited, a view added, the file overwritten or
    made a link to the studio's warehouse, a log left beside it, a link made a file, a link out of the folder, an
    export file touched) is put right by the next publication, never followed out of the folder; the pipeline's
    own copy, damaged, gives files written whole, never a refusal."""
    daily = WarehouseLayout(tmp_path / "daily")
    daily.root.mkdir()
    shutil.copy2(sample_run.warehouse / "studio.duckdb", daily.published_db)
    publish_departments(daily)
    touched = {"PROD": {"2025-03-01"}, "OPS": {"2025-01-01"}, "AUDIO": {"2026-11-01"}}
    with duckdb.connect(str(daily.published_db)) as con:  # the next publication, as a day's run leaves it
        changed = con.execute(
            "UPDATE marts.fct_actual_costs SET amount_base = amount_base + 1 WHERE cost_id IN (SELECT cost_id "
            "FROM marts.fct_actual_costs WHERE department_code = 'PROD' AND period = '2025-03-01' LIMIT 3)"
        ).fetchone()[0]
        removed = con.execute(
            "DELETE FROM marts.fct_actual_costs WHERE department_code = 'OPS' AND period = '2025-01-01'"
        ).fetchone()[0]
        con.execute(
            "INSERT INTO marts.fct_actual_costs SELECT * REPLACE (DATE '2026-11-01' AS period) "
            "FROM marts.fct_actual_costs WHERE department_code = 'AUDIO' LIMIT 2"
        )
        # and a small table of one department's: PHOTO's budget lines
        assert con.execute(
            "UPDATE marts.fct_budget_lines SET amount_base = amount_base + 1 WHERE department_code = 'PHOTO'"
        ).fetchone()[0]
        parts = dict(
            con.execute(
                "SELECT department_code, list(DISTINCT CAST(period AS VARCHAR)) FROM marts.fct_actual_costs GROUP BY 1"
            ).fetchall()
        )
    assert changed == 3 and removed > 0
    written, refused = publish_departments(daily)
    assert refused == [] and len(written) == len(DEPARTMENTS)
    scratch = WarehouseLayout(tmp_path / "scratch")
    scratch.root.mkdir()
    shutil.copy2(daily.published_db, scratch.published_db)
    publish_departments(scratch)
    for department in DEPARTMENTS:  # POST, without costs, too
        folder = daily.departments / department
        kept = set(parts.get(department, ["empty"])) - touched.get(department, set())  # POST: its empty file
        assert linked_periods(folder) == kept, department
        assert_same_files(folder, scratch.departments / department)
    assert "2025-01-01" not in {
        f.stem for f in (daily.departments / "OPS" / "exports" / "fct_actual_costs.parquet").iterdir()
    }

    # each department's folder, changed by someone who can write to it: the next publication puts it right and
    # carries on from the pipeline's own copy; an export file changed in place is written again
    with duckdb.connect(str(daily.departments / "OPS" / "studio.duckdb")) as db:
        assert db.execute("UPDATE marts.fct_actual_costs SET amount_base = 0 WHERE period = '2025-03-01'").fetchone()[0]
        db.execute("CREATE VIEW marts.mine AS SELECT 1 AS x")
    (daily.departments / "AUDIO" / "studio.duckdb").write_bytes(b"not a database")
    # entries that would lead the pipeline out of the folder: each is replaced or removed, never followed
    warehouse_before = hashlib.sha256(daily.published_db.read_bytes()).hexdigest()
    (daily.departments / "POST" / "studio.duckdb").unlink()
    (daily.departments / "POST" / "studio.duckdb").symlink_to(daily.published_db)
    (daily.departments / "POST" / ".exports-left").symlink_to(daily.root, target_is_directory=True)
    (daily.departments / "AUDIO" / "reports").unlink()
    (daily.departments / "AUDIO" / "reports").write_text("a file where the link was", encoding="utf-8")
    with duckdb.connect(str(tmp_path / "writer.duckdb")) as db:  # a writer's log not yet checkpointed
        db.execute("PRAGMA disable_checkpoint_on_shutdown")
        db.execute("SET checkpoint_threshold = '1GB'")
        db.execute("CREATE TABLE notes AS SELECT 'in thousands' AS note")
    os.replace(tmp_path / "writer.duckdb.wal", daily.departments / "PHOTO" / "studio.duckdb.wal")
    edited = daily.departments / "PROD" / "exports" / "fct_actual_costs.parquet" / "2025-06-01.parquet"
    edited.write_bytes(edited.read_bytes())  # the same bytes, written again: another modification time
    # and the pipeline's own copies, as an older version or a damaged disk leaves them: written whole
    private = daily.internal / "departments"
    with duckdb.connect(str(private / "OPS" / "carried.duckdb")) as db:
        db.execute("DROP TABLE audit.department_fingerprints")
    (private / "POST" / "carried.duckdb").write_bytes(b"not a database")
    written, refused = publish_departments(daily)
    assert refused == [] and len(written) == len(DEPARTMENTS)
    assert hashlib.sha256(daily.published_db.read_bytes()).hexdigest() == warehouse_before
    assert {p.name for p in daily.root.iterdir()} >= {"studio.duckdb", "_internal", "departments"}
    assert not (daily.departments / "POST" / "studio.duckdb").is_symlink()
    rewritten = {"PROD": {"2025-06-01"}, "AUDIO": set(), "PHOTO": set()}  # carried; OPS and POST written whole
    for department in DEPARTMENTS:
        folder = daily.departments / department
        assert_same_files(folder, scratch.departments / department)
        linked = set(parts.get(department, ["empty"])) - rewritten[department] if department in rewritten else set()
        assert linked_periods(folder) == linked, department

    # a folder where a link or the file goes is not the pipeline's to delete: that department is refused, whole
    before = (daily.departments / "PHOTO" / "studio.duckdb").read_bytes()
    (daily.departments / "PHOTO" / "exports").unlink()
    (daily.departments / "PHOTO" / "exports" / "mine").mkdir(parents=True)
    written, refused = publish_departments(daily)
    assert sorted(f.department_code for f in written) == sorted(d for d in DEPARTMENTS if d != "PHOTO")
    assert [r.split(":")[0] for r in refused] == ["PHOTO"] and "a folder stands where" in refused[0]
    assert (daily.departments / "PHOTO" / "studio.duckdb").read_bytes() == before
    assert (daily.departments / "PHOTO" / "exports" / "mine").is_dir()


def test_a_project_moved_to_another_department_leaves_no_trace_in_the_old_departments_file(
    sample_run: CliRun, tmp_path: Path
) -> None:
    """A department's file is carried on from its last one, where a replaced table leaves its old rows in freed
    blocks. When MV-2502 moves from PROD to PHOTO, PROD's new file is written whole: its bytes hold the project's
    code nowhere (they did before the move), and PHOTO's tables hold its rows."""
    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.root.mkdir()
    shutil.copy2(sample_run.warehouse / "studio.duckdb", layout.published_db)
    publish_departments(layout)
    prod = layout.departments / "PROD" / "studio.duckdb"
    assert b"MV-2502" in prod.read_bytes()  # the byte scan can see it
    with duckdb.connect(str(layout.published_db)) as con:  # the next publication, as the move leaves it
        for name in DEPARTMENT_SCOPE:
            schema, table = name.split(".")
            columns = {c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?", [schema, table]
            ).fetchall()}  # fmt: skip
            if {"project_code", "department_code"} <= columns:
                con.execute(f"UPDATE {name} SET department_code = 'PHOTO' WHERE project_code = 'MV-2502'")
        moved = con.execute("SELECT count(*) FROM marts.fct_actual_costs WHERE project_code = 'MV-2502'").fetchone()
    written, refused = publish_departments(layout)
    assert refused == [] and len(written) == len(DEPARTMENTS)
    assert prod.read_bytes().count(b"MV-2502") == 0
    assert (layout.internal / "departments" / "PROD" / "carried.duckdb").read_bytes().count(b"MV-2502") == 0
    photo = layout.departments / "PHOTO" / "studio.duckdb"
    assert query(photo, "SELECT count(*) FROM marts.fct_actual_costs WHERE project_code = 'MV-2502'")[0] == moved


@pytest.mark.parametrize("enabled", [False, True])
def test_the_publish_step_writes_them_only_when_studio_toml_asks(
    sample_run: CliRun, tmp_path: Path, enabled: bool
) -> None:
    from dagster import materialize

    from orchestration.defs.departments import department_files
    from orchestration.defs.resources import StudioSettings

    layout = WarehouseLayout(tmp_path / "warehouse")
    layout.root.mkdir()
    shutil.copy2(sample_run.warehouse / "studio.duckdb", layout.published_db)
    config = tmp_path / "studio.toml"
    config.write_text(f"[departments]\npublish = {str(enabled).lower()}\n", encoding="utf-8")
    settings = StudioSettings.for_run(tmp_path, layout.root, "2026-10-15", config)
    assert materialize([department_files], resources={"settings": settings}).success
    written = sorted(p.parent.name for p in layout.departments.glob("*/studio.duckdb"))
    assert written == (sorted(DEPARTMENTS) if enabled else [])


def test_a_dagster_run_names_the_landing_files_it_does_not_read(sample_run: CliRun, tmp_path: Path) -> None:
    """A run Dagster starts prints nothing to a terminal: its publish step warns and records the names instead."""
    from dagster import materialize

    from orchestration.defs.publish import PUBLISHED, published_warehouse
    from orchestration.defs.resources import StudioSettings

    copy_warehouse(sample_run.warehouse, tmp_path / "warehouse")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "notes.txt").write_text("x\n", encoding="utf-8")
    (landing / "gl_actuals_november").mkdir()
    settings = StudioSettings.for_run(landing, tmp_path / "warehouse", "2026-10-15", None)
    result = materialize([published_warehouse([])], resources={"settings": settings})
    assert result.success
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == PUBLISHED]
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["landing_files_not_read"].data == ["gl_actuals_november/", "notes.txt"]
