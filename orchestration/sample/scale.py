"""The sample studio at any scale: `studio-budget generate --actual-rows N --out DIR`.

Writes the bundled sample (`generate(out_dir, seed)`, with its `AS_OF`) and then one extra ledger file,
`gl_actuals_generated.<csv|parquet>`, so that the studio holds about N actual-cost rows in all. The extra
rows are made by one DuckDB statement over `range(extra)`: every value is a hash of the row number and the
seed, so the file depends only on (N, seed, format) and no row passes through Python.

What the generated rows respect, so the quality gate accepts them: project codes of the sample's projects
(not bidding ones, whose work has not started) and expense accounts of its chart; a posted date within the
project's dates and not after `AS_OF`; a plain decimal amount (0.01 to 5,000.00, positive) in the project's
currency, which fx_rates covers; txn_ids `GEN-<row number>`, which the sample's `GL-` ids never clash with;
an empty source_ref (a direct ledger posting, not a timesheet, rental or invoice). The revenue postings that keep
pace with the scaled plan (below) are the sample's own revenue lines again, on their dates, projects and revenue
accounts, as txn_ids `GEN-REV-<txn_id>-<n>` of up to 999,999.99 each; they count among the N rows.

So that a larger studio is still one whose plan fits its spending (`plan_scale`):
- the generated rows post to the budgeted lines (project and account) only, each line drawn in proportion to its
  budget;
- the plan grows with the ledger: every budget amount and quantity, transfer, change order, estimate to complete
  and contract value is multiplied by one whole number, the cost ledger's total over the sample's (its postings
  on expense accounts: the generated rows are costs), and each revenue posting of the sample is written again
  × (that number − 1), in postings below a million (`GEN-REV-<txn_id>-<n>`), so that revenue keeps pace with its
  scaled budget. Without
  this, 10M ledger rows met the sample's budgets at 270 times their size, and one transaction in a hundred passed
  for a spike (20% of its line's monthly budget): 105,783 alerts.
The operational sources (timesheets, rentals, purchase orders, invoices) keep the sample's size.
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.lib.config import SAMPLE_LANDING_DIR
from orchestration.lib.contract import SOURCES, source_for_file
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


REVENUE_PIECE_CENTS = 99_999_999  # a generated revenue posting is at most 999,999.99
# a generated amount is 1 to 500,000 cents, each as likely: 2,500.005 on average
MEAN_GENERATED_AMOUNT = Decimal("2500.005")
LINE_SLOTS = 10_000  # a line's share of the generated rows is its budget's share, to one part in this many
# the plan's columns that grow with the ledger (`plan_scale`), by source
PLAN_COLUMNS = {
    "budgets": ("amount", "quantity"),  # amount = quantity × rate stays true: rates are kept
    "budget_transfers": ("amount",),
    "change_orders": ("revenue_amount", "budget_amount"),
    "estimates_to_complete": ("etc_amount",),
    "projects": ("contract_value",),
}


def plan_scale(sample_ledger_total: Decimal, extra: int) -> int:
    """The whole number the sample's plan is multiplied by when `extra` generated cost rows join its ledger: the
    cost ledger's expected total over the sample's (`sample_ledger_total`, its postings on expense accounts, in
    their own currencies), at least 1. The revenue rows written among the `extra` make the costs fall a little
    short of it (0.3% at 1M rows): a whole number is no finer anyway."""
    if extra <= 0 or sample_ledger_total <= 0:
        return 1
    expected = sample_ledger_total + extra * MEAN_GENERATED_AMOUNT
    return max(1, int((expected / sample_ledger_total).to_integral_value()))


def scale_plan(out_dir: Path, factor: int) -> list[str]:
    """Multiply the plan's amounts and quantities (`PLAN_COLUMNS`) in the studio's CSV landing files by `factor`,
    in place, keeping each value's decimal places; returns the files rewritten."""
    if factor == 1:
        return []
    rewritten = []
    for path in sorted(out_dir.iterdir()):
        source = source_for_file(path.name)
        if source is None or source.name not in PLAN_COLUMNS:
            continue
        if path.suffix != ".csv":
            raise ValueError(f"{path.name}: the plan is scaled in CSV files only")
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            for column in PLAN_COLUMNS[source.name]:
                if row[column]:
                    row[column] = str(Decimal(row[column]) * factor)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(SOURCES[source.name].column_names)
            writer.writerows([row[name] for name in SOURCES[source.name].column_names] for row in rows)
        rewritten.append(path.name)
    return rewritten


def _accounts_relation(out_dir: Path) -> str:
    return f"read_csv('{literal(out_dir / 'accounts.csv')}', header = true, all_varchar = true)"


def _cost_ledger_total(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Decimal:
    """The sum of the studio's ledger amounts on expense accounts, each in its own currency: what the generated
    rows, all costs, add to."""
    (total,) = con.execute(
        f"SELECT sum(CAST(g.amount AS DECIMAL(18, 2))) FROM ({_landing_relation(out_dir, 'gl_actuals*')}) AS g"
        f" JOIN {_accounts_relation(out_dir)} AS a ON a.account_code = g.account_code AND a.account_type = 'expense'"
    ).fetchone()
    return Decimal(total or 0)


def _budgeted_lines_sql(out_dir: Path, projects: str, through: str | None) -> str:
    """SQL of the CTEs `lines` (the budgeted project/account lines of the projects selected by `projects`, an SQL
    condition on projects.csv's columns as text, with the project's currency and dates) and `slots` (LINE_SLOTS
    slot numbers shared among the lines, each at least one): a row drawn with
    `hash(..., 'line') % (SELECT count(*) FROM slots)` joins its line by slot.

    A line's share is its budget's part that falls on the days rows are drawn for, the budget taken as spread
    evenly over the project's days: the days from its start through `through` (SQL of a date), or with `through`
    None one day (the budget per day)."""

    def csv_relation(name: str) -> str:
        return f"read_csv('{literal(out_dir / name)}', header = true, all_varchar = true)"

    days = "1" if through is None else f"(least(end_day, {through}) - start_day + 1)"
    return f"""
        fx AS (SELECT DISTINCT currency FROM {csv_relation("fx_rates.csv")}),
        budgeted AS (
            SELECT project_code, account_code, sum(CAST(amount AS DECIMAL(18, 2))) AS budget
            FROM ({_landing_relation(out_dir, "budgets_*")})
            GROUP BY project_code, account_code
        ),
        lines AS (
            SELECT p.project_code, p.currency, a.account_code, b.budget,
                   CAST(p.start_date AS DATE) AS start_day, CAST(p.end_date AS DATE) AS end_day
            FROM {csv_relation("projects.csv")} AS p
            JOIN budgeted AS b ON b.project_code = p.project_code
            JOIN {csv_relation("accounts.csv")} AS a ON a.account_code = b.account_code
            WHERE a.account_type = 'expense' AND b.budget > 0 AND p.currency IN (SELECT currency FROM fx)
              AND ({projects})
        ),
        weights AS (
            SELECT *, CAST(budget AS DOUBLE) * {days} / (end_day - start_day + 1) AS weight
            FROM lines
            WHERE end_day >= start_day
        ),
        shares AS (
            SELECT *, greatest(1, CAST(round(weight * {LINE_SLOTS:d} / sum(weight) OVER ()) AS BIGINT)) AS slot_count
            FROM weights
            WHERE weight > 0
        ),
        slots AS (
            SELECT row_number() OVER (ORDER BY project_code, account_code, n) - 1 AS slot, project_code, account_code
            FROM (SELECT project_code, account_code, unnest(range(slot_count)) AS n FROM shares)
        )"""


def _revenue_rows_sql(out_dir: Path, factor: int, order: int) -> str:
    """The revenue that keeps the scaled plan's revenue side true: each revenue posting of the sample's ledger
    again × (factor − 1), so that the studio's revenue is the sample's × factor; in pieces below the gate's outlier
    warning (±1,000,000), the cents shared out evenly. `order` is their `_order` (after the costs)."""
    return f"""
        SELECT 'GEN-REV-' || txn_id || '-' || lpad(CAST(p.i AS VARCHAR), 6, '0') AS txn_id,
               CAST(posted_date AS DATE) AS posted_date, project_code, account_code, vendor,
               'Generated revenue beside ' || txn_id AS description,
               CAST(CAST(sign(cents) * (abs(cents) // pieces + CASE WHEN p.i < abs(cents) % pieces THEN 1 ELSE 0 END)
                    AS DECIMAL(18, 0)) / 100 AS DECIMAL(18, 2)) AS amount,
               currency, CAST(NULL AS VARCHAR) AS source_ref, {order:d} AS _order
        FROM (
            SELECT *, greatest(1, CAST(ceil(abs(cents) / {REVENUE_PIECE_CENTS:d}) AS BIGINT)) AS pieces
            FROM (
                SELECT g.*, CAST(CAST(g.amount AS DECIMAL(18, 2)) * 100 * {factor - 1:d} AS BIGINT) AS cents
                FROM ({_landing_relation(out_dir, "gl_actuals*")}) AS g
                JOIN {_accounts_relation(out_dir)} AS a
                    ON a.account_code = g.account_code AND a.account_type = 'revenue'
                WHERE {factor:d} > 1
            )
        ) AS r,
        range(r.pieces) AS p(i)
    """


def _generated_rows_sql(out_dir: Path, extra: int, seed: int) -> str:
    """The generated costs, `_order` their draw."""
    as_of = f"DATE '{AS_OF.isoformat()}'"
    eligible = f"p.status <> 'bidding' AND CAST(p.start_date AS DATE) <= {as_of}"
    return f"""
        WITH {_budgeted_lines_sql(out_dir, eligible, as_of)},
        draws AS (
            SELECT range AS n,
                   hash(range, {seed:d}, 'line') % (SELECT count(*) FROM slots) AS slot,
                   hash(range, {seed:d}, 'day') AS day_h,
                   hash(range, {seed:d}, 'amount') % 500000 + 1 AS cents,
                   hash(range, {seed:d}, 'vendor') % 40 AS vendor_i
            FROM range({extra:d})
        )
        SELECT 'GEN-' || lpad(CAST(d.n AS VARCHAR), 10, '0') AS txn_id,
               l.start_day + CAST(d.day_h % CAST(LEAST(l.end_day, {as_of}) - l.start_day + 1 AS UBIGINT) AS INTEGER)
                   AS posted_date,
               l.project_code, l.account_code,
               'Generated Vendor ' || lpad(CAST(d.vendor_i AS VARCHAR), 2, '0') AS vendor,
               'Generated cost line ' || CAST(d.n AS VARCHAR) AS description,
               CAST(CAST(d.cents AS DECIMAL(18, 0)) / 100 AS DECIMAL(18, 2)) AS amount,
               l.currency,
               CAST(NULL AS VARCHAR) AS source_ref,
               d.n AS _order
        FROM draws d
        JOIN slots s ON s.slot = d.slot
        JOIN lines l ON l.project_code = s.project_code AND l.account_code = s.account_code
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
        factor = plan_scale(_cost_ledger_total(con, out_dir), extra)
        revenue = _revenue_rows_sql(out_dir, factor, extra)
        (revenue_rows,) = con.execute(f"SELECT count(*) FROM ({revenue})").fetchone()
        costs = _generated_rows_sql(out_dir, max(0, extra - revenue_rows), seed)
        scale_plan(out_dir, factor)
        con.execute("SET threads TO 1")  # one writer thread: the same bytes every time
        rows = f"SELECT * EXCLUDE (_order) FROM ({costs} UNION ALL {revenue}) ORDER BY _order, txn_id"
        con.execute(f"COPY ({rows}) TO '{literal(target)}' ({options})")
    finally:
        con.close()
    counts[target.name] = max(extra, revenue_rows)
    return counts


NEXT_DAY_STEM = "gl_actuals_next"
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


class BundledSampleRefused(ValueError):
    """`--next-day` aimed at the bundled sample itself: generated days go into a studio of one's own."""


class NoRunningProject(ValueError):
    """No project of a generated studio runs on the next day: there is nothing to post its costs to."""


def _running_projects(day: date) -> str:
    """The projects a next day's postings go to (an SQL condition on projects.csv's columns): those running from
    the late posting's day through `day`, not bidding."""
    late_day = f"DATE '{(day - timedelta(days=LATE_POSTING_DAYS)).isoformat()}'"
    new_day = f"DATE '{day.isoformat()}'"
    return (
        f"p.status <> 'bidding' AND CAST(p.start_date AS DATE) <= {late_day} AND CAST(p.end_date AS DATE) >= {new_day}"
    )


def _next_day_rows_sql(out_dir: Path, day: date, rows: int, seed: int) -> str:
    """One day's ledger delivery: `rows` new postings dated `day`, a reversal of one earlier posting, and one
    late posting for a period weeks back. Every value is a hash of (row, seed, day), as in the scaled ledger."""

    new_day = f"DATE '{day.isoformat()}'"
    late_day = f"DATE '{(day - timedelta(days=LATE_POSTING_DAYS)).isoformat()}'"
    day_seed = f"{seed:d}, '{day.isoformat()}'"
    ledger = _landing_relation(out_dir, "gl_actuals*")
    return f"""
        WITH {_budgeted_lines_sql(out_dir, _running_projects(day), None)},
        draws AS (
            SELECT range AS n,
                   hash(range, {day_seed}, 'line') % (SELECT count(*) FROM slots) AS slot,
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
               l.project_code, l.account_code,
               'Generated Vendor ' || lpad(CAST(d.vendor_i AS VARCHAR), 2, '0') AS vendor,
               CASE WHEN d.n = {rows:d} THEN 'Late posting for ' || strftime({late_day}, '%Y-%m')
                    ELSE 'Generated cost line ' || CAST(d.n AS VARCHAR) END AS description,
               CAST(CAST(d.cents AS DECIMAL(18, 0)) / 100 AS DECIMAL(18, 2)) AS amount,
               l.currency,
               CAST(NULL AS VARCHAR) AS source_ref
        FROM draws d
        JOIN slots s ON s.slot = d.slot
        JOIN lines l ON l.project_code = s.project_code AND l.account_code = s.account_code
        UNION ALL
        SELECT 'REV-' || txn_id, {new_day}, project_code, account_code, vendor, 'Reversal of ' || txn_id,
               -amount, currency, CAST(NULL AS VARCHAR)
        FROM reversed
        ORDER BY txn_id
    """


def typical_day_rows(con: duckdb.DuckDBPyConnection, out_dir: Path, as_of: date) -> int:
    """The ledger rows a day of the studio in `out_dir` holds on average: its ledger's rows over the days from its
    first posting to `as_of` (at least one), so that a next day spends at the pace its history did: about 30 rows
    for a studio of 20,000, 15,000 for one of 10M."""
    rows, first = con.execute(
        f"SELECT count(*), min(CAST(posted_date AS DATE)) FROM ({_landing_relation(out_dir, 'gl_actuals*')})"
    ).fetchone()
    if not rows or first is None:
        return 1
    return max(1, round(rows / max(1, (as_of - first).days + 1)))


def generate_next_day(out_dir: Path, rows: int | None = None, fmt: str = "csv", seed: int = 7) -> tuple[date, int]:
    """Add the next day's ledger delivery to a generated studio and move its `AS_OF` on by a day: `rows` new
    postings (default: the studio's own pace, `typical_day_rows`), one late posting and one reversal.

    Returns the new as-of date and the rows written (the new postings, the late one and the reversal)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}: {fmt!r}")
    out_dir = Path(out_dir)
    if out_dir.resolve() == SAMPLE_LANDING_DIR.resolve():
        raise BundledSampleRefused(
            f"{out_dir} is the bundled sample, which every run without --landing reads: generate a studio of "
            "your own first (studio-budget generate --actual-rows N --out DIR) and add the next day to it"
        )
    as_of_file = out_dir / "AS_OF"
    if not as_of_file.is_file():
        raise FileNotFoundError(f"no AS_OF in {out_dir}: generate the studio first")
    day = date.fromisoformat(as_of_file.read_text(encoding="utf-8").strip()) + timedelta(days=1)
    target = out_dir / f"{NEXT_DAY_STEM}_{day:%Y%m%d}.{fmt}"
    work = target.with_name(f".{target.name}.incoming")
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    con = _generator_connection()
    try:
        lines = f"WITH {_budgeted_lines_sql(out_dir, _running_projects(day), None)} SELECT count(*) FROM lines"
        if not con.execute(lines).fetchone()[0]:
            (last,) = con.execute(
                f"SELECT max(CAST(end_date AS DATE)) FROM read_csv('{literal(out_dir / 'projects.csv')}', "
                "header = true, all_varchar = true) WHERE status <> 'bidding'"
            ).fetchone()
            raise NoRunningProject(
                f"no project of the studio in {out_dir} runs through {day} with a budget to post to (its last one "
                f"ends on {last}, and a next day also posts {LATE_POSTING_DAYS} days back): generate a new studio"
            )
        if rows is None:
            rows = typical_day_rows(con, out_dir, day - timedelta(days=1))
        con.execute("SET threads TO 1")  # one writer thread: the same bytes every time
        con.execute(f"COPY ({_next_day_rows_sql(out_dir, day, rows, seed)}) TO '{literal(work)}' ({options})")
        written = con.execute(f"SELECT count(*) FROM read_{fmt}('{literal(work)}')").fetchone()[0]
    finally:
        con.close()
    work.rename(target)  # the day's file appears whole, then the date moves on
    as_of_file.write_text(day.isoformat() + "\n", encoding="utf-8")
    return day, int(written)
