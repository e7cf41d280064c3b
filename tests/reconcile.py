"""Tie the marts back to the landing files to the cent, by a second method (Python decimals)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
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


# --- Line items by a second method: project × account × period, straight from the files -------


def _month(period: str) -> str:
    """'YYYY-MM' → 'YYYY-MM-01', the mart's period as ISO text."""
    return f"{period[:7]}-01"


def _months(start: date, end: date) -> list[tuple[str, int]]:
    """('YYYY-MM', days of start..end inside that month) for every month the range touches."""
    found: list[tuple[str, int]] = []
    first = date(start.year, start.month, 1)
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(end, following - timedelta(days=1))
        found.append((first.isoformat()[:7], (last - max(start, first)).days + 1))
        first = following
    return found


def actual_line_items(landing: Path, as_of: date, base: str = "USD") -> dict[tuple[str, str, str], Decimal]:
    """Posted GL per (project, account, 'YYYY-MM-01') in base currency, up to as-of.

    Each line is converted at its period's rate (or the latest earlier) and rounded half-up to the
    cent on its own; a txn_id seen again is ignored (the first file by name, then the first row, wins).
    """
    rate = fx_lookup(landing, base)
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    seen: set[str] = set()
    for row in landing_rows(landing, "gl_actuals"):
        if row["txn_id"] in seen:
            continue
        seen.add(row["txn_id"])
        posted = row["posted_date"][:10]
        if posted > as_of.isoformat():
            continue
        amount = (Decimal(row["amount"]) * rate(row["currency"], posted[:7])).quantize(CENT, rounding=ROUND_HALF_UP)
        totals[(row["project_code"], row["account_code"], _month(posted))] += amount
    return dict(totals)


def phase(amount: Decimal, start: date, end: date) -> dict[str, Decimal]:
    """A line without a period over start..end by calendar days: each month round-half-up(cents ×
    days / project days) in whole cents, the last month the remainder (SPEC §4)."""
    months = _months(start, end)
    project_days = (end - start).days + 1
    cents = amount * 100
    shares = {
        m: (cents * days / project_days).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 100 for m, days in months[:-1]
    }
    shares[months[-1][0]] = amount - sum(shares.values(), Decimal(0))
    return shares


@dataclass(frozen=True)
class BudgetLineItems:
    """Budget per (project, account, 'YYYY-MM-01') in base currency, current and original versions."""

    current: dict[tuple[str, str, str], Decimal]
    original: dict[tuple[str, str, str], Decimal]
    undated: set[str]  # projects left out: an official version without approved_at (load time decides)


def budget_line_items(landing: Path, as_of: date, base: str = "USD") -> BudgetLineItems:
    """Budgets phased monthly, versions chosen and converted, up to the as-of month, from the files.

    A version × project is what the last file carrying it says; only approved/locked versions count;
    the original is the first by approved_at, the current the latest. Lines are summed per version ×
    project × account × period × currency (the fct_budget_lines grain) before conversion at the
    period's rate, rounded half-up to the cent.
    """
    rate = fx_lookup(landing, base)
    projects = {row["project_code"]: row for row in landing_rows(landing, "projects")}  # the latest row wins
    by_version: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for path in sorted(landing.iterdir()):  # a later file carrying a version × project replaces it whole
        if not path.name.startswith("budgets"):
            continue
        in_file: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for row in landing_rows(landing, path.name):
            in_file[(row["project_code"], row["budget_version"])].append(row)
        by_version.update(in_file)

    official: dict[str, list[tuple[str, str]]] = defaultdict(list)  # project → [(approved_at, version)]
    undated: set[str] = set()
    for (project, version), lines in by_version.items():
        if not {line["version_status"] for line in lines} & {"approved", "locked"}:
            continue
        approved = [line["approved_at"] for line in lines if line["approved_at"]]
        if not approved:
            undated.add(project)
            continue
        official[project].append((max(approved)[:19].replace(" ", "T"), version))

    last_month = _month(as_of.isoformat())
    totals: dict[str, dict[tuple[str, str, str], Decimal]] = {"current": {}, "original": {}}
    for project, versions in official.items():
        if project in undated:
            continue
        chosen = {"original": min(versions)[1], "current": max(versions)[1]}
        for which, version in chosen.items():
            own: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)  # (account, period, currency)
            for line in by_version[(project, version)]:
                amount = Decimal(line["amount"])
                if line["period"]:
                    own[(line["account_code"], line["period"][:7], line["currency"])] += amount
                    continue
                p = projects[project]
                shares = phase(amount, date.fromisoformat(p["start_date"][:10]), date.fromisoformat(p["end_date"][:10]))
                for period, share in shares.items():
                    own[(line["account_code"], period, line["currency"])] += share
            target = totals[which]
            for (account, period, currency), amount in own.items():
                if _month(period) > last_month:
                    continue
                key = (project, account, _month(period))
                converted = (amount * rate(currency, period)).quantize(CENT, rounding=ROUND_HALF_UP)
                target[key] = target.get(key, Decimal(0)) + converted
    return BudgetLineItems(totals["current"], totals["original"], undated)
