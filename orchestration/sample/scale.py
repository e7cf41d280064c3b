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

from pathlib import Path

import duckdb

from orchestration.lib.sql import literal
from orchestration.sample.money import AS_OF
from orchestration.sample.writer import generate

FORMATS = ("csv", "parquet")
GENERATED_STEM = "gl_actuals_generated"


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
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 1")  # one writer thread: the same bytes every time
        con.execute(f"COPY ({_generated_rows_sql(out_dir, extra, seed)}) TO '{literal(target)}' ({options})")
    finally:
        con.close()
    counts[target.name] = extra
    return counts
