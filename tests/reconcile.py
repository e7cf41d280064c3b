"""Tie the marts back to the landing files to the cent, by a second method (Python decimals)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
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
    the original is the first by approved_at, the current the latest approved by the as-of day. Lines are
    summed per version × project × account × period × currency (the fct_budget_lines grain) before
    conversion at the period's rate, rounded half-up to the cent.
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
        # current: the latest approved by the as-of day; none by then, the original (the only plan there is)
        in_force = [v for v in versions if v[0][:10] <= as_of.isoformat()]
        chosen = {"original": min(versions)[1], "current": max(in_force or [min(versions)])[1]}
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


# --- Accruals and commitments by a second method (SPEC §4 hot costs), straight from the files ----------------

ACCRUAL_QUANTUM = Decimal("0.0001")
HALF_CENT = Decimal("0.005")
EXACT = Context(prec=60)  # a conversion between two rates is carried far beyond the 0.0001 an accrual keeps


def first_by(rows: list[dict], key: str) -> list[dict]:
    """A ledger's records, the first of each id winning (first file by name, then first row)."""
    kept: dict[str, dict] = {}
    for row in rows:
        kept.setdefault(row[key], row)
    return list(kept.values())


def latest_by(rows: list[dict], key: str) -> list[dict]:
    """Records whose latest load stands (a status, an end date): the last of each id wins."""
    return list({row[key]: row for row in rows}.values())


def ledger_lines(landing: Path, as_of: date) -> list[dict]:
    """GL lines posted up to as-of, a txn_id seen again ignored (the first file by name, then the first row)."""
    return [row for row in first_by(landing_rows(landing, "gl_actuals"), "txn_id") if _day(row["posted_date"]) <= as_of]


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _or(value: str | None, default: str) -> Decimal:
    return Decimal(value) if value not in (None, "") else Decimal(default)


def _month_end(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class CostRecord:
    """One operational cost record in its own currency: a timesheet entry, a rental month or its damage, an invoice.
    Its period is the month of its cost date."""

    source: str
    source_id: str
    record_id: str
    cost_date: date
    project_code: str
    account_code: str
    amount: Decimal
    currency: str

    @property
    def period(self) -> str:
        return self.cost_date.isoformat()[:7]


def incurred_records(landing: Path, as_of: date) -> list[CostRecord]:
    """What timesheets, rentals and invoices incurred up to as-of (SPEC §4), one record per cost.

    Timesheets: the first record of an entry_id wins; (regular + overtime × multiplier [1.5]) × rate (the entry's,
    else the person's) × (1 + fringe % [0] / 100), in the person's currency, on the work date. Rentals: the latest
    record of a rental_id wins; per month from the start to min(end, as-of), days inside × day rate on the month's
    last rental day, and a non-zero damage charge on min(end, as-of). Invoices: the latest record wins, on its date.
    """
    found: list[CostRecord] = []
    people = {row["person_id"]: row for row in latest_by(landing_rows(landing, "people"), "person_id")}
    with localcontext(EXACT):
        for row in first_by(landing_rows(landing, "timesheets"), "entry_id"):
            worked = _day(row["work_date"])
            if worked > as_of:
                continue
            person = people[row["person_id"]]
            rate = Decimal(row["hourly_rate"] or person["hourly_rate"])
            multiplier = _or(row["overtime_multiplier"], "1.5")
            hours = Decimal(row["regular_hours"]) + Decimal(row["overtime_hours"]) * multiplier
            cost = hours * rate * (1 + _or(row["fringe_pct"], "0") / 100)
            found.append(
                CostRecord(
                    "timesheet",
                    row["entry_id"],
                    row["entry_id"],
                    worked,
                    row["project_code"],
                    row["account_code"],
                    cost,
                    person["currency"],
                )
            )
        for row in latest_by(landing_rows(landing, "equipment_rentals"), "rental_id"):
            start = _day(row["start_date"])
            if start > as_of:
                continue
            last = min(_day(row["end_date"]), as_of)
            for period, days in _months(start, last):
                month_last = min(last, _month_end(_day(_month(period))))
                found.append(
                    CostRecord(
                        "rental",
                        row["rental_id"],
                        f"{row['rental_id']}:{_month(period)}",
                        month_last,
                        row["project_code"],
                        row["account_code"],
                        days * Decimal(row["day_rate"]),
                        row["currency"],
                    )
                )
            damage = _or(row["damage_charge"], "0")
            if damage != 0:
                found.append(
                    CostRecord(
                        "rental",
                        row["rental_id"],
                        f"{row['rental_id']}:damage",
                        last,
                        row["project_code"],
                        row["account_code"],
                        damage,
                        row["currency"],
                    )
                )
        for row in latest_by(landing_rows(landing, "invoices"), "invoice_id"):
            dated = _day(row["invoice_date"])
            if dated <= as_of:
                found.append(
                    CostRecord(
                        "invoice",
                        row["invoice_id"],
                        row["invoice_id"],
                        dated,
                        row["project_code"],
                        row["account_code"],
                        Decimal(row["amount"]),
                        row["currency"],
                    )
                )
    return found


@dataclass(frozen=True)
class Accrual:
    """The part of a cost record no GL line has released: own currency (0.0001) and base currency (cent)."""

    record: CostRecord
    amount: Decimal
    amount_base: Decimal


def accruals(landing: Path, as_of: date, base: str = "USD") -> list[Accrual]:
    """Every cost record's unreleased part, the records with nothing left left out (SPEC §4: nothing counted twice).

    A part left under half a cent is the ledger's rounding of its posting to the cent: nothing is accrued for it.
    A GL line posted up to as-of whose source_ref names a source id releases what it posts: its amount in the same
    currency, else amount × rate(GL currency) / rate(record currency), both rates of the source's first month. The
    release fills the source's records in (cost date, record id) order, in the direction of the source's total.
    """
    rate = fx_lookup(landing, base)
    by_source: dict[tuple[str, str], list[CostRecord]] = defaultdict(list)
    for record in incurred_records(landing, as_of):
        by_source[(record.source, record.source_id)].append(record)
    postings: dict[str, list[dict]] = defaultdict(list)
    for line in ledger_lines(landing, as_of):
        if line["source_ref"]:
            postings[line["source_ref"]].append(line)

    found: list[Accrual] = []
    with localcontext(EXACT):
        for (_, source_id), records in by_source.items():
            records.sort(key=lambda r: (r.cost_date, r.record_id))
            first_month, currency = records[0].period, records[0].currency
            released = sum(
                (
                    Decimal(p["amount"])
                    if p["currency"] == currency
                    else Decimal(p["amount"]) * rate(p["currency"], first_month) / rate(currency, first_month)
                    for p in postings[source_id]
                ),
                Decimal(0),
            )
            direction = -1 if sum(r.amount for r in records) < 0 else 1
            left_to_release = max(direction * released, Decimal(0))
            for record in records:
                directed = direction * record.amount
                taken = min(left_to_release, directed) if directed > 0 else Decimal(0)
                left_to_release -= taken
                accrued = (direction * (directed - taken)).quantize(ACCRUAL_QUANTUM, rounding=ROUND_HALF_UP)
                if abs(accrued) >= HALF_CENT:  # less is the ledger rounding its posting to the cent
                    in_base = (accrued * rate(currency, record.period)).quantize(CENT, rounding=ROUND_HALF_UP)
                    found.append(Accrual(record, accrued, in_base))
    return found


def accrued_line_items(landing: Path, as_of: date, base: str = "USD") -> dict[tuple[str, str, str], Decimal]:
    """Accrued cost per (project, account, 'YYYY-MM-01') in base currency, up to as-of."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for accrual in accruals(landing, as_of, base):
        record = accrual.record
        totals[(record.project_code, record.account_code, _month(record.period))] += accrual.amount_base
    return dict(totals)


def committed_line_items(landing: Path, as_of: date, base: str = "USD") -> dict[tuple[str, str, str], Decimal]:
    """Open commitments per (project, account, PO issue month 'YYYY-MM-01') in base currency (SPEC §4).

    An open purchase order issued up to as-of (its latest record standing) commits its amount less the invoices naming
    it (latest records, dated up to as-of) and the GL lines whose source_ref names it (posted up to as-of), never
    below 0; another currency counts at amount × rate(its currency) / rate(PO currency) of the PO's month. The rest
    converts at the PO month's rate, rounded to the cent.
    """
    rate = fx_lookup(landing, base)
    against: dict[str, list[tuple[Decimal, str]]] = defaultdict(list)
    for invoice in latest_by(landing_rows(landing, "invoices"), "invoice_id"):
        if invoice["po_id"] and _day(invoice["invoice_date"]) <= as_of:
            against[invoice["po_id"]].append((Decimal(invoice["amount"]), invoice["currency"]))
    for line in ledger_lines(landing, as_of):
        if line["source_ref"]:
            against[line["source_ref"]].append((Decimal(line["amount"]), line["currency"]))

    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    with localcontext(EXACT):
        for order in latest_by(landing_rows(landing, "purchase_orders"), "po_id"):
            issued = _day(order["issued_date"])
            if order["status"] != "open" or issued > as_of:
                continue
            month, currency = issued.isoformat()[:7], order["currency"]
            consumed = sum(
                (
                    amount if other == currency else amount * rate(other, month) / rate(currency, month)
                    for amount, other in against[order["po_id"]]
                ),
                Decimal(0),
            )
            left = max(Decimal(order["amount"]) - consumed, Decimal(0))
            in_base = (left * rate(currency, month)).quantize(CENT, rounding=ROUND_HALF_UP)
            if in_base != 0:
                totals[(order["project_code"], order["account_code"], _month(month))] += in_base
    return dict(totals)
