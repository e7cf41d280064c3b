"""The actual-cost records (timesheet entries, rentals, invoices, POs, ledger lines) and their landing rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from orchestration.sample.money import fmt_money, fmt_qty, labour_cost, span_days
from orchestration.sample.reference import Person, Project


@dataclass
class Entry:
    work_date: date
    person: Person
    project: Project
    account: str
    task_id: str
    regular: Decimal
    overtime: Decimal
    rate: Decimal | None
    multiplier: Decimal | None
    fringe: Decimal | None
    entry_id: str = ""

    @property
    def cost(self) -> Decimal:
        return labour_cost(self.regular, self.overtime, self.multiplier, self.rate or self.person.rate, self.fringe)


@dataclass
class Rental:
    project: Project
    account: str
    item: str
    vendor: str
    start: date
    end: date
    day_rate: Decimal
    damage: Decimal
    currency: str
    posted_on: date
    rental_id: str = ""

    @property
    def cost(self) -> Decimal:
        return span_days(self.start, self.end) * self.day_rate + self.damage


@dataclass
class Invoice:
    project: Project
    account: str
    vendor: str
    invoice_date: date
    amount: Decimal
    currency: str
    status: str
    paid_on: date | None
    invoice_id: str = ""
    po_id: str = ""


@dataclass
class PurchaseOrder:
    po_id: str
    vendor: str
    issued: date
    project: Project
    account: str
    amount: Decimal
    currency: str
    status: str


@dataclass
class GLLine:
    posted: date
    project: str
    account: str
    vendor: str
    description: str
    amount: Decimal
    currency: str
    source_ref: str = ""
    reverses: GLLine | None = None  # the line this one reverses (its description names it)
    txn_id: str = ""


def gl_rows(gl: list[GLLine], year: int) -> list[dict[str, str]]:
    return [
        {
            "txn_id": g.txn_id,
            "posted_date": g.posted.isoformat(),
            "project_code": g.project,
            "account_code": g.account,
            "vendor": g.vendor,
            "description": g.description,
            "amount": fmt_money(g.amount),
            "currency": g.currency,
            "source_ref": g.source_ref,
        }
        for g in gl
        if g.posted.year == year
    ]


def timesheet_rows(entries: list[Entry]) -> list[dict[str, str]]:
    return [
        {
            "entry_id": e.entry_id,
            "work_date": e.work_date.isoformat(),
            "person_id": e.person.person_id,
            "project_code": e.project.code,
            "account_code": e.account,
            "task_id": e.task_id,
            "regular_hours": fmt_qty(e.regular),
            "overtime_hours": fmt_qty(e.overtime),
            "hourly_rate": fmt_money(e.rate),
            "overtime_multiplier": str(e.multiplier) if e.multiplier else "",
            "fringe_pct": fmt_qty(e.fringe),
        }
        for e in entries
    ]


def rental_rows(rentals: list[Rental]) -> list[dict[str, str]]:
    return [
        {
            "rental_id": r.rental_id,
            "project_code": r.project.code,
            "account_code": r.account,
            "item": r.item,
            "vendor": r.vendor,
            "start_date": r.start.isoformat(),
            "end_date": r.end.isoformat(),
            "day_rate": fmt_money(r.day_rate),
            "damage_charge": fmt_money(r.damage),
            "currency": r.currency,
        }
        for r in rentals
    ]


def invoice_rows(invoices: list[Invoice]) -> list[dict[str, str]]:
    return [
        {
            "invoice_id": i.invoice_id,
            "vendor": i.vendor,
            "invoice_date": i.invoice_date.isoformat(),
            "project_code": i.project.code,
            "account_code": i.account,
            "amount": fmt_money(i.amount),
            "currency": i.currency,
            "status": i.status,
            "po_id": i.po_id,
        }
        for i in invoices
    ]


def purchase_order_rows(orders: list[PurchaseOrder]) -> list[dict[str, str]]:
    return [
        {
            "po_id": o.po_id,
            "vendor": o.vendor,
            "issued_date": o.issued.isoformat(),
            "project_code": o.project.code,
            "account_code": o.account,
            "amount": fmt_money(o.amount),
            "currency": o.currency,
            "status": o.status,
        }
        for o in orders
    ]
