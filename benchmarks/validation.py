"""Validation benchmark: the quality gate (GX in DuckDB) against the same rules as plain DuckDB SQL.

    python benchmarks/validation.py [--rows 1000000 10000000] [--out benchmarks/results_validation.md]

For each row count N, on generated data (deterministic, written with DuckDB SQL):

1. a small reference lake (departments, accounts, fx_rates, projects) is loaded through `ingest_source`, so the
   context the rules read is the real lake layout (Parquet per load);
2. a GL actuals landing CSV of N rows is written (0.01 % of rows carry a formatted amount such as "$1,234", a few
   carry an outlier amount) and staged once into a work DuckDB file (`stage` + `prepare_context`);
3. each of these runs in its own child process, so that its wall time and peak RSS (VmHWM) are its own:
   - the quality gate, `run_gate(work_db, SOURCES["gl_actuals"])`, on a fresh copy of the staged file;
   - the same rules as plain DuckDB SQL, one `count(*)` query per rule plus the table checks, each query with
     every helper column of the gate ("plain SQL") and with only those it reads ("lean SQL");
   - `ingest_file` end to end, for the file as generated (rejected: stage + gate + quarantine) and for a clean
     variant of it (accepted: stage + gate + Parquet write).

Then `run_gate` runs once more with `find_offending`'s statements under DuckDB's profiler, to show where the time
and memory go. Timings are wall clock on a shared machine: the script reports them and their ratio, it asserts
nothing about them. It does check that the methods find the same offending rows per rule (exit status 1 if not).
Temporary files live under /tmp and are deleted at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SOURCE = "gl_actuals"
AS_OF = date(2025, 12, 31)  # postings are within 2025: none is "after as-of"
RUN_ID = "validation-benchmark"
FORMATTED_EVERY = 10_000  # row i carries an amount such as "$12,345" when i % this == 0 (0.01 %)
OUTLIER_EVERY, OUTLIER_AT = 200_000, 12_345  # ... an amount above 1,000,000 (a warning) when i % every == at
GBP_EVERY = 10  # about one posting in ten is in GBP
TARGET_RATIO = 2.0  # gate ≤ 2x plain SQL at 10M rows
TARGET_PEAK_MB = 1536  # peak memory ≤ 1.5 GB
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results_validation.md"

DEPARTMENTS = [
    ("PROD", "Production"),
    ("POST", "Post-production"),
    ("ANIM", "Animation"),
    ("SOUND", "Sound"),
    ("ADMIN", "Administration"),
]
ACCOUNTS = [
    ("4000", "Production fee revenue", "revenue", "revenue"),
    ("4100", "Sponsorship revenue", "revenue", "revenue"),
    ("5000", "Crew - day rates", "crew", "expense"),
    ("5010", "Crew - overtime", "crew", "expense"),
    ("5020", "Crew - fringes", "crew", "expense"),
    ("5100", "Camera rental", "equipment", "expense"),
    ("5110", "Lighting and grip rental", "equipment", "expense"),
    ("5200", "Location fees", "location", "expense"),
    ("5210", "Permits", "location", "expense"),
    ("5300", "Editorial", "post", "expense"),
    ("5310", "Colour grading", "post", "expense"),
    ("5320", "Sound mix", "post", "expense"),
    ("5400", "Vendors and contractors", "third_party", "expense"),
    ("5410", "Music licensing", "third_party", "expense"),
    ("6100", "Studio rent", "overhead", "expense"),
    ("6200", "Software", "overhead", "expense"),
    ("6300", "Insurance", "overhead", "expense"),
    ("6900", "Contingency", "contingency", "expense"),
]
PROJECT_COUNT = 50
INVOICE_COUNT = 20_000  # the invoices a posting's source_ref names (the ledger's rules read them)
PROJECT_TYPES = ["commercial", "feature", "episodic", "documentary", "music_video", "podcast", "photo", "broadcast"]
VENDORS = [
    "Harbor Works Properties",
    "Northlight Camera House",
    "Grip & Electric Co",
    "Sound Foundry",
    "Colour Lab Ltd",
    "City Permits Office",
    "Crew Payroll Services",
    "Google",
    None,
]
DESCRIPTIONS = [
    "Crew day rate",
    "Camera package rental",
    "Location fee",
    "Edit suite hire",
    "Grade session",
    "Music licence",
    "Travel and per diem",
    "Catering",
]
# 32-bit multiplicative hashes of the row number: deterministic whatever the DuckDB version (hash() is not)
MULTIPLIERS = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 1597334677, 3812015801]


# --------------------------------------------------------------------------------------------- data generation


def _sql_list(values: list) -> str:
    return "[" + ", ".join("NULL" if v is None else "'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _project_codes() -> list[str]:
    return [f"PRJ-{i:03d}" for i in range(1, PROJECT_COUNT + 1)]


def write_reference_csvs(landing: Path) -> None:
    """departments, accounts, fx_rates (USD and GBP, 2024-01..2026-12) and ~50 projects, as landing CSVs."""
    landing.mkdir(parents=True, exist_ok=True)
    departments = ", ".join(f"('{c}', '{n}', '{c.lower()}@studio.example')" for c, n in DEPARTMENTS)
    accounts = ", ".join("(" + ", ".join(f"'{v}'" for v in row) + ")" for row in ACCOUNTS)
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM (VALUES {departments}) AS t(department_code, department_name, owner_email)) "
            f"TO '{_sql_path(landing / 'departments.csv')}' (HEADER true)"
        )
        con.execute(
            f"COPY (SELECT * FROM (VALUES {accounts}) AS t(account_code, account_name, category, account_type)) "
            f"TO '{_sql_path(landing / 'accounts.csv')}' (HEADER true)"
        )
        con.execute(
            f"""COPY (
                SELECT currency, strftime(DATE '2024-01-01' + to_months(m), '%Y-%m') AS period,
                       CASE currency WHEN 'USD' THEN '1.0' ELSE printf('%.4f', 1.25 + (m % 7) * 0.01) END
                           AS rate_to_base
                FROM (VALUES ('USD'), ('GBP')) AS c(currency), range(36) AS r(m)
                ORDER BY currency, period
            ) TO '{_sql_path(landing / "fx_rates.csv")}' (HEADER true)"""
        )
        con.execute(
            f"""COPY (
                SELECT printf('PRJ-%03d', i) AS project_code, 'Project ' || i AS project_name,
                       {_sql_list([c for c, _ in DEPARTMENTS])}[1 + i % {len(DEPARTMENTS)}] AS department_code,
                       'Client ' || (i % 17) AS client,
                       {_sql_list(PROJECT_TYPES)}[1 + i % {len(PROJECT_TYPES)}] AS project_type,
                       'active' AS status,
                       CAST(DATE '2024-01-01' + CAST(i * 7 AS INTEGER) AS VARCHAR) AS start_date,
                       CAST(DATE '2024-01-01' + CAST(i * 7 + 700 AS INTEGER) AS VARCHAR) AS end_date,
                       printf('%d.00', 50000 + i * 10000) AS contract_value,
                       CASE WHEN i % 5 = 0 THEN 'GBP' ELSE 'USD' END AS currency
                FROM range(1, {PROJECT_COUNT + 1}) AS r(i)
            ) TO '{_sql_path(landing / "projects.csv")}' (HEADER true)"""
        )
        expense = [a[0] for a in ACCOUNTS if a[3] == "expense"]
        con.execute(
            f"""COPY (
                SELECT 'INV-' || i AS invoice_id,
                       coalesce({_sql_list(VENDORS)}[1 + i % {len(VENDORS)}], 'Vendor') AS vendor,
                       CAST(DATE '2025-01-01' + CAST(i % 365 AS INTEGER) AS VARCHAR) AS invoice_date,
                       printf('PRJ-%03d', 1 + i % {PROJECT_COUNT}) AS project_code,
                       {_sql_list(expense)}[1 + i % {len(expense)}] AS account_code,
                       printf('%d.00', 100 + i % 5000) AS amount, 'USD' AS currency, 'paid' AS status, '' AS po_id
                FROM range(1, {INVOICE_COUNT + 1}) AS r(i)
            ) TO '{_sql_path(landing / "invoices.csv")}' (HEADER true)"""
        )


def write_gl_csv(path: Path, rows: int, formatted: bool) -> None:
    """N GL postings of 2025 on the reference projects and expense accounts; `formatted`: with "$1,234" amounts."""
    h = [f"((i * {m}) % 4294967296 // 65536)" for m in MULTIPLIERS]  # 0..65535, one per column
    expense = [a[0] for a in ACCOUNTS if a[3] == "expense"]
    cents = f"((i * {MULTIPLIERS[0]}) % 4294967296 % 2000000 - 100000)"  # -1,000.00 .. 18,999.99, some reversals
    amount = f"printf('%.2f', {cents} / 100.0)"
    if formatted:
        amount = f"CASE WHEN i % {FORMATTED_EVERY} = 0 THEN '$' || format('{{:,}}', 1000 + {h[5]}) ELSE {amount} END"
    amount = f"CASE WHEN i % {OUTLIER_EVERY} = {OUTLIER_AT} THEN '1250000.00' ELSE {amount} END"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (
                SELECT 'GL-' || lpad(CAST(i AS VARCHAR), 10, '0') AS txn_id,
                       CAST(DATE '2025-01-01' + CAST({h[1]} % 365 AS INTEGER) AS VARCHAR) AS posted_date,
                       {_sql_list(_project_codes())}[1 + {h[2]} % {PROJECT_COUNT}] AS project_code,
                       {_sql_list(expense)}[1 + {h[3]} % {len(expense)}] AS account_code,
                       {_sql_list(VENDORS)}[1 + {h[4]} % {len(VENDORS)}] AS vendor,
                       {_sql_list(DESCRIPTIONS)}[1 + {h[6]} % {len(DESCRIPTIONS)}] AS description,
                       {amount} AS amount,
                       CASE WHEN {h[4]} % {GBP_EVERY} = 0 THEN 'GBP' ELSE 'USD' END AS currency,
                       CASE WHEN i % 50 = 0 THEN 'INV-' || (1 + (i // 50) % {INVOICE_COUNT}) END AS source_ref
                FROM (SELECT range + 1 AS i FROM range({int(rows)}))
            ) TO '{_sql_path(path)}' (HEADER true, DELIMITER ',')"""
        )


def build_reference_lake(root: Path) -> None:
    """A warehouse whose lake holds the reference loads, through the real ingest; returns the warehouse folder."""
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.gate.context import RunContext
    from orchestration.lib.loads import ingest_source

    landing, warehouse = root / "landing_reference", root / "warehouse"
    write_reference_csvs(landing)
    layout = WarehouseLayout(warehouse)
    for name in ("departments", "accounts", "fx_rates", "projects", "invoices"):
        outcomes = ingest_source(SOURCES[name], landing, layout, RUN_ID, RunContext(as_of=AS_OF))
        if [o.status for o in outcomes] != ["accepted"]:
            reasons = [r for o in outcomes for r in o.reasons]
            raise SystemExit(f"reference source {name} was not accepted: {reasons}")


# --------------------------------------------------------------------------------------------- the plain SQL side


def plain_sql_plan() -> dict:
    """What a hand-written validator runs: the table checks, then one count(*) per row rule of the suite.

    Each rule's query reads `landed` with the gate's helper columns, as `quality.helper_columns` gives them; the
    small tables the gate creates first for some of them (`CREATE TABLE repeated_ids AS ...`) become CTEs of the
    query, since the validator reads the staged file read-only. Two forms: `sql` with every helper column and
    join ("plain SQL"), `lean_sql` with only those its predicate reads ("lean SQL").
    """
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.gate.context import helper_columns

    suite = json.loads((REPO_ROOT / "expectations" / f"{SOURCE}.json").read_text(encoding="utf-8"))
    parts = helper_columns(SOURCES[SOURCE])
    tables, helpers, joins = parts if len(parts) == 3 else ([], *parts)  # (helpers, joins) before the tables came
    ctes = {}
    for statement in tables:
        found = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(\w+)\s+AS\s+(.*)$", statement, re.I | re.S)
        if not found:
            raise SystemExit(f"the benchmark cannot turn this helper statement into a CTE: {statement}")
        ctes[found.group(1)] = found.group(2)

    def query(predicate: str, used: list[str], clauses: list[str]) -> str:
        if not used:
            return f"SELECT count(*) FROM landed WHERE {predicate}"
        joined = " ".join(clauses)
        names = [n for n in ctes if re.search(rf"\b{re.escape(n)}\b", joined)]
        with_ = "WITH " + ", ".join(f"{n} AS ({ctes[n]})" for n in names) + " " if names else ""
        select = ", ".join(["landed.*", *used])
        return f"{with_}SELECT count(*) FROM (SELECT {select} FROM landed {joined}) AS landed WHERE {predicate}"

    def lean(predicate: str) -> str:
        used = [h for h in helpers if re.search(rf"\b{re.escape(_alias(h))}\b", predicate)]
        clauses = [
            clause
            for clause in _join_clauses(joins)
            if (name := _join_alias(clause)) is None or any(re.search(rf"\b{re.escape(name)}\.", h) for h in used)
        ]
        return query(predicate, used, clauses)

    table, rules, skipped = [], [], []
    for expectation in suite["expectations"]:
        kind, kwargs, meta = expectation["type"], expectation.get("kwargs") or {}, expectation.get("meta") or {}
        check = {"rule": meta.get("rule") or kind, "blocking": meta.get("blocking", True), "kind": kind}
        if kind == "unexpected_rows_expectation":
            predicate = meta["bad_when"]
            sql = query(predicate, helpers, _join_clauses(joins)) if helpers else query(predicate, [], [])
            rules.append({**check, "sql": sql, "lean_sql": lean(predicate)})
        elif kind in TABLE_CHECKS:
            table.append({**check, "kwargs": kwargs})
        else:
            skipped.append(check["rule"])  # not replicated in plain SQL: left out of the comparison
    return {"table": table, "rules": rules, "skipped": skipped}


def _join_clauses(joins: str) -> list[str]:
    """`LEFT JOIN a ... LEFT JOIN (SELECT ...) AS b ...` → one string per join (subqueries kept whole)."""
    clauses, depth, start = [], 0, 0
    for i, char in enumerate(joins):
        depth += {"(": 1, ")": -1}.get(char, 0)
        keyword = re.match(r"\s+((LEFT|INNER|CROSS|RIGHT|FULL)\s+(OUTER\s+)?)?JOIN\b", joins[i:], flags=re.IGNORECASE)
        modifier = re.search(r"\b(LEFT|INNER|CROSS|RIGHT|FULL|OUTER)\s*$", joins[:i], flags=re.IGNORECASE)
        if depth == 0 and i > start and keyword and not modifier:
            clauses.append(joins[start:i].strip())
            start = i
    clauses.append(joins[start:].strip())
    return [c for c in clauses if c]


def _join_alias(clause: str) -> str | None:
    """The alias a join's columns are read through (`... AS fx ON ...`), None when it cannot be told."""
    depth, outer = 0, []
    for char in clause:
        depth += {"(": 1, ")": -1}.get(char, 0)
        outer.append(char if depth == 0 and char != ")" else " ")
    outer_text = "".join(outer)
    found = re.findall(r"\bAS\s+(\w+)\s+ON\b", outer_text, flags=re.IGNORECASE)
    found = found or re.findall(r"\bJOIN\s+(\w+)\s+ON\b", outer_text, flags=re.IGNORECASE)  # no alias: the table
    return found[-1] if found else None


def _alias(helper: str) -> str:
    """The name a helper column is selected as: `... AS _key_count`, `starts._project_start`."""
    return re.split(r"\s+AS\s+|\.", helper.strip(), flags=re.IGNORECASE)[-1].strip('"')


def table_check(kind: str, kwargs: dict, columns: list[str], rows: int) -> bool:
    """A table expectation from the column list (DESCRIBE) and the row count, as GX judges it."""
    if kind == "expect_column_to_exist":
        return kwargs["column"] in columns
    if kind == "expect_table_row_count_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return (low is None or rows >= low) and (high is None or rows <= high)
    if kind == "expect_table_columns_to_match_set":
        wanted = set(kwargs.get("column_set") or [])
        if kwargs.get("exact_match", True):
            return wanted == set(columns)
        return wanted <= set(columns)
    raise ValueError(kind)


TABLE_CHECKS = ("expect_column_to_exist", "expect_table_row_count_to_be_between", "expect_table_columns_to_match_set")


# --------------------------------------------------------------------------------------------- child processes


def work_db_config() -> dict:
    """The settings of a load's check database."""
    from orchestration.lib.gate.checks import CHECK_DB_CONFIG

    return dict(CHECK_DB_CONFIG)


def _status_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux


def _memory() -> dict:
    return {"peak_mb": _status_kb("VmHWM") / 1024, "rss_mb": _status_kb("VmRSS") / 1024}


def worker_reference(spec: dict) -> dict:
    start = time.perf_counter()
    build_reference_lake(Path(spec["root"]))
    return {"s": time.perf_counter() - start, **_memory()}


def worker_stage(spec: dict) -> dict:
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.gate.context import RunContext, prepare_context
    from orchestration.lib.gate.landed import read_landed

    source = SOURCES[SOURCE]
    baseline = _memory()["rss_mb"]
    t0 = time.perf_counter()
    con = duckdb.connect(spec["database"], config=work_db_config())
    problem = read_landed(con, Path(spec["file"]), source)
    if problem is not None:
        raise SystemExit(f"staging failed: {problem.message}")
    t1 = time.perf_counter()
    rows = int(con.execute("SELECT count(*) FROM landed").fetchone()[0])
    prepare_context(con, WarehouseLayout(Path(spec["warehouse"])), source, RunContext(as_of=AS_OF))
    t2 = time.perf_counter()
    con.close()
    t3 = time.perf_counter()
    return {
        "rows": rows,
        "stage_s": t1 - t0,
        "context_s": t2 - t1,
        "close_s": t3 - t2,
        "wall_s": t3 - t0,
        "baseline_mb": baseline,
        **_memory(),
    }


def worker_gate(spec: dict) -> dict:
    t0 = time.perf_counter()
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.gate import checks as quality
    from orchestration.lib.gate.gx_duckdb import GxSession

    import_s = time.perf_counter() - t0
    baseline = _memory()["rss_mb"]
    # Time the gate's phases by wrapping the names run_gate calls (production code is not changed).
    phases: list[dict] = []
    validate, find_offending = GxSession.validate, quality.find_offending

    def timed_validate(session, query, suite, *args, **kwargs):
        start = time.perf_counter()
        try:
            return validate(session, query, suite, *args, **kwargs)
        finally:
            phase = "GX table expectations on landed" if "landed" in query else "GX row expectations on offending"
            phases.append({"phase": phase, "s": time.perf_counter() - start, "peak_mb": _memory()["peak_mb"]})

    def timed_find(con, source, predicates):
        start = time.perf_counter()
        try:
            return find_offending(con, source, predicates)
        finally:
            phase = "find_offending (one scan: CREATE TABLE offending)"
            phases.append({"phase": phase, "s": time.perf_counter() - start, "peak_mb": _memory()["peak_mb"]})

    GxSession.validate, quality.find_offending = timed_validate, timed_find
    start = time.perf_counter()
    checks = quality.run_gate(Path(spec["database"]), SOURCES[SOURCE])
    gate_s = time.perf_counter() - start
    with duckdb.connect(spec["database"], read_only=True) as con:
        offending = int(con.execute("SELECT count(*) FROM offending").fetchone()[0])
    return {
        "wall_s": gate_s,
        "import_s": import_s,
        "baseline_mb": baseline,
        "phases": phases,
        "offending_rows": offending,
        "checks": [{"rule": c.rule, "passed": c.passed, "bad_rows": c.bad_rows} for c in checks],
        **_memory(),
    }


def worker_sql(spec: dict) -> dict:
    plan = spec["plan"]
    baseline = _memory()["rss_mb"]
    start = time.perf_counter()
    checks, timings = [], []
    with duckdb.connect(spec["database"], read_only=True, config=spec["config"]) as con:
        t = time.perf_counter()
        columns = [r[0] for r in con.execute("DESCRIBE landed").fetchall()]
        rows = int(con.execute("SELECT count(*) FROM landed").fetchone()[0])
        for item in plan["table"]:
            passed = table_check(item["kind"], item["kwargs"], columns, rows)
            checks.append({"rule": item["rule"], "table": True, "passed": passed, "bad_rows": 0})
        timings.append({"rule": "table checks (DESCRIBE landed, count(*))", "s": time.perf_counter() - t})
        for rule in plan["rules"]:
            t = time.perf_counter()
            count = int(con.execute(rule[spec["variant"]]).fetchone()[0])
            timings.append({"rule": rule["rule"], "s": time.perf_counter() - t})
            checks.append({"rule": rule["rule"], "table": False, "passed": count == 0, "bad_rows": count})
    return {
        "wall_s": time.perf_counter() - start,
        "baseline_mb": baseline,
        "checks": checks,
        "timings": timings,
        **_memory(),
    }


class _ProfiledConnection:
    """Stands in for the connection `run_gate` hands to `find_offending`: each CREATE TABLE runs under DuckDB's
    profiler (JSON), whose result is kept in `profiles`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, output: Path):
        self.con, self.output, self.profiles = con, output, []

    def execute(self, sql: str, *args):
        created = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(\w+)", sql, re.IGNORECASE)
        if not created:
            return self.con.execute(sql, *args)
        self.con.execute("PRAGMA enable_profiling = 'json'")
        self.con.execute(f"PRAGMA profiling_output = '{_sql_path(self.output)}'")
        start = time.perf_counter()
        result = self.con.execute(sql, *args)
        wall = time.perf_counter() - start
        self.con.execute("PRAGMA disable_profiling")
        profile = json.loads(self.output.read_text(encoding="utf-8"))
        self.profiles.append({"table": created.group(1), "wall_s": wall, **_profile_summary(profile)})
        return result

    def __getattr__(self, name: str):
        return getattr(self.con, name)


def _profile_summary(profile: dict) -> dict:
    operators: list[dict] = []

    def walk(node: dict) -> None:
        extra = node.get("extra_info") or {}
        what = extra.get("Join Type") or extra.get("Table") or extra.get("Projections") or ""
        label = f"{node.get('type', '?')} {' '.join(what) if isinstance(what, list) else what}".strip()
        operators.append(
            {"operator": label, "cpu_s": node.get("timing", 0.0), "bytes": node.get("intermediate_size_bytes", 0)}
        )
        for child in node.get("children") or []:
            walk(child)

    for node in profile.get("operator") or []:
        walk(node)
    return {
        "cpu_s": (profile.get("query") or {}).get("cpu_time") or 0.0,
        "peak_buffer_mb": (profile.get("system") or {}).get("peak_buffer_memory", 0) / 2**20,
        "operators": sorted(operators, key=lambda o: o["cpu_s"], reverse=True)[:4],
    }


def worker_profile(spec: dict) -> dict:
    """`run_gate` once more, its `find_offending` statements under DuckDB's profiler (on run_gate's connection)."""
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.gate import checks as quality

    find_offending, seen = quality.find_offending, {}

    def profiled_find(con, source, predicates):
        seen["memory_limit"] = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        seen["connection"] = _ProfiledConnection(con, Path(spec["database"]).with_suffix(".profile.json"))
        return find_offending(seen["connection"], source, predicates)

    quality.find_offending = profiled_find
    quality.run_gate(Path(spec["database"]), SOURCES[SOURCE])
    statements = seen["connection"].profiles if "connection" in seen else []
    return {"memory_limit": seen.get("memory_limit"), "statements": statements, **_memory()}


GATE_FILES = ("orchestration/lib/gate/checks.py", "orchestration/lib/loads.py", f"expectations/{SOURCE}.json")
INGEST_PHASES = {
    "sha256_of": "sha256 of the file",
    "_read_with_context": "read + prepare_context",
    "run_gate": "run_gate",
    "write_load": "Parquet write (write_load)",
    "_quarantine": "quarantine copy and report",
}


def worker_ingest(spec: dict) -> dict:
    from orchestration.lib import loads as ingest
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.contract import SOURCES
    from orchestration.lib.gate.context import RunContext

    # Time the steps by wrapping the module-level names ingest_file calls (production code is not changed).
    phases: list[dict] = []

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases.append(
                    {"phase": INGEST_PHASES[name], "s": time.perf_counter() - start, "peak_mb": _memory()["peak_mb"]}
                )

        return wrapper

    for name in INGEST_PHASES:
        if callable(getattr(ingest, name, None)):
            setattr(ingest, name, timed(name, getattr(ingest, name)))
    baseline = _memory()["rss_mb"]
    start = time.perf_counter()
    outcome = ingest.ingest_file(
        Path(spec["file"]),
        SOURCES[SOURCE],
        WarehouseLayout(Path(spec["warehouse"])),
        {},
        RUN_ID,
        RunContext(as_of=AS_OF),
    )
    return {
        "wall_s": time.perf_counter() - start,
        "status": outcome.status,
        "rows": outcome.rows,
        "reasons": outcome.reasons,
        "phases": phases,
        "baseline_mb": baseline,
        **_memory(),
    }


WORKERS = {
    "reference": worker_reference,
    "stage": worker_stage,
    "gate": worker_gate,
    "profile": worker_profile,
    "sql": worker_sql,
    "ingest": worker_ingest,
}


def run_child(kind: str, spec: dict, scratch: Path) -> dict:
    """Run one measurement in a fresh interpreter; its result, with the process's own wall time."""
    spec_file, result_file = scratch / f"{kind}.spec.json", scratch / f"{kind}.result.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            kind,
            "--spec",
            str(spec_file),
            "--result",
            str(result_file),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    if done.returncode != 0 or not result_file.exists():
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
        raise SystemExit(f"the {kind} worker failed (exit {done.returncode})")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["process_s"] = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------------------------- one row count


METHODS = {"gate": "gate (GX)", "sql": "plain SQL", "lean": "lean SQL"}


def measure(rows: int, warehouse: Path, scratch: Path, repeat: int, profiling: bool, log) -> dict:
    folder = scratch / f"n{rows}"
    folder.mkdir()
    dirty, clean = folder / f"gl_actuals_bench_{rows}.csv", folder / f"gl_actuals_bench_{rows}_clean.csv"
    start = time.perf_counter()
    write_gl_csv(dirty, rows, formatted=True)
    generate_s = time.perf_counter() - start
    write_gl_csv(clean, rows, formatted=False)
    size_mb = dirty.stat().st_size / 1e6
    log(f"  generated a {size_mb:,.0f} MB CSV in {generate_s:.1f}s (and its clean variant)")

    work_db = folder / "work.duckdb"
    staged = run_child("stage", {"database": str(work_db), "file": str(dirty), "warehouse": str(warehouse)}, folder)
    log(f"  staged {staged['rows']:,} rows in {staged['wall_s']:.1f}s (peak {staged['peak_mb']:,.0f} MB)")
    if staged["rows"] != rows:
        raise SystemExit(f"staged {staged['rows']} rows, generated {rows}")

    plan = plain_sql_plan()
    runs: dict[str, list[dict]] = {method: [] for method in METHODS}
    gate_db = folder / "gate.duckdb"
    for attempt in range(repeat):
        for leftover in folder.glob("gate.duckdb*"):
            leftover.unlink()
        shutil.copyfile(work_db, gate_db)  # run_gate writes `offending`: a fresh copy of the staged load each time
        runs["gate"].append(run_child("gate", {"database": str(gate_db)}, folder))
        for method, variant in (("sql", "sql"), ("lean", "lean_sql")):
            spec = {"database": str(work_db), "plan": plan, "variant": variant, "config": work_db_config()}
            runs[method].append(run_child("sql", spec, folder))
        log(
            f"  [{attempt + 1}/{repeat}] "
            + ", ".join(
                f"{METHODS[m]} {r[-1]['wall_s']:.2f}s (peak {r[-1]['peak_mb']:,.0f} MB)" for m, r in runs.items()
            )
        )
    profile = None
    if profiling:
        for leftover in folder.glob("gate.duckdb*"):
            leftover.unlink()
        shutil.copyfile(work_db, gate_db)
        profile = run_child("profile", {"database": str(gate_db)}, folder)
        log(f"  run_gate again with find_offending under DuckDB's profiler (peak {profile['peak_mb']:,.0f} MB)")
    for leftover in folder.glob("gate.duckdb*"):
        leftover.unlink()
    work_db.unlink()

    ingests = {}
    for label, path in (("rejected", dirty), ("accepted", clean)):
        ingests[label] = run_child("ingest", {"file": str(path), "warehouse": str(warehouse)}, folder)
        log(
            f"  ingest_file ({label} file): {ingests[label]['status']} in {ingests[label]['wall_s']:.1f}s "
            f"(peak {ingests[label]['peak_mb']:,.0f} MB)"
        )
        if ingests[label]["status"] != label:
            raise SystemExit(f"ingest_file of the {label} variant was {ingests[label]['status']}")
        # leave the lake as it was: only the reference loads
        shutil.rmtree(warehouse / "lake" / SOURCE, ignore_errors=True)
        shutil.rmtree(warehouse / "quarantine", ignore_errors=True)
    shutil.rmtree(folder)

    best = {method: min(results, key=lambda r: r["wall_s"]) for method, results in runs.items()}
    return {
        "rows": rows,
        "csv_mb": size_mb,
        "generate_s": generate_s,
        "stage": staged,
        "best": best,
        "profile": profile,
        "peak_mb": {method: max(r["peak_mb"] for r in results) for method, results in runs.items()},
        "ingest": ingests,
        "comparison": compare(plan, {method: best[method]["checks"] for method in METHODS}),
    }


def compare(plan: dict, checks: dict[str, list[dict]]) -> list[dict]:
    """Per rule of the suite, what each method found: bad rows (ok/failed for table checks); do they agree?"""
    by_method = {method: {c["rule"]: c for c in found} for method, found in checks.items()}
    table_rules = {c["rule"] for c in plan["table"]} | set(plan["skipped"])
    blocking = {c["rule"]: c["blocking"] for c in [*plan["table"], *plan["rules"]]}
    rules = dict.fromkeys([c["rule"] for c in [*plan["table"], *plan["rules"]]] + list(by_method["gate"]))
    rows = []
    for rule in rules:
        row = {"rule": rule, "blocking": blocking.get(rule, True), "found": {}}
        for method, found in by_method.items():
            check = found.get(rule)
            if method != "gate" and rule in plan["skipped"]:
                row["found"][method] = "not replicated"
            elif check is None:
                row["found"][method] = None
            elif rule in table_rules:
                row["found"][method] = "ok" if check["passed"] else "failed"
            else:
                row["found"][method] = check["bad_rows"]
        compared = [v for v in row["found"].values() if v != "not replicated"]
        row["match"] = len(set(map(str, compared))) == 1
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------- report


def machine() -> dict:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "ram_gib": ram,
        "duckdb": duckdb.__version__,
        "great_expectations": version("great-expectations"),
        "python": platform.python_version(),
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "load": os.getloadavg(),
        # which code was measured (others change it): a short sha256 of each file the gate runs
        "code": {
            name: hashlib.sha256((REPO_ROOT / name).read_bytes()).hexdigest()[:10]
            for name in GATE_FILES
        },
    }


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def render(results: list[dict], info: dict, load_end: tuple, repeat: int) -> str:
    lines = [
        "# Validation benchmark: quality gate (GX) vs plain DuckDB SQL",
        "",
        f"Machine: {info['nproc']} CPUs, {info['ram_gib']:.1f} GiB RAM; DuckDB {info['duckdb']}, "
        f"great-expectations {info['great_expectations']}, Python {info['python']}; {info['date']}. "
        f"Load average {info['load'][0]:.2f} at start, {load_end[0]:.2f} at end: a shared machine, so the ratios "
        "measured within one run are the result, not the absolute times"
        + (f"; best of {repeat} runs per method." if repeat > 1 else "; one run per method."),
        "",
        "Source `gl_actuals`, suite `expectations/gl_actuals.json`, one staged load per size. Each measurement runs in "
        "its own child process. Code measured (sha256): "
        + ", ".join(f"`{name}` {digest}" for name, digest in info["code"].items())
        + ".",
        "",
        "- **gate (GX)**: `run_gate(work_db, SOURCES['gl_actuals'])`, as production runs it (GX imports excluded).",
        "- **plain SQL**: DESCRIBE + `count(*)` for the table checks, then per row rule "
        "`SELECT count(*) FROM (SELECT landed.*, <helper columns> FROM landed <joins>) AS landed WHERE <bad_when>`, "
        f"with the gate's `CHECK_DB_CONFIG` (memory_limit {work_db_config()['memory_limit']}).",
        "- **lean SQL**: the same, but a rule's query computes only the helper columns (and joins) its predicate reads "
        "(`_key_count` only for the uniqueness rule), `SELECT count(*) FROM landed WHERE <bad_when>` for the others.",
        "",
        "| rows | CSV | staging (read_csv → landed) | gate (GX) | plain SQL | gate / plain SQL | lean SQL "
        "| gate / lean SQL | ingest_file, accepted file | ingest_file, rejected file | same counts |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        gate, sql, lean = (r["best"][m]["wall_s"] for m in ("gate", "sql", "lean"))
        same = all(c["match"] for c in r["comparison"])
        lines.append(
            f"| {r['rows']:,} | {r['csv_mb']:,.0f} MB | {r['stage']['wall_s']:.1f} s | {gate:.2f} s | {sql:.2f} s "
            f"| **{gate / sql:.2f}x** | {lean:.2f} s | **{gate / lean:.2f}x** "
            f"| {r['ingest']['accepted']['wall_s']:.1f} s | {r['ingest']['rejected']['wall_s']:.1f} s "
            f"| {'yes' if same else '**NO**'} |"
        )
    lines += [
        "",
        "Peak memory (VmHWM of the child process: the Python interpreter and its imports included; "
        "`after imports` is its RSS before the measured work):",
        "",
        "| rows | staging | gate (GX) | plain SQL | lean SQL | ingest_file, accepted | ingest_file, rejected |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        peaks = [r["stage"]["peak_mb"], *(r["peak_mb"][m] for m in METHODS)]
        peaks += [r["ingest"]["accepted"]["peak_mb"], r["ingest"]["rejected"]["peak_mb"]]
        cells = [r["stage"], r["best"]["gate"], r["best"]["sql"], r["best"]["lean"]]
        cells += [r["ingest"]["accepted"], r["ingest"]["rejected"]]
        shown = [f"{_mb(p)} (after imports {_mb(c['baseline_mb'])})" for p, c in zip(peaks, cells, strict=True)]
        lines.append(f"| {r['rows']:,} | " + " | ".join(shown) + " |")

    largest = max(results, key=lambda r: r["rows"])
    gate = largest["best"]["gate"]["wall_s"]
    ratios = {m: gate / largest["best"][m]["wall_s"] for m in ("sql", "lean")}
    peaks = {
        "gate": largest["peak_mb"]["gate"],
        "ingest_file, accepted": largest["ingest"]["accepted"]["peak_mb"],
        "ingest_file, rejected": largest["ingest"]["rejected"]["peak_mb"],
    }
    worst = max(peaks, key=peaks.get)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines += [
        "",
        f"Target at {largest['rows']:,} rows: gate ≤ {TARGET_RATIO:g}x plain SQL — "
        f"{verdict(ratios['sql'] <= TARGET_RATIO)} against plain SQL ({ratios['sql']:.2f}x), "
        f"{verdict(ratios['lean'] <= TARGET_RATIO)} against lean SQL ({ratios['lean']:.2f}x); "
        f"peak memory ≤ {_mb(TARGET_PEAK_MB)} — {verdict(peaks[worst] <= TARGET_PEAK_MB)} "
        f"(highest: {worst}, {_mb(peaks[worst])}).",
        "",
        "## Where the time and memory go",
        "",
        "| rows | step | wall | process peak so far |",
        "|---:|---|---:|---:|",
    ]
    for r in results:
        n, st, g = f"{r['rows']:,}", r["stage"], r["best"]["gate"]
        lines.append(f"| {n} | staging: stage() (read_csv, TRIM/NULLIF into landed) | {st['stage_s']:.2f} s | |")
        lines.append(f"| {n} | staging: prepare_context + close | {st['context_s'] + st['close_s']:.2f} s | |")
        lines.append(
            f"| {n} | gate: import GX (once per process, not timed) | {g['import_s']:.2f} s | {_mb(g['baseline_mb'])} |"
        )
        for phase in g["phases"]:
            lines.append(f"| {n} | gate: {phase['phase']} | {phase['s']:.2f} s | {_mb(phase['peak_mb'])} |")
        rest = g["wall_s"] - sum(p["s"] for p in g["phases"])
        lines.append(f"| {n} | gate: rest of run_gate | {rest:.2f} s | |")
        lines.append(f"| {n} | gate: rows in `offending` | {g['offending_rows']:,} rows | |")
        for method in ("sql", "lean"):
            timings = r["best"][method]["timings"]
            top = sorted(timings, key=lambda t: t["s"], reverse=True)[:3]
            for t in top:
                lines.append(f"| {n} | {METHODS[method]}: {_short(t['rule'])} | {t['s']:.2f} s | |")
            other = r["best"][method]["wall_s"] - sum(t["s"] for t in top)
            lines.append(f"| {n} | {METHODS[method]}: the other {len(timings) - len(top)} queries | {other:.2f} s | |")
        for label in ("accepted", "rejected"):
            ing = r["ingest"][label]
            for phase in ing.get("phases") or []:
                step = f"ingest_file, {label} file: {phase['phase']}"
                lines.append(f"| {n} | {step} | {phase['s']:.2f} s | {_mb(phase['peak_mb'])} |")

    profiled = [r for r in results if r.get("profile") and r["profile"].get("statements")]
    if profiled:
        lines += [
            "",
            "The statements of `find_offending`, in one more `run_gate` run, under DuckDB's profiler (on the "
            "connection `run_gate` opens; operator times are CPU time summed over threads):",
            "",
            "| rows | statement | wall | CPU | DuckDB peak buffer memory | top operators by CPU |",
            "|---:|---|---:|---:|---:|---|",
        ]
        for r in profiled:
            pr = r["profile"]
            for st in pr["statements"]:
                top = "; ".join(
                    f"{_short(o['operator'], 40)}: {o['cpu_s']:.1f} s"
                    + (f" ({o['bytes'] / 2**20:,.0f} MB through it)" if o["bytes"] > 2**28 else "")
                    for o in st["operators"]
                )
                lines.append(
                    f"| {r['rows']:,} | CREATE TABLE {st['table']} | {st['wall_s']:.2f} s | {st['cpu_s']:.1f} s "
                    f"| {_mb(st['peak_buffer_mb'])} (limit {pr['memory_limit']}) | {top} |"
                )
    lines += [
        "",
        "## Offending rows per rule",
        "",
        "One number when the gate, plain SQL and lean SQL agree; else `gate / plain / lean`.",
        "",
        "| rule | blocking | " + " | ".join(f"{r['rows']:,} rows" for r in results) + " |",
        "|---|:---:|" + "---:|" * len(results),
    ]
    for i, row in enumerate(results[0]["comparison"]):
        cells = []
        for r in results:
            c = r["comparison"][i]
            values = [c["found"][m] for m in METHODS]
            cells.append(
                str(values[0])
                if c["match"] and values[1] != "not replicated"
                else " / ".join(map(str, values)) + ("" if c["match"] else " ≠")
            )
        lines.append(f"| {row['rule']} | {'yes' if row['blocking'] else 'no'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000], help="GL rows per run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown results file")
    parser.add_argument("--repeat", type=int, default=1, help="runs of gate and SQL per size (best time is kept)")
    parser.add_argument("--no-profile", action="store_true", help="skip the extra run_gate run under DuckDB's profiler")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (under /tmp)")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        result = WORKERS[args.worker](json.loads(args.spec.read_text(encoding="utf-8")))
        args.result.write_text(json.dumps(result), encoding="utf-8")
        return 0

    def log(message: str) -> None:
        print(message, flush=True)

    info = machine()
    scratch = Path(tempfile.mkdtemp(prefix="sbw-validation-bench-", dir="/tmp"))
    log(f"scratch folder {scratch}")
    try:
        reference = run_child("reference", {"root": str(scratch)}, scratch)
        warehouse = scratch / "warehouse"
        log(f"reference lake (departments, accounts, fx_rates, projects) loaded in {reference['s']:.1f}s")
        results = []
        for rows in args.rows:
            log(f"{rows:,} rows")
            results.append(measure(rows, warehouse, scratch, max(1, args.repeat), not args.no_profile, log))
    finally:
        if args.keep:
            log(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report = render(results, info, os.getloadavg(), max(1, args.repeat))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print()
    print(report)
    mismatched = [(r["rows"], c["rule"]) for r in results for c in r["comparison"] if not c["match"]]
    if mismatched:
        print(f"MISMATCH: the gate and plain SQL disagree on {mismatched}", file=sys.stderr)
        return 1
    print("The gate, plain SQL and lean SQL found the same offending rows per rule.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
