"""The bundled sample studio (orchestration/sample/).

It must be deterministic, committed exactly as generated, follow the landing-file contract
(orchestration/lib/contract.py) and really contain the scenarios it promises. Every expected value
below is computed from the files with DuckDB SQL, never copied from the generator.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import sample
from orchestration.lib.contract import (
    CATEGORIES,
    DATE,
    INTEGER,
    MONEY,
    QUANTITY,
    RATE,
    SOURCES,
    TIMESTAMP,
    source_for_file,
)

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "seeds" / "sample_studio"
BASE_CURRENCY = "USD"

FORMATS = {  # what a landed value of each contract type must look like
    DATE: r"^\d{4}-\d{2}-\d{2}$",
    TIMESTAMP: r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
    RATE: r"^\d+(\.\d{1,6})?$",
    INTEGER: r"^\d+$",
}
MONEY_FORMAT = r"^-?\d+(\.\d{1,2})?$"  # plain decimals, at most cents
QUANTITY_FORMAT = r"^\d+(\.\d+)?$"
# MONEY and QUANTITY share one SQL type in the registry; these columns are the quantities
QUANTITY_COLUMNS = {"weekly_capacity_hours", "quantity", "regular_hours", "overtime_hours", "overtime_multiplier",
                    "fringe_pct", "estimate_hours"}
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


def _format(name: str, type_: str) -> str | None:
    if name == "period":
        return PERIOD
    if type_ in (MONEY, QUANTITY):
        return QUANTITY_FORMAT if name in QUANTITY_COLUMNS else MONEY_FORMAT
    return FORMATS.get(type_)


def _landing_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample_studio")
    return out, sample.generate(out)


@pytest.fixture(scope="module")
def folder(generated: tuple[Path, dict[str, int]]) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def as_of(folder: Path) -> str:
    return (folder / "AS_OF").read_text(encoding="utf-8").strip()


def _reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"')"


@pytest.fixture(scope="module")
def db(folder: Path, as_of: str) -> duckdb.DuckDBPyConnection:
    """One all-VARCHAR view per source (the union of its files), plus budget and cost helpers."""
    con = duckdb.connect()
    files: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        source = source_for_file(path.name)
        if source is not None:
            files.setdefault(source.name, []).append(path)
    for name, paths in files.items():
        columns = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in SOURCES[name].column_names)
        union = " UNION ALL ".join(f"SELECT {columns} FROM {_reader(p)}" for p in paths)
        con.execute(f"CREATE VIEW {name} AS {union}")
    con.execute(f"CREATE MACRO as_of() AS DATE '{as_of}'")
    # the current budget of a project: its latest approved/locked version by the as-of day (SPEC §4), else its
    # first (the only plan there is)
    con.execute("""
        CREATE VIEW current_budget AS
        WITH versions AS (
            SELECT project_code, budget_version, max(CAST(approved_at AS TIMESTAMP)) AS approved_at
            FROM budgets WHERE version_status IN ('approved', 'locked') GROUP BY ALL
        ), current AS (
            SELECT project_code, coalesce(
                arg_max(budget_version, approved_at) FILTER (WHERE CAST(approved_at AS DATE) <= as_of()),
                arg_min(budget_version, approved_at)
            ) AS budget_version
            FROM versions GROUP BY ALL
        )
        SELECT b.* FROM budgets b JOIN current USING (project_code, budget_version)
    """)
    # budget to date: a line with a period is phased over its month, one without over the project (by days)
    con.execute("""
        CREATE VIEW budget_to_date AS
        WITH spans AS (
            SELECT b.project_code, b.account_code, CAST(b.amount AS DECIMAL(18, 2)) AS amount,
                   CASE WHEN b.period IS NULL THEN CAST(p.start_date AS DATE)
                        ELSE greatest(CAST(b.period || '-01' AS DATE), CAST(p.start_date AS DATE)) END AS lo,
                   CASE WHEN b.period IS NULL THEN CAST(p.end_date AS DATE)
                        ELSE least(last_day(CAST(b.period || '-01' AS DATE)), CAST(p.end_date AS DATE)) END AS hi
            FROM current_budget b JOIN projects p USING (project_code)
        )
        SELECT project_code, account_code,
               sum(amount * greatest(0, least(hi, as_of()) - lo + 1) / (hi - lo + 1)) AS to_date
        FROM spans GROUP BY ALL
    """)
    # labour cost of a timesheet entry (SPEC §4), in the person's currency
    con.execute("""
        CREATE VIEW timesheet_costs AS
        SELECT t.entry_id, t.project_code, t.account_code, p.currency,
               (CAST(t.regular_hours AS DECIMAL(18, 4)) + CAST(t.overtime_hours AS DECIMAL(18, 4))
                * coalesce(CAST(t.overtime_multiplier AS DECIMAL(18, 4)), 1.5))
               * coalesce(CAST(t.hourly_rate AS DECIMAL(18, 4)), CAST(p.hourly_rate AS DECIMAL(18, 4)))
               * (1 + coalesce(CAST(t.fringe_pct AS DECIMAL(18, 4)), 0) * 0.01) AS cost
        FROM timesheets t JOIN people p USING (person_id)
    """)
    # actual cost to date = posted ledger + operational cost the ledger has not posted yet
    con.execute("""
        CREATE VIEW actual_costs AS
        WITH posted_refs AS (SELECT DISTINCT source_ref FROM gl_actuals WHERE source_ref IS NOT NULL)
        SELECT 'gl' AS source, project_code, account_code, currency, CAST(amount AS DECIMAL(18, 4)) AS amount
        FROM gl_actuals
        UNION ALL
        SELECT 'timesheet', project_code, account_code, currency, cost FROM timesheet_costs
        WHERE entry_id NOT IN (SELECT source_ref FROM posted_refs)
        UNION ALL
        SELECT 'rental', project_code, account_code, currency,
               greatest(0, least(CAST(end_date AS DATE), as_of()) - CAST(start_date AS DATE) + 1)
               * CAST(day_rate AS DECIMAL(18, 4))
        FROM equipment_rentals WHERE rental_id NOT IN (SELECT source_ref FROM posted_refs)
        UNION ALL
        SELECT 'invoice', project_code, account_code, currency, CAST(amount AS DECIMAL(18, 4)) FROM invoices
        WHERE invoice_id NOT IN (SELECT source_ref FROM posted_refs)
    """)
    yield con
    con.close()


def _all(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return db.execute(sql).fetchall()


def _one(db: duckdb.DuckDBPyConnection, sql: str):
    return db.execute(sql).fetchone()[0]


# ------------------------------------------------------------------------------------ determinism


def test_generation_is_deterministic(generated: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    folder, counts = generated
    again = sample.generate(tmp_path / "again")
    assert again == counts
    assert _landing_files(tmp_path / "again") == _landing_files(folder)


def _parquet_content(path: Path) -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect()
    return (con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall(),
            con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall())


def test_committed_sample_is_a_fresh_generation(folder: Path) -> None:
    committed, fresh = _landing_files(COMMITTED), _landing_files(folder)
    assert sorted(committed) == sorted(fresh), "run `python -m orchestration.sample` to refresh seeds/sample_studio"
    # CSV and AS_OF byte for byte; Parquet by schema and rows (its bytes also carry the writer's DuckDB version)
    drifted = [name for name in fresh if committed[name] != fresh[name] and not (
        name.endswith(".parquet") and _parquet_content(COMMITTED / name) == _parquet_content(folder / name))]
    assert not drifted, f"seeds/sample_studio drifted: {drifted}; run `python -m orchestration.sample`"


def test_generate_cleans_stale_landing_files_only(tmp_path: Path) -> None:
    tmp_path.joinpath("budgets_2019.csv").write_text("stale\n")
    tmp_path.joinpath("gl_actuals_old.parquet").write_bytes(b"stale")
    tmp_path.joinpath("README.txt").write_text("not a landing file\n")
    counts = sample.generate(tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert "budgets_2019.csv" not in names and "gl_actuals_old.parquet" not in names
    assert "README.txt" in names
    assert names == set(counts) | {"AS_OF", "README.txt"}


# ------------------------------------------------------------------------------------ the contract


def test_one_file_per_source_and_the_as_of_date(folder: Path, generated: tuple[Path, dict[str, int]],
                                                 db: duckdb.DuckDBPyConnection) -> None:
    assert (folder / "AS_OF").read_bytes() == b"2026-10-15\n"
    covered = {source_for_file(name).name for name in generated[1]}
    assert covered == set(SOURCES)
    assert {"budgets_original.csv", "budgets_reforecast_2026q2.csv", "gl_actuals_2025.parquet",
            "gl_actuals_2026.csv"} <= set(generated[1])
    for name, count in generated[1].items():
        assert _one(db, f"SELECT count(*) FROM {_reader(folder / name)}") == count, name


def test_headers_are_the_source_columns_in_order(folder: Path) -> None:
    con = duckdb.connect()
    for path in sorted(folder.iterdir()):
        source = source_for_file(path.name)
        if source is None:
            continue
        described = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_reader(path)}").fetchall()]
        assert described == source.column_names, path.name
        if path.suffix == ".csv":
            first_line = path.read_text(encoding="utf-8").split("\n", 1)[0]
            assert first_line == ",".join(source.column_names), path.name


def test_ledger_parquet_is_typed(folder: Path) -> None:
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE SELECT * FROM {_reader(folder / 'gl_actuals_2025.parquet')}").fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert types["posted_date"] == "DATE"
    assert types["amount"] == "DECIMAL(18,2)"
    assert types["txn_id"] == types["vendor"] == "VARCHAR"


def test_required_columns_are_filled(db: duckdb.DuckDBPyConnection) -> None:
    empty = []
    for source in SOURCES.values():
        for column in source.columns:
            if column.required:
                n = _one(db, f"SELECT count(*) FROM {source.name} WHERE trim(coalesce({column.name}, '')) = ''")
                if n:
                    empty.append((source.name, column.name, n))
    assert not empty


def test_enumerations_hold_allowed_values(db: duckdb.DuckDBPyConnection) -> None:
    bad = []
    for source in SOURCES.values():
        for column in source.columns:
            if column.allowed is not None:
                allowed = ", ".join(f"'{v}'" for v in column.allowed)
                values = _all(db, f"SELECT DISTINCT {column.name} FROM {source.name} "
                                  f"WHERE {column.name} IS NOT NULL AND {column.name} NOT IN ({allowed})")
                bad += [(source.name, column.name, v[0]) for v in values]
    assert not bad


def test_values_are_plain_and_well_formed(db: duckdb.DuckDBPyConnection) -> None:
    bad = []
    for source in SOURCES.values():
        for column in source.columns:
            pattern = _format(column.name, column.type)
            if pattern is None:
                continue
            n = _one(db, f"SELECT count(*) FROM {source.name} WHERE {column.name} IS NOT NULL "
                         f"AND NOT regexp_matches({column.name}, '{pattern}')")
            if column.type in (DATE, TIMESTAMP):
                n += _one(db, f"SELECT count(*) FROM {source.name} WHERE {column.name} IS NOT NULL "
                              f"AND try_cast({column.name} AS {column.type}) IS NULL")
            if n:
                bad.append((source.name, column.name, n))
    assert not bad


def test_ids_are_unique(db: duckdb.DuckDBPyConnection) -> None:
    duplicated = []
    for source in SOURCES.values():
        # a budget load replaces whole (version, project)s: its rows are unique by version x project x account x period
        key = ("budget_version", "project_code", "account_code", "coalesce(period, '')") \
            if source.name == "budgets" else source.key
        if key:
            n = _one(db, f"SELECT count(*) - count(DISTINCT ({', '.join(key)})) FROM {source.name}")
            if n:
                duplicated.append((source.name, n))
    assert not duplicated


REFERENCES = (  # (source, column, referenced source, its column)
    ("projects", "department_code", "departments", "department_code"),
    ("people", "department_code", "departments", "department_code"),
    ("tasks", "department_code", "departments", "department_code"),
    ("budgets", "project_code", "projects", "project_code"),
    ("budgets", "account_code", "accounts", "account_code"),
    ("change_orders", "project_code", "projects", "project_code"),
    ("change_orders", "account_code", "accounts", "account_code"),
    ("budget_transfers", "from_project_code", "projects", "project_code"),
    ("budget_transfers", "from_account_code", "accounts", "account_code"),
    ("budget_transfers", "to_project_code", "projects", "project_code"),
    ("budget_transfers", "to_account_code", "accounts", "account_code"),
    ("gl_actuals", "project_code", "projects", "project_code"),
    ("gl_actuals", "account_code", "accounts", "account_code"),
    ("timesheets", "project_code", "projects", "project_code"),
    ("timesheets", "account_code", "accounts", "account_code"),
    ("timesheets", "person_id", "people", "person_id"),
    ("timesheets", "task_id", "tasks", "task_id"),
    ("equipment_rentals", "project_code", "projects", "project_code"),
    ("equipment_rentals", "account_code", "accounts", "account_code"),
    ("invoices", "project_code", "projects", "project_code"),
    ("invoices", "account_code", "accounts", "account_code"),
    ("invoices", "po_id", "purchase_orders", "po_id"),
    ("purchase_orders", "project_code", "projects", "project_code"),
    ("purchase_orders", "account_code", "accounts", "account_code"),
    ("variance_commentary", "project_code", "projects", "project_code"),
    ("variance_commentary", "account_code", "accounts", "account_code"),
    ("tasks", "project_code", "projects", "project_code"),
    ("tasks", "owner_person_id", "people", "person_id"),
    ("task_events", "task_id", "tasks", "task_id"),
    ("task_dependencies", "task_id", "tasks", "task_id"),
    ("task_dependencies", "depends_on_task_id", "tasks", "task_id"),
    ("milestones", "project_code", "projects", "project_code"),
)


def test_every_code_exists_in_the_reference_data(db: duckdb.DuckDBPyConnection) -> None:
    dangling = []
    for source, column, target, target_column in REFERENCES:
        values = _all(db, f"SELECT DISTINCT {column} FROM {source} WHERE {column} IS NOT NULL "
                          f"AND {column} NOT IN (SELECT {target_column} FROM {target})")
        dangling += [(source, column, v[0]) for v in values]
    refs = _all(db, """
        SELECT source_ref FROM gl_actuals WHERE source_ref IS NOT NULL AND source_ref NOT IN (
            SELECT entry_id FROM timesheets UNION ALL SELECT rental_id FROM equipment_rentals
            UNION ALL SELECT invoice_id FROM invoices)
    """)
    dangling += [("gl_actuals", "source_ref", r[0]) for r in refs]
    assert not dangling


def test_fx_rates_cover_every_currency_where_it_is_used(db: duckdb.DuckDBPyConnection) -> None:
    missing = _all(db, """
        WITH projects_d AS (
            SELECT project_code, currency, CAST(start_date AS DATE) AS s, CAST(end_date AS DATE) AS e FROM projects
        ), used AS (
            SELECT currency, strftime(m, '%Y-%m') AS period
            FROM projects_d, range(date_trunc('month', s), e + 1, INTERVAL 1 MONTH) AS r(m)
            UNION SELECT b.currency, coalesce(b.period, strftime(m, '%Y-%m')) FROM budgets b
                JOIN projects_d p USING (project_code), range(date_trunc('month', s), e + 1, INTERVAL 1 MONTH) AS r(m)
            UNION SELECT currency, left(posted_date, 7) FROM gl_actuals
            UNION SELECT currency, left(invoice_date, 7) FROM invoices
            UNION SELECT currency, left(issued_date, 7) FROM purchase_orders
            UNION SELECT currency, left(issued_date, 7) FROM change_orders
            UNION SELECT currency, left(requested_at, 7) FROM budget_transfers
            UNION SELECT p.currency, left(t.work_date, 7) FROM timesheets t JOIN people p USING (person_id)
            UNION SELECT currency, strftime(m, '%Y-%m') FROM equipment_rentals,
                range(date_trunc('month', CAST(start_date AS DATE)), CAST(end_date AS DATE) + 1, INTERVAL 1 MONTH)
                AS r(m)
        )
        SELECT currency, period FROM used
        WHERE (currency, period) NOT IN (SELECT (currency, period) FROM fx_rates)
        ORDER BY ALL
    """)
    assert not missing
    foreign = _all(db, f"SELECT DISTINCT currency FROM gl_actuals WHERE currency <> '{BASE_CURRENCY}' ORDER BY 1")
    assert len(foreign) >= 1
    assert _one(db, f"SELECT count(*) FROM fx_rates WHERE currency = '{BASE_CURRENCY}' "
                    "AND CAST(rate_to_base AS DECIMAL(18, 8)) <> 1") == 0
    # each currency has one rate a month, 2025-01 .. 2027-06, with no gaps
    assert _all(db, "SELECT DISTINCT count(*), min(period), max(period) FROM fx_rates GROUP BY currency") == \
        [(30, "2025-01", "2027-06")]
    assert _one(db, "SELECT count(*) FROM fx_rates WHERE currency = 'GBP' "
                    "AND CAST(rate_to_base AS DOUBLE) NOT BETWEEN 1.25 AND 1.32") == 0


# ------------------------------------------------------------------------------------ consistency


def test_reference_data_is_plausible(db: duckdb.DuckDBPyConnection) -> None:
    assert _one(db, "SELECT count(*) FROM departments") == 5
    assert dict(_all(db, "SELECT status, count(*) FROM projects GROUP BY ALL")) == \
        {"closed": 3, "wrapped": 1, "active": 5, "bidding": 1}
    assert _one(db, "SELECT count(DISTINCT project_type) FROM projects") >= 6
    assert _all(db, f"SELECT currency FROM projects WHERE currency <> '{BASE_CURRENCY}'") == [("GBP",)]
    assert _one(db, """SELECT count(*) FROM projects WHERE (project_type = 'overhead')
                       = (coalesce(CAST(contract_value AS DECIMAL(18, 2)), 0) > 0)""") == 0
    assert _one(db, "SELECT count(*) FROM projects WHERE start_date < '2025-01-01' OR end_date > '2027-06-30' "
                    "OR end_date < start_date") == 0
    assert {r[0] for r in _all(db, "SELECT DISTINCT category FROM accounts")} == set(CATEGORIES)
    assert _one(db, "SELECT count(*) FROM accounts WHERE (category = 'revenue') <> (account_type = 'revenue')") == 0
    assert _one(db, "SELECT count(*) FROM people WHERE CAST(hourly_rate AS DECIMAL(18, 2)) NOT BETWEEN 35 AND 150 "
                    "OR weekly_capacity_hours NOT IN ('24', '40')") == 0
    assert _one(db, "SELECT count(DISTINCT worker_type) FROM people") == 2


def test_dates_fall_where_they_belong(db: duckdb.DuckDBPyConnection) -> None:
    checks = {
        "ledger inside 2025-01-01 .. as-of": "SELECT count(*) FROM gl_actuals "
        "WHERE CAST(posted_date AS DATE) NOT BETWEEN DATE '2025-01-01' AND as_of()",
        "timesheets inside the project": "SELECT count(*) FROM timesheets t JOIN projects p USING (project_code) "
        "WHERE work_date NOT BETWEEN p.start_date AND p.end_date OR CAST(work_date AS DATE) > as_of()",
        "rentals inside the project": "SELECT count(*) FROM equipment_rentals r JOIN projects p USING (project_code) "
        "WHERE r.start_date NOT BETWEEN p.start_date AND p.end_date OR r.end_date > p.end_date "
        "OR r.end_date < r.start_date OR CAST(r.start_date AS DATE) > as_of()",
        "tasks inside the project": "SELECT count(*) FROM tasks t JOIN projects p USING (project_code) "
        "WHERE t.start_date NOT BETWEEN p.start_date AND p.end_date OR t.due_date NOT BETWEEN p.start_date "
        "AND p.end_date OR t.due_date < t.start_date OR CAST(t.created_at AS DATE) > as_of()",
        "milestones inside the project": "SELECT count(*) FROM milestones m JOIN projects p USING (project_code) "
        "WHERE m.planned_date NOT BETWEEN p.start_date AND p.end_date OR CAST(m.actual_date AS DATE) > as_of()",
        "nothing after the as-of date": """SELECT
            (SELECT count(*) FROM invoices WHERE CAST(invoice_date AS DATE) > as_of())
          + (SELECT count(*) FROM purchase_orders WHERE CAST(issued_date AS DATE) > as_of())
          + (SELECT count(*) FROM change_orders WHERE CAST(issued_date AS DATE) > as_of())
          + (SELECT count(*) FROM budget_transfers WHERE CAST(requested_at AS TIMESTAMP) > as_of() + 1)
          + (SELECT count(*) FROM variance_commentary WHERE CAST(written_at AS TIMESTAMP) > as_of() + 1)
          + (SELECT count(*) FROM task_events WHERE CAST(changed_at AS TIMESTAMP) > as_of() + 1)""",
    }
    broken = {name: n for name, sql in checks.items() if (n := _one(db, sql))}
    assert not broken


def test_task_histories_and_dependencies(db: duckdb.DuckDBPyConnection) -> None:
    # changed_at strictly ascending, starting with todo; nothing after done or omitted
    assert _one(db, """
        WITH e AS (SELECT task_id, status, CAST(changed_at AS TIMESTAMP) AS changed FROM task_events),
        ordered AS (SELECT status, changed,
                           row_number() OVER w AS n, lag(status) OVER w AS previous, lag(changed) OVER w AS previous_at
                    FROM e WINDOW w AS (PARTITION BY task_id ORDER BY changed))
        SELECT count(*) FROM ordered
        WHERE (n = 1 AND status <> 'todo') OR changed = previous_at OR previous IN ('done', 'omitted')
    """) == 0
    assert _one(db, "SELECT count(*) FROM tasks WHERE task_id NOT IN (SELECT task_id FROM task_events)") == 0
    assert _one(db, "SELECT count(*) FROM tasks WHERE CAST(priority AS INTEGER) NOT BETWEEN 1 AND 4") == 0
    latest = dict(_all(db, "SELECT status, count(*) FROM (SELECT task_id, arg_max(status, CAST(changed_at AS "
                           "TIMESTAMP)) AS status FROM task_events GROUP BY ALL) GROUP BY ALL"))
    assert {"done", "todo", "in_progress", "blocked"} <= set(latest)
    assert _one(db, "SELECT count(DISTINCT task_id) FROM task_events WHERE status = 'retake'") > 0
    # a closed or wrapped project has no open work
    assert _one(db, """SELECT count(*) FROM (SELECT task_id, arg_max(status, CAST(changed_at AS TIMESTAMP)) AS latest
                       FROM task_events GROUP BY ALL) JOIN tasks USING (task_id) JOIN projects p USING (project_code)
                       WHERE p.status IN ('closed', 'wrapped') AND latest NOT IN ('done', 'omitted')""") == 0
    # dependencies stay inside a project and form no cycle
    assert _one(db, """SELECT count(*) FROM task_dependencies d JOIN tasks a ON a.task_id = d.task_id
                       JOIN tasks b ON b.task_id = d.depends_on_task_id WHERE a.project_code <> b.project_code""") == 0
    edges: dict[str, list[str]] = {}
    for task, dependency in _all(db, "SELECT task_id, depends_on_task_id FROM task_dependencies"):
        edges.setdefault(task, []).append(dependency)
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def acyclic(node: str) -> bool:
        if state.get(node) == 1:
            return False
        if state.get(node) == 2:
            return True
        state[node] = 1
        ok = all(acyclic(n) for n in edges.get(node, ()))
        state[node] = 2
        return ok

    assert all(acyclic(node) for node in list(edges))


def test_budget_versions_and_lines(db: duckdb.DuckDBPyConnection, folder: Path) -> None:
    # labour lines: quantity x rate = amount exactly; quantity, unit and rate come together
    assert _one(db, """SELECT count(*) FROM budgets WHERE (quantity IS NULL) <> (rate IS NULL)
                       OR (quantity IS NULL) <> (unit IS NULL)
                       OR CAST(quantity AS DECIMAL(18, 4)) * CAST(rate AS DECIMAL(18, 2))
                          <> CAST(amount AS DECIMAL(18, 2))""") == 0
    assert _one(db, "SELECT count(*) FROM budgets WHERE quantity IS NOT NULL") > 0
    assert _one(db, "SELECT count(*) FROM budgets WHERE period IS NULL") > 0
    assert _one(db, "SELECT count(*) FROM budgets WHERE period IS NOT NULL") > 0
    assert _one(db, "SELECT count(*) FROM budgets b JOIN projects p USING (project_code) "
                    "WHERE b.currency <> p.currency") == 0
    assert _one(db, "SELECT count(*) FROM budgets WHERE (version_status = 'draft') <> (approved_at IS NULL)") == 0
    con = duckdb.connect()
    original = con.execute(f"SELECT DISTINCT version_status FROM {_reader(folder / 'budgets_original.csv')}").fetchall()
    reforecast = con.execute(
        f"SELECT DISTINCT version_status FROM {_reader(folder / 'budgets_reforecast_2026q2.csv')}").fetchall()
    assert {r[0] for r in original} <= {"approved", "locked", "draft"}
    assert {r[0] for r in reforecast} == {"approved"}
    # every project but the bid has a current budget; the bid only a draft
    assert _all(db, """SELECT p.status, b.version_status, count(DISTINCT b.budget_version)
                       FROM projects p JOIN budgets b USING (project_code) WHERE p.status = 'bidding' GROUP BY ALL""") \
        == [("bidding", "draft", 1)]
    assert _one(db, "SELECT count(*) FROM projects WHERE status <> 'bidding' "
                    "AND project_code NOT IN (SELECT project_code FROM current_budget)") == 0
    assert _one(db, """SELECT count(*) FROM (SELECT project_code FROM budgets WHERE version_status <> 'draft'
                       GROUP BY ALL HAVING count(DISTINCT budget_version) >= 2)""") >= 2
    # revenue is budgeted for client projects
    assert _one(db, """SELECT count(*) FROM projects WHERE project_type <> 'overhead' AND project_code NOT IN (
                       SELECT project_code FROM budgets JOIN accounts USING (account_code)
                       WHERE account_type = 'revenue')""") == 0


def test_the_ledger_posts_operational_costs_once_at_their_cost(db: duckdb.DuckDBPyConnection) -> None:
    posted = """SELECT source_ref, any_value(currency) AS currency, count(DISTINCT currency) AS currencies,
                       sum(CAST(amount AS DECIMAL(18, 2))) AS amount
                FROM gl_actuals WHERE source_ref IS NOT NULL GROUP BY ALL"""
    assert _one(db, f"SELECT count(*) FROM ({posted}) WHERE currencies > 1") == 0
    assert _one(db, f"""SELECT count(*) FROM ({posted}) g JOIN timesheet_costs t ON t.entry_id = g.source_ref
                        WHERE g.amount <> round(t.cost, 2) OR g.currency <> t.currency""") == 0
    # a returned rental is posted at its cost; one still out at as-of may have its booked days posted so far
    assert _one(db, f"""SELECT count(*) FROM ({posted}) g JOIN equipment_rentals r ON r.rental_id = g.source_ref
                        WHERE g.currency <> r.currency OR (g.amount <> (CAST(r.end_date AS DATE)
                        - CAST(r.start_date AS DATE) + 1) * CAST(r.day_rate AS DECIMAL(18, 2))
                        + coalesce(CAST(r.damage_charge AS DECIMAL(18, 2)), 0)
                        AND NOT (CAST(r.end_date AS DATE) > as_of()
                                 AND g.amount % CAST(r.day_rate AS DECIMAL(18, 2)) = 0
                                 AND g.amount < (as_of() - CAST(r.start_date AS DATE) + 1)
                                                * CAST(r.day_rate AS DECIMAL(18, 2))))""") == 0
    assert _one(db, f"""SELECT count(*) FROM ({posted}) g JOIN invoices i ON i.invoice_id = g.source_ref
                        WHERE g.amount <> CAST(i.amount AS DECIMAL(18, 2)) OR g.currency <> i.currency""") == 0
    # an invoice is in the ledger exactly when it is paid
    assert _one(db, """SELECT count(*) FROM invoices WHERE (status = 'paid')
                       <> (invoice_id IN (SELECT source_ref FROM gl_actuals WHERE source_ref IS NOT NULL))""") == 0
    # the ledger posts the same project and account as the record it pays
    assert _one(db, """SELECT count(*) FROM gl_actuals g JOIN (
                           SELECT entry_id AS id, project_code, account_code FROM timesheets
                           UNION ALL SELECT rental_id, project_code, account_code FROM equipment_rentals
                           UNION ALL SELECT invoice_id, project_code, account_code FROM invoices) r
                       ON r.id = g.source_ref
                       WHERE r.project_code <> g.project_code OR r.account_code <> g.account_code""") == 0
    # some hot cost is still waiting for the ledger at the as-of date
    assert dict(_all(db, "SELECT source, count(*) FROM actual_costs WHERE source <> 'gl' GROUP BY ALL")).keys() \
        == {"timesheet", "rental", "invoice"}


def test_purchase_orders_cover_their_invoices(db: duckdb.DuckDBPyConnection) -> None:
    over = _all(db, """
        SELECT o.po_id, o.status, CAST(o.amount AS DECIMAL(18, 2)) AS ordered,
               coalesce(sum(CAST(i.amount AS DECIMAL(18, 2))), 0) AS billed,
               count(*) FILTER (WHERE i.vendor <> o.vendor OR i.project_code <> o.project_code
                                OR i.account_code <> o.account_code OR i.currency <> o.currency) AS mismatched
        FROM purchase_orders o LEFT JOIN invoices i USING (po_id) GROUP BY ALL
        HAVING billed > ordered * 1.10 OR (o.status = 'closed' AND billed < ordered) OR mismatched > 0
    """)
    assert not over
    assert {r[0] for r in _all(db, "SELECT DISTINCT status FROM purchase_orders")} == {"open", "closed"}
    assert _one(db, "SELECT count(*) FROM invoices WHERE po_id IS NOT NULL") > 0


# ------------------------------------------------------------------------------------ scenarios


def _category_ratios(db: duckdb.DuckDBPyConnection, category: str) -> list[tuple]:
    """Per base-currency project: (project, status, ledger / budget to date, actual / budget to date)."""
    return _all(db, f"""
        WITH budget AS (
            SELECT project_code, sum(to_date) AS to_date FROM budget_to_date JOIN accounts USING (account_code)
            WHERE category = '{category}' GROUP BY ALL
        ), actual AS (
            SELECT project_code, sum(amount) FILTER (WHERE source = 'gl') AS ledger, sum(amount) AS actual
            FROM actual_costs JOIN accounts USING (account_code) WHERE category = '{category}' GROUP BY ALL
        )
        SELECT p.project_code, p.status, CAST(ledger / to_date AS DOUBLE), CAST(actual / to_date AS DOUBLE)
        FROM projects p JOIN budget USING (project_code) JOIN actual USING (project_code)
        WHERE p.currency = '{BASE_CURRENCY}' AND to_date > 0
          AND p.project_code NOT IN (SELECT project_code FROM actual_costs WHERE currency <> '{BASE_CURRENCY}')
    """)


def test_scenario_crew_overrun_on_an_active_project(db: duckdb.DuckDBPyConnection) -> None:
    overruns = [(code, ledger, actual) for code, status, ledger, actual in _category_ratios(db, "crew")
                if status == "active" and ledger > 1.10 and 1.15 <= actual <= 1.25]
    assert overruns, "no active project runs crew 15-25% over its current budget to date"
    for code, _, _ in overruns:  # the Q2 reforecast already raised crew, and it is still not enough
        versions = _all(db, f"""SELECT budget_version, sum(CAST(amount AS DECIMAL(18, 2)))
                               FROM budgets JOIN accounts USING (account_code)
                               WHERE project_code = '{code}' AND category = 'crew' AND version_status <> 'draft'
                               GROUP BY ALL ORDER BY min(approved_at)""")
        assert len(versions) >= 2 and versions[-1][1] > versions[0][1]


def test_scenario_equipment_underspend(db: duckdb.DuckDBPyConnection) -> None:
    under = [code for code, status, ledger, actual in _category_ratios(db, "equipment")
             if status != "bidding" and ledger < 0.90 and 0.60 <= actual <= 0.75]
    assert under, "no project spends 25-40% under its equipment budget to date"


def test_scenario_unbudgeted_spend(db: duckdb.DuckDBPyConnection) -> None:
    unbudgeted = _all(db, """
        SELECT g.project_code, g.account_code, sum(CAST(g.amount AS DECIMAL(18, 2))) AS spent
        FROM gl_actuals g JOIN accounts a USING (account_code)
        WHERE a.account_type = 'expense'
          AND (g.project_code, g.account_code) NOT IN (SELECT (project_code, account_code) FROM budgets)
        GROUP BY ALL HAVING spent > 5000
    """)
    assert unbudgeted


def test_scenario_lumpy_annual_insurance(db: duckdb.DuckDBPyConnection) -> None:
    payments = _all(db, """
        SELECT left(g.posted_date, 4) AS year, count(*) AS lines, min(CAST(g.amount AS DECIMAL(18, 2))) AS amount,
               min(substr(g.posted_date, 6, 2)) AS month
        FROM gl_actuals g JOIN projects p USING (project_code) JOIN accounts a USING (account_code)
        WHERE p.project_type = 'overhead' AND a.category = 'overhead' AND lower(a.account_name) LIKE '%insurance%'
        GROUP BY ALL ORDER BY year
    """)
    assert [year for year, *_ in payments] == ["2025", "2026"]
    assert all(lines == 1 and 50000 <= amount <= 80000 for _, lines, amount, _ in payments)
    assert len({month for *_, month in payments}) == 1  # the same month every year
    # ... against a budget that is phased evenly (a line without a period)
    assert _one(db, """SELECT count(*) FROM current_budget b JOIN projects p USING (project_code)
                       JOIN accounts a USING (account_code)
                       WHERE p.project_type = 'overhead' AND lower(a.account_name) LIKE '%insurance%'
                       AND b.period IS NULL""") == 1
    largest = _one(db, """SELECT max(CAST(amount AS DECIMAL(18, 2))) FROM gl_actuals g JOIN projects p
                          USING (project_code) JOIN accounts a USING (account_code)
                          WHERE p.project_type = 'overhead' AND lower(a.account_name) NOT LIKE '%insurance%'""")
    assert min(amount for _, _, amount, _ in payments) > 3 * largest


def test_scenario_foreign_currency_project(db: duckdb.DuckDBPyConnection) -> None:
    code, currency = _all(db, f"SELECT project_code, currency FROM projects WHERE currency <> '{BASE_CURRENCY}'")[0]
    by_currency = dict(_all(db, f"SELECT currency, count(*) FROM gl_actuals WHERE project_code = '{code}' "
                                "GROUP BY ALL"))
    assert by_currency.get(currency, 0) >= 10
    assert _one(db, f"SELECT count(*) FROM budgets WHERE project_code = '{code}' AND currency <> '{currency}'") == 0


def test_scenario_reversing_entries(db: duckdb.DuckDBPyConnection) -> None:
    reversals = _all(db, """
        SELECT r.txn_id, o.txn_id FROM gl_actuals r JOIN gl_actuals o
          ON o.project_code = r.project_code AND o.account_code = r.account_code AND o.currency = r.currency
         AND CAST(o.amount AS DECIMAL(18, 2)) = -CAST(r.amount AS DECIMAL(18, 2))
         AND CAST(o.posted_date AS DATE) <= CAST(r.posted_date AS DATE) AND o.txn_id < r.txn_id
         AND contains(r.description, o.txn_id)
        WHERE CAST(r.amount AS DECIMAL(18, 2)) < 0
    """)
    assert len(reversals) >= 2
    negatives = _one(db, "SELECT count(*) FROM gl_actuals WHERE CAST(amount AS DECIMAL(18, 2)) < 0")
    assert negatives == len(reversals)  # every negative line reverses a named earlier one


def test_scenario_revenue_postings(db: duckdb.DuckDBPyConnection) -> None:
    revenue = "SELECT g.* FROM gl_actuals g JOIN accounts a USING (account_code) WHERE a.account_type = 'revenue'"
    assert _one(db, f"SELECT count(*) FROM ({revenue}) WHERE CAST(amount AS DECIMAL(18, 2)) <= 0") == 0
    assert _one(db, f"SELECT count(DISTINCT project_code) FROM ({revenue})") >= 5
    # a closed project billed its contract value plus its approved change orders, no more, no less
    unbalanced = _all(db, f"""
        WITH billed AS (SELECT project_code, sum(CAST(amount AS DECIMAL(18, 2))) AS billed
                        FROM ({revenue}) GROUP BY ALL),
             changes AS (SELECT project_code, sum(CAST(revenue_amount AS DECIMAL(18, 2))) AS extra FROM change_orders
                         WHERE status = 'approved' GROUP BY ALL)
        SELECT p.project_code FROM projects p JOIN billed USING (project_code) LEFT JOIN changes USING (project_code)
        WHERE p.status = 'closed' AND billed <> CAST(p.contract_value AS DECIMAL(18, 2)) + coalesce(extra, 0)
    """)
    assert not unbalanced


def test_sample_is_rich_enough(generated: tuple[Path, dict[str, int]], db: duckdb.DuckDBPyConnection) -> None:
    counts = generated[1]
    ledger = counts["gl_actuals_2025.parquet"] + counts["gl_actuals_2026.csv"]
    assert 300 <= ledger <= 3000
    assert 1000 <= counts["timesheets.csv"] <= 2000
    assert counts["equipment_rentals.csv"] >= 30 and counts["invoices.csv"] >= 100
    assert counts["tasks.csv"] >= 100 and counts["task_dependencies.csv"] >= 40
    assert _one(db, "SELECT count(DISTINCT left(posted_date, 7)) FROM gl_actuals") >= 18
    assert {r[0] for r in _all(db, "SELECT DISTINCT status FROM change_orders")} == {"approved", "proposed", "rejected"}
    assert _one(db, "SELECT count(*) FROM budget_transfers WHERE approved_by IS NULL") >= 1
    assert _one(db, "SELECT count(*) FROM milestones WHERE actual_date IS NULL") >= 1
    assert _one(db, "SELECT count(*) FROM equipment_rentals WHERE CAST(damage_charge AS DECIMAL(18, 2)) > 0") >= 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", _one(db, "SELECT max(posted_date) FROM gl_actuals"))


# ------------------------------------------------------------------------------------ scenario 8: hot costs (EP-2601)
# Figures by hand, SPEC §4: labour = (regular + overtime x multiplier) x rate x (1 + fringe / 100), multiplier 1.5
# and fringe 0 when blank, the rate the entry's or else the person's; payroll posts an entry on the Friday of the
# week after its work date, so the week of 5 October posts on 16 October, after the as-of date (15 October).

UNPOSTED_OVERTIME = {  # entry_id: (work_date, person_id, labour cost)
    "TS-900001": ("2026-10-08", "P001", "2017.80"),  # (10 + 4 x 2.0) x 95.00 x 1.18 = 18 x 112.10
    "TS-900002": ("2026-10-08", "P004", "1620.00"),  # (10 + 4 x 2.0) x 90.00, freelance: no fringe
    "TS-900003": ("2026-10-12", "P002", "1454.35"),  # (10 + 3 x 1.5) x 85.00 x 1.18 = 14.5 x 100.30
    "TS-900004": ("2026-10-12", "P006", "1087.50"),  # (10 + 3 x 1.5) x 75.00
    "TS-900005": ("2026-10-13", "P001", "1457.30"),  # (10 + 2 x 1.5) x 95.00 x 1.18 = 13 x 112.10
    "TS-900006": ("2026-10-14", "P003", "1038.40"),  # (8 + 4 x 2.0) x 55.00 (entry rate) x 1.18 = 16 x 64.90
}


def test_scenario_crew_overtime_accrued_before_payroll_posts_it(db: duckdb.DuckDBPyConnection) -> None:
    rows = _all(db, f"""
        SELECT t.entry_id, t.work_date, t.person_id, CAST(round(c.cost, 2) AS VARCHAR), t.project_code, t.account_code,
               CAST(t.overtime_hours AS DECIMAL(18, 4)) > 0
        FROM timesheets t JOIN timesheet_costs c USING (entry_id)
        WHERE t.entry_id IN ({", ".join(f"'{e}'" for e in UNPOSTED_OVERTIME)}) ORDER BY 1
    """)
    assert [(e, d, p, cost) for e, d, p, cost, *_ in rows] == [(e, *v) for e, v in UNPOSTED_OVERTIME.items()]
    assert {(code, account, overtime) for *_, code, account, overtime in rows} == {("EP-2601", "5100", True)}
    assert _one(db, "SELECT status FROM projects WHERE project_code = 'EP-2601'") == "active"
    # not posted: no ledger line names them, and the next payroll run (16 October) is after as-of
    assert _one(db, "SELECT count(*) FROM gl_actuals WHERE source_ref LIKE 'TS-9%'") == 0
    # 2017.80 + 1620.00 + 1454.35 + 1087.50 + 1457.30 + 1038.40 = 8675.35
    assert sum(Decimal(cost) for *_, cost in UNPOSTED_OVERTIME.values()) == Decimal("8675.35")
    # the rest of the crew's timesheets from that week on are still waiting for payroll too
    assert _one(db, """SELECT count(*) FROM timesheets t JOIN gl_actuals g ON g.source_ref = t.entry_id
                       WHERE CAST(t.work_date AS DATE) >= DATE '2026-10-05'""") == 0
    # and the ledger posted the week before (the run of Friday 9 October)
    assert _one(db, """SELECT count(*) FROM timesheets t JOIN gl_actuals g ON g.source_ref = t.entry_id
                       WHERE t.project_code = 'EP-2601' AND CAST(t.work_date AS DATE) BETWEEN DATE '2026-09-28'
                       AND DATE '2026-10-02' AND g.posted_date = '2026-10-09'""") > 0


def test_scenario_rental_extended_past_plan_with_damage_partly_posted(db: duckdb.DuckDBPyConnection) -> None:
    rental = _all(db, "SELECT project_code, account_code, start_date, end_date, day_rate, damage_charge, currency "
                      "FROM equipment_rentals WHERE rental_id = 'RNT-9001'")
    assert rental == [("EP-2601", "5200", "2026-09-28", "2026-10-20", "1450.00", "850.00", "USD")]
    # the ledger posted the booked days, 2026-09-28 .. 2026-10-09 = 12 days x 1450.00 = 17400.00, nothing more
    posted = "SELECT posted_date, CAST(amount AS DECIMAL(18, 2)) FROM gl_actuals WHERE source_ref = 'RNT-9001'"
    assert _all(db, posted) == [("2026-10-12", Decimal("17400.00"))]
    # to as-of: 2026-09-28 .. 2026-10-15 = 18 days x 1450.00 = 26100.00, + 850.00 damage = 26950.00 incurred;
    # 26950.00 - 17400.00 = 9550.00 still to post
    assert 18 * Decimal("1450.00") + Decimal("850.00") - Decimal("17400.00") == Decimal("9550.00")


def test_scenario_invoice_above_its_closed_po_within_the_tolerance(db: duckdb.DuckDBPyConnection) -> None:
    above = _all(db, """
        SELECT o.po_id, o.status, CAST(o.amount AS DECIMAL(18, 2)), sum(CAST(i.amount AS DECIMAL(18, 2))) AS billed
        FROM purchase_orders o JOIN invoices i USING (po_id)
        GROUP BY ALL HAVING billed > CAST(o.amount AS DECIMAL(18, 2))
    """)
    # 25800.00 against 24000.00: 1800.00 above, 7.5% < the default tolerance of 10%
    assert above == [("PO-9001", "closed", Decimal("24000.00"), Decimal("25800.00"))]
    assert _all(db, "SELECT invoice_id, status FROM invoices WHERE po_id = 'PO-9001'") == [("INV-90001", "approved")]
    assert _one(db, "SELECT count(*) FROM gl_actuals WHERE source_ref = 'INV-90001'") == 0


def test_scenario_open_po_part_invoiced(db: duckdb.DuckDBPyConnection) -> None:
    assert _all(db, "SELECT project_code, account_code, CAST(amount AS DECIMAL(18, 2)), status FROM purchase_orders "
                    "WHERE po_id = 'PO-9002'") == [("EP-2601", "5410", Decimal("60000.00"), "open")]
    invoiced = _all(db, """SELECT i.invoice_id, CAST(i.amount AS DECIMAL(18, 2)), i.status,
                                  CAST(g.amount AS DECIMAL(18, 2))
                           FROM invoices i LEFT JOIN gl_actuals g ON g.source_ref = i.invoice_id
                           WHERE i.po_id = 'PO-9002' ORDER BY 1""")
    # 60000.00 - 18000.00 - 12000.00 = 30000.00 still committed; 18000.00 of it posted
    assert invoiced == [("INV-90002", Decimal("18000.00"), "paid", Decimal("18000.00")),
                        ("INV-90003", Decimal("12000.00"), "received", None)]
    # and open POs with nothing invoiced yet still exist (work booked ahead)
    assert _one(db, "SELECT count(*) FROM purchase_orders WHERE status = 'open' "
                    "AND po_id NOT IN (SELECT po_id FROM invoices WHERE po_id IS NOT NULL)") >= 1


def test_scenario_change_orders_on_the_active_shoot(db: duckdb.DuckDBPyConnection) -> None:
    assert _all(db, "SELECT change_order_id, account_code, status, revenue_amount, budget_amount FROM change_orders "
                    "WHERE project_code = 'EP-2601' ORDER BY 1") == [
        ("CO-004", "5110", "proposed", "120000.00", "95000.00"),
        ("CO-005", "5500", "rejected", "40000.00", "32000.00"),
        ("CO-010", "5300", "approved", "19500.00", "15000.00"),
    ]
    # the approved one is billed to the client (21 days after it was issued); the others are not
    assert _all(db, "SELECT posted_date, amount FROM gl_actuals WHERE description LIKE 'Change order CO-0__ billing' "
                    "AND project_code = 'EP-2601'") == [("2026-09-08", "19500.00")]


def test_scenario_accountants_estimate_to_complete(db: duckdb.DuckDBPyConnection) -> None:
    estimates = _all(db, "SELECT project_code, account_code, estimated_on, etc_amount, currency "
                         "FROM estimates_to_complete ORDER BY estimated_on")
    # two estimates of one line; the latest on or before as-of (128000.00 of 9 October) stands
    assert estimates == [("EP-2601", "5100", "2026-09-11", "112000.00", "USD"),
                         ("EP-2601", "5100", "2026-10-09", "128000.00", "USD")]
    assert _one(db, "SELECT count(*) FROM estimates_to_complete WHERE CAST(estimated_on AS DATE) > as_of()") == 0


# ------------------------------------------------------------------------------------ production scenarios


def test_scenario_production_staff_freelancers_and_work_without_owner(db: duckdb.DuckDBPyConnection) -> None:
    owners = dict(_all(db, """SELECT p.worker_type, count(*) FROM tasks t JOIN people p
                              ON p.person_id = t.owner_person_id GROUP BY ALL"""))
    assert owners.get("staff", 0) > 0 and owners.get("freelance", 0) > 0
    # nobody has yet taken the fire safety inspection
    assert _all(db, "SELECT project_code, task_name FROM tasks WHERE owner_person_id IS NULL") == [
        ("OVH-STUDIO", "Fire safety inspection")
    ]


def test_scenario_production_retake_loop_of_two_rounds(db: duckdb.DuckDBPyConnection) -> None:
    assert _one(db, """SELECT count(*) FROM (SELECT task_id FROM task_events WHERE status = 'retake'
                       GROUP BY task_id HAVING count(*) >= 2)""") >= 1


def test_scenario_production_blocked_by_unfinished_upstream_work(db: duckdb.DuckDBPyConnection) -> None:
    # episode 106's online, marked blocked, waits on its VFX shots, which are not done at the as-of date
    latest = """SELECT task_id, arg_max(status, CAST(changed_at AS TIMESTAMP)) AS status FROM task_events
                WHERE CAST(changed_at AS TIMESTAMP) < as_of() + 1 GROUP BY ALL"""
    waiting = _all(db, f"""
        SELECT t.task_name, u.task_name, us.status
        FROM task_dependencies d
        JOIN tasks t ON t.task_id = d.task_id JOIN ({latest}) ts ON ts.task_id = d.task_id
        JOIN tasks u ON u.task_id = d.depends_on_task_id JOIN ({latest}) us ON us.task_id = d.depends_on_task_id
        WHERE ts.status = 'blocked' AND us.status NOT IN ('done', 'omitted') ORDER BY ALL""")
    assert ("Ep106 online, colour & mix", "Ep106 VFX shots", "review") in waiting


def test_scenario_production_slipped_milestones(db: duckdb.DuckDBPyConnection) -> None:
    late = _all(db, """SELECT project_code, milestone FROM milestones
                       WHERE CAST(actual_date AS DATE) > CAST(planned_date AS DATE) ORDER BY ALL""")
    assert ("EP-2601", "Eps 101-104 delivered") in late


def test_scenario_production_one_overloaded_person_in_the_as_of_week(db: duckdb.DuckDBPyConnection) -> None:
    """Open tasks' estimates spread evenly over the weeks of start..due: in the as-of week only Marcus Bell (P010,
    staff, 40 h) holds more than his capacity (CM-2603's grade, VFX and picture lock, and Ep107's online)."""
    allocated = dict(_all(db, """
        WITH latest AS (SELECT task_id, arg_max(status, CAST(changed_at AS TIMESTAMP)) AS status FROM task_events
                        WHERE CAST(changed_at AS TIMESTAMP) < as_of() + 1 GROUP BY ALL),
        open_tasks AS (
            SELECT t.owner_person_id AS person_id, CAST(t.estimate_hours AS DECIMAL(18, 4)) AS estimate,
                   date_trunc('week', CAST(t.start_date AS DATE)) AS first_week,
                   date_trunc('week', CAST(t.due_date AS DATE)) AS last_week
            FROM tasks t JOIN latest l USING (task_id)
            WHERE l.status NOT IN ('done', 'omitted') AND t.owner_person_id IS NOT NULL)
        SELECT person_id, sum(estimate / (datediff('day', first_week, last_week) / 7 + 1)) FROM open_tasks
        WHERE date_trunc('week', as_of()) BETWEEN first_week AND last_week GROUP BY ALL"""))
    capacity = {p: float(c) for p, c in _all(db, "SELECT person_id, weekly_capacity_hours FROM people")}
    assert [p for p, hours in allocated.items() if hours > capacity[p]] == ["P010"]
