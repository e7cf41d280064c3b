"""Tie the marts back to the landing files to the cent, by a second method (Python decimals)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

CENT = Decimal("0.01")


def landing_rows(landing: Path, prefix: str) -> list[dict]:
    """Every row of every landing file of a source, as text, read straight from the files."""
    found: list[dict] = []
    with duckdb.connect() as con:
        for path in sorted(landing.iterdir()):
            if not path.name.startswith(prefix):
                continue
            if path.suffix == ".csv":
                relation = con.execute("SELECT * FROM read_csv(?, all_varchar = true, header = true)", [str(path)])
            elif path.suffix == ".parquet":
                relation = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
            else:
                continue
            names = [d[0] for d in relation.description]
            found += [
                {k: (None if v is None else str(v)) for k, v in zip(names, r, strict=True)} for r in relation.fetchall()
            ]
    return found


def fx_lookup(landing: Path, base: str = "USD"):
    """rate(currency, 'YYYY-MM'): the period's rate, else the latest earlier one; the base currency is 1."""
    rates: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in landing_rows(landing, "fx_rates"):
        rates[row["currency"]][row["period"]] = Decimal(row["rate_to_base"])

    def rate(currency: str, period: str) -> Decimal:
        if currency == base:
            return Decimal(1)
        known = [p for p in rates[currency] if p <= period]
        return rates[currency][max(known)]

    return rate


def gl_base_totals(landing: Path, as_of: date) -> dict[str, Decimal]:
    """Posted GL in base currency per project up to as-of, each line rounded to the cent."""
    rate = fx_lookup(landing)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    seen: set[str] = set()
    for row in landing_rows(landing, "gl_actuals"):
        posted = row["posted_date"][:10]
        if posted > as_of.isoformat() or row["txn_id"] in seen:
            continue
        seen.add(row["txn_id"])
        amount = Decimal(row["amount"]) * rate(row["currency"], posted[:7])
        totals[row["project_code"]] += amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return dict(totals)


def budget_local_totals(landing: Path) -> dict[tuple[str, str], Decimal]:
    """Budget per version × project in the line's own currency, straight from the files."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in landing_rows(landing, "budgets"):
        totals[(row["budget_version"], row["project_code"])] += Decimal(row["amount"])
    return dict(totals)
