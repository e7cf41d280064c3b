"""The sample studio at any scale: `studio-budget generate --actual-rows N --out DIR`.

Writes the bundled sample (`generate(out_dir, seed)`, with its `AS_OF`) and then one extra ledger file,
`gl_actuals_generated.<csv|parquet>`, so that the studio holds about N actual-cost rows in all. The extra
rows are made by one DuckDB statement over `range(extra)`: every value is a hash of the row number and the
seed, so the file depends only on (N, seed, format) and no row passes through Python.

What the generated rows respect, so the quality gate accepts them: project codes of the sample's projects
(not bidding ones, whose work has not started) and expense accounts of its chart; a posted date within the
project's dates and not after `AS_OF`; a plain decimal amount (0.01 to 5,000.00, positive) in the project's
currency, which fx_rates covers; txn_ids `GEN-<row number>`, which the sample's `GL-` ids never clash with;
an empty source_ref (a direct ledger posting, not a timesheet, rental or invoice).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.sql import literal
from orchestration.sample.money import AS_OF
from orchestration.sample.writer import generate

FORMATS = ("csv", "parquet")
GENERATED_STEM = "gl_actuals_generated"


def _generator_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills (a large studio) into the system's temporary folder, not `.tmp/` in the
    current folder, DuckDB's default for an in-memory database."""
    spill = Path(tempfile.gettempdir()) / f"studio-generate-{os.getpid()}"
    return duckdb.connect(config={"temp_directory": str(spill)})


def sample_actual_rows(counts: dict[str, int]) -> int:
    """Ledger rows the bundled sample itself writes."""
    return sum(rows for name, rows in counts.items() if name.startswith("gl_actuals"))


def _generated_rows_sql(out_dir: Path, extra: int, seed: int) -> str:
    def csv(name: str) -> str:
        return f"read_csv('{literal(out_dir / name)}', header = true, all_varchar = true)"

    as_of = f"DATE '{AS_OF.isoformat()}'"
    return f"""
        WITH fx AS (SELECT DISTINCT currency FROM {csv("fx_rates.csv")}),
        projects AS (
            SELECT row_number() OVER (ORDER BY project_code) - 1 AS i, project_code, currency,
                   CAST(start_date AS DATE) AS first_day, LEAST(CAST(end_date AS DATE), {as_of}) AS last_day
            FROM {csv("projects.csv")}
            WHERE status <> 'bidding' AND CAST(start_date AS DATE) <= {as_of} AND currency IN (SELECT currency FROM fx)
        ),
        accounts AS (
            SELECT row_number() OVER (ORDER BY account_code) - 1 AS i, account_code
            FROM {csv("accounts.csv")} WHERE account_type = 'expense'
        ),
        draws AS (
            SELECT range AS n,
                   hash(range, {seed:d}, 'project') % (SELECT count(*) FROM projects) AS project_i,
                   hash(range, {seed:d}, 'account') % (SELECT count(*) FROM accounts) AS account_i,
                   hash(range, {seed:d}, 'day') AS day_h,
                   hash(range, {seed:d}, 'amount') % 500000 + 1 AS cents,
                   hash(range, {seed:d}, 'vendor') % 40 AS vendor_i
            FROM range({extra:d})
        )
        SELECT 'GEN-' || lpad(CAST(d.n AS VARCHAR), 10, '0') AS txn_id,
               p.first_day + CAST(d.day_h % CAST(p.last_day - p.first_day + 1 AS UBIGINT) AS INTEGER) AS posted_date,
               p.project_code, a.account_code,
               'Generated Vendor ' || lpad(CAST(d.vendor_i AS VARCHAR), 2, '0') AS vendor,
               'Generated cost line ' || CAST(d.n AS VARCHAR) AS description,
               CAST(CAST(d.cents AS DECIMAL(18, 0)) / 100 AS DECIMAL(18, 2)) AS amount,
               p.currency,
               CAST(NULL AS VARCHAR) AS source_ref
        FROM draws d JOIN projects p ON p.i = d.project_i JOIN accounts a ON a.i = d.account_i
        ORDER BY d.n
    """


def generate_scaled(out_dir: Path, actual_rows: int, fmt: str = "csv", seed: int = 7) -> dict[str, int]:
    """Write the sample studio plus generated ledger rows up to about `actual_rows`; returns rows per file."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}: {fmt!r}")
    out_dir = Path(out_dir)
    counts = generate(out_dir, seed)
    extra = max(0, actual_rows - sample_actual_rows(counts))
    target = out_dir / f"{GENERATED_STEM}.{fmt}"
    target.unlink(missing_ok=True)
    if extra == 0:
        return counts
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    con = _generator_connection()
    try:
        con.execute("SET threads TO 1")  # one writer thread: the same bytes every time
        con.execute(f"COPY ({_generated_rows_sql(out_dir, extra, seed)}) TO '{literal(target)}' ({options})")
    finally:
        con.close()
    counts[target.name] = extra
    return counts


NEXT_DAY_STEM = "gl_actuals_next"
NEXT_DAY_ROWS = 15_000
LATE_POSTING_DAYS = 45  # the late posting lands this many days before the new as-of (an earlier, closed period)


def _landing_relation(out_dir: Path, pattern: str) -> str:
    """Every CSV and Parquet landing file of one source in `out_dir` as one text relation."""
    parts = []
    for path in sorted(out_dir.glob(pattern)):
        if path.suffix == ".csv":
            parts.append(f"SELECT * FROM read_csv('{literal(path)}', header = true, all_varchar = true)")
        elif path.suffix == ".parquet":
            parts.append(f"SELECT * FROM read_parquet('{literal(path)}')")
    if not parts:
        raise FileNotFoundError(f"no {pattern} landing file in {out_dir}")
    return " UNION ALL BY NAME ".join(f"({p})" for p in parts)


def _next_day_rows_sql(out_dir: Path, day: date, rows: int, seed: int) -> str:
    """One day's ledger delivery: `rows` new postings dated `day`, a reversal of one earlier posting, and one
    late posting for a period weeks back. Every value is a hash of (row, seed, day), as in the scaled ledger."""

    def csv(name: str) -> str:
        return f"read_csv('{literal(out_dir / name)}', header = true, all_varchar = true)"

    new_day = f"DATE '{day.isoformat()}'"
    late_day = f"DATE '{(day - timedelta(days=LATE_POSTING_DAYS)).isoformat()}'"
    day_seed = f"{seed:d}, '{day.isoformat()}'"
    ledger = _landing_relation(out_dir, "gl_actuals*")
    return f"""
        WITH fx AS (SELECT DISTINCT currency FROM {csv("fx_rates.csv")}),
        projects AS (
            SELECT row_number() OVER (ORDER BY project_code) - 1 AS i, project_code, currency,
                   CAST(start_date AS DATE) AS first_day, CAST(end_date AS DATE) AS last_day
            FROM {csv("projects.csv")}
            WHERE status <> 'bidding' AND CAST(start_date AS DATE) <= {late_day}
              AND CAST(end_date AS DATE) >= {new_day} AND currency IN (SELECT currency FROM fx)
        ),
        accounts AS (
            SELECT row_number() OVER (ORDER BY account_code) - 1 AS i, account_code
            FROM {csv("accounts.csv")} WHERE account_type = 'expense'
        ),
        draws AS (
            SELECT range AS n,
                   hash(range, {day_seed}, 'project') % (SELECT count(*) FROM projects) AS project_i,
                   hash(range, {day_seed}, 'account') % (SELECT count(*) FROM accounts) AS account_i,
                   hash(range, {day_seed}, 'amount') % 500000 + 1 AS cents,
                   hash(range, {day_seed}, 'vendor') % 40 AS vendor_i
            FROM range({rows + 1:d})  -- the last draw is the late posting
        ),
        ledger AS (SELECT * FROM ({ledger})),
        reversed AS (  -- one earlier posting, not a reversal and not reversed yet
            SELECT txn_id, project_code, account_code, vendor, CAST(amount AS DECIMAL(18, 2)) AS amount, currency
            FROM ledger
            WHERE CAST(amount AS DECIMAL(18, 2)) > 0 AND NOT starts_with(txn_id, 'REV-')
              AND CAST(posted_date AS DATE) < {new_day}
              AND 'REV-' || txn_id NOT IN (SELECT txn_id FROM ledger)
            ORDER BY hash(txn_id, {day_seed}), txn_id
            LIMIT 1
        )
        SELECT 'GEN-' || strftime({new_day}, '%Y%m%d') || '-' || lpad(CAST(d.n AS VARCHAR), 7, '0') AS txn_id,
               CASE WHEN d.n = {rows:d} THEN {late_day} ELSE {new_day} END AS posted_date,
               p.project_code, a.account_code,
               'Generated Vendor ' || lpad(CAST(d.vendor_i AS VARCHAR), 2, '0') AS vendor,
               CASE WHEN d.n = {rows:d} THEN 'Late posting for ' || strftime({late_day}, '%Y-%m')
                    ELSE 'Generated cost line ' || CAST(d.n AS VARCHAR) END AS description,
               CAST(CAST(d.cents AS DECIMAL(18, 0)) / 100 AS DECIMAL(18, 2)) AS amount,
               p.currency,
               CAST(NULL AS VARCHAR) AS source_ref
        FROM draws d JOIN projects p ON p.i = d.project_i JOIN accounts a ON a.i = d.account_i
        UNION ALL
        SELECT 'REV-' || txn_id, {new_day}, project_code, account_code, vendor, 'Reversal of ' || txn_id,
               -amount, currency, CAST(NULL AS VARCHAR)
        FROM reversed
        ORDER BY txn_id
    """


def generate_next_day(out_dir: Path, rows: int = NEXT_DAY_ROWS, fmt: str = "csv", seed: int = 7) -> tuple[date, int]:
    """Add the next day's ledger delivery to a generated studio and move its `AS_OF` on by a day.

    Returns the new as-of date and the rows written (the new postings, the late one and the reversal)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}: {fmt!r}")
    out_dir = Path(out_dir)
    as_of_file = out_dir / "AS_OF"
    if not as_of_file.is_file():
        raise FileNotFoundError(f"no AS_OF in {out_dir}: generate the studio first")
    day = date.fromisoformat(as_of_file.read_text(encoding="utf-8").strip()) + timedelta(days=1)
    target = out_dir / f"{NEXT_DAY_STEM}_{day:%Y%m%d}.{fmt}"
    work = target.with_name(f".{target.name}.incoming")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    con = _generator_connection()
    try:
        con.execute("SET threads TO 1")  # one writer thread: the same bytes every time
        con.execute(f"COPY ({_next_day_rows_sql(out_dir, day, rows, seed)}) TO '{literal(work)}' ({options})")
        written = con.execute(f"SELECT count(*) FROM read_{fmt}('{literal(work)}')").fetchone()[0]
    finally:
        con.close()
    work.rename(target)  # the day's file appears whole, then the date moves on
    as_of_file.write_text(day.isoformat() + "\n", encoding="utf-8")
    return day, int(written)
