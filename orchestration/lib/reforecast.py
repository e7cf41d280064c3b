"""The reforecast draft (SPEC §8): for every line of every project still spending (active, or wrapped with its
last costs arriving), actual to date + estimate to complete, written as a `budgets` landing file that finance
reviews, edits and drops back into the landing folder. A bidding project has nothing to reforecast yet, a closed
one nothing more to spend.

The draft's amount is the cost report's EFC: actual + committed + etc, i.e. the actual to date plus everything
still to come (open commitments are part of what remains to be spent). It is one unphased line per project ×
account in base currency, version `<current version>-RF<yyyymmdd>`, status `draft`; approving it is changing its
status to `approved` (and giving `approved_at`).

A new version replaces the project's whole budget, so the draft carries the current version's revenue lines as
they are (the cost report is of costs): a line phased by month keeps its months, a line phased over the
project's dates stays one unphased line; in base currency.

For the same reason a line the current version planned in one unit (hours, days, weeks) keeps that unit: its rate
is the current version's, in base currency (the version's amount in base currency / its quantity), and its
quantity the draft's amount / that rate. Approved, the line still has budget hours, so the labour variance keeps
its rate and hours split. The quantity is left empty where no quantity to 4 decimals gives the amount within a
cent (a large rate); the rate says it."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

BUDGET_COLUMNS = (
    "budget_version",
    "version_status",
    "project_code",
    "account_code",
    "period",
    "amount",
    "currency",
    "quantity",
    "unit",
    "rate",
    "approved_at",
)

CENT = Decimal("0.01")
FOURTH = Decimal("0.0001")


@dataclass(frozen=True)
class ForecastLine:
    """One cost-report line of a project still spending (active or wrapped) at as-of."""

    project_code: str
    account_code: str
    current_version: str | None
    actual: Decimal
    committed: Decimal
    etc: Decimal
    period: str = ""  # a revenue line's month (YYYY-MM) as budgeted; else unphased
    unit: str | None = None  # the current version's one unit for the line, if it planned it in one
    rate: Decimal | None = None  # its rate per unit in base currency


def reforecast_version(current_version: str | None, as_of: date) -> str:
    """`V2-reforecast` at 2026-10-15 → `V2-reforecast-RF20261015`; `RF20261015` for a project without one."""
    suffix = f"RF{as_of:%Y%m%d}"
    return f"{current_version}-{suffix}" if current_version else suffix


def _number_text(value: Decimal) -> str:
    """At least two decimals, no trailing zeros beyond them: 72.0000 → 72.00, 52.1348 → 52.1348."""
    text = f"{value:f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def quantity_and_rate(amount: Decimal, unit: str | None, rate: Decimal | None) -> tuple[str, str, str]:
    """The draft line's (quantity, unit, rate): the rate to 4 decimals, the quantity amount / rate to 4 decimals
    when that gives the amount within a cent (the gate's "amount is quantity × rate"), else empty."""
    if unit is None or rate is None:
        return "", "", ""
    rate = rate.quantize(FOURTH, rounding=ROUND_HALF_UP)
    if rate <= 0:
        return "", "", ""
    quantity = (amount / rate).quantize(FOURTH, rounding=ROUND_HALF_UP)
    quantity_text = _number_text(quantity) if abs(quantity * rate - amount) <= CENT else ""
    return quantity_text, unit, _number_text(rate)


def reforecast_rows(lines: Iterable[ForecastLine], as_of: date, base_currency: str) -> list[dict[str, str]]:
    """The draft's landing rows, ordered by project and account: amount = actual + committed + etc, to the cent."""
    rows = []
    for line in sorted(lines, key=lambda x: (x.project_code, x.account_code, x.period)):
        amount = (line.actual + line.committed + line.etc).quantize(CENT, rounding=ROUND_HALF_UP)
        quantity, unit, rate = quantity_and_rate(amount, line.unit, line.rate)
        rows.append(
            {
                "budget_version": reforecast_version(line.current_version, as_of),
                "version_status": "draft",
                "project_code": line.project_code,
                "account_code": line.account_code,
                "period": line.period,
                "amount": f"{amount:.2f}",
                "currency": base_currency,
                "quantity": quantity,
                "unit": unit,
                "rate": rate,
                "approved_at": "",
            }
        )
    return rows


READ_LINES = """
SELECT r.project_code, r.account_code, v.budget_version, r.actual, r.committed, r.etc, u.unit, u.rate
FROM marts.mart_line_item_cost_report AS r
LEFT JOIN (SELECT DISTINCT project_code, budget_version FROM marts.fct_budget_lines WHERE is_current) AS v
    ON r.project_code = v.project_code
LEFT JOIN (
    -- the current version's unit for the line when every month of it has the same one (hours, days or weeks: a
    -- flat fee has no quantity to carry), and its rate in base currency over the whole version
    SELECT project_code, account_code,
        CASE WHEN count(unit) = count(*) AND count(DISTINCT unit) = 1 AND max(unit) <> 'flat' THEN max(unit) END
            AS unit,
        CASE WHEN sum(quantity) > 0 THEN sum(amount_base) / sum(quantity) END AS rate
    FROM marts.fct_budget_lines
    WHERE is_current
    GROUP BY project_code, account_code
) AS u
    ON r.project_code = u.project_code AND r.account_code = u.account_code
WHERE r.project_status IN ('active', 'wrapped')
"""
# the current version's revenue lines of the same projects: by month, or one unphased line for an account whose
# every month is phased over the project's dates (is_prorated), which a load phases again the same way
READ_REVENUE = """
SELECT b.project_code, b.account_code, b.budget_version,
    CASE WHEN b.every_month_prorated THEN '' ELSE strftime(b.period, '%Y-%m') END AS period,
    sum(b.amount_base) AS amount
FROM (
    SELECT *, bool_and(is_prorated) OVER (PARTITION BY project_code, account_code) AS every_month_prorated
    FROM marts.fct_budget_lines
    WHERE is_current AND account_type = 'revenue'
        AND project_code IN (
            SELECT project_code FROM marts.mart_line_item_cost_report WHERE project_status IN ('active', 'wrapped')
        )
) AS b
GROUP BY ALL
"""


def read_forecast_lines(published_db: Path) -> list[ForecastLine]:
    with duckdb.connect(str(published_db), read_only=True) as con:
        found = con.execute(READ_LINES).fetchall()
        revenue = con.execute(READ_REVENUE).fetchall()
    return [
        ForecastLine(
            project,
            account,
            version,
            Decimal(actual),
            Decimal(committed),
            Decimal(etc),
            unit=unit if rate is not None else None,
            rate=Decimal(str(rate)) if rate is not None else None,
        )
        for project, account, version, actual, committed, etc, unit, rate in found
    ] + [
        ForecastLine(project, account, version, Decimal(amount), Decimal(0), Decimal(0), period)
        for project, account, version, period, amount in revenue
    ]


def draft_path(reports_dir: Path, as_of: date) -> Path:
    return reports_dir / f"budgets_reforecast_draft_{as_of.isoformat()}.csv"


def write_reforecast_draft(published_db: Path, reports_dir: Path, as_of: date, base_currency: str) -> Path:
    """Write the draft next to the reports; it appears whole (written aside, then renamed)."""
    rows = reforecast_rows(read_forecast_lines(published_db), as_of, base_currency)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = draft_path(reports_dir, as_of)
    temporary = path.with_suffix(".csv.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=BUDGET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)
    return path


def approve(rows: Iterable[Mapping[str, str]], approved_at: str) -> list[dict[str, str]]:
    """The draft as finance approves it: status `approved`, `approved_at` given, everything else as drafted."""
    return [dict(row, version_status="approved", approved_at=approved_at) for row in rows]
