"""Actuals: spend per budget line through timesheets, invoices, rentals and card spend; POs and the ledger."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from orchestration.sample import hot_costs
from orchestration.sample.fx import FxRates, to_currency
from orchestration.sample.money import (
    AS_OF,
    LEDGER_START,
    ZERO,
    fmt_qty,
    money,
    month_end,
    month_of,
    month_range,
    parse_date,
    span_days,
    split_money,
)
from orchestration.sample.plan import CHANGE_ORDERS, BudgetLine, Version, billing_tranches, current_version
from orchestration.sample.production import Task
from orchestration.sample.records import Entry, GLLine, Invoice, PurchaseOrder, Rental
from orchestration.sample.reference import (
    ACCOUNT_NAMES,
    PEOPLE_BY_ID,
    PROJECTS,
    PROJECTS_BY_CODE,
    TEAMS,
    Person,
    Project,
)

# actual spend / current budget, per (project, account); every other line draws 0.90 .. 1.07
SPEND_FACTORS = {
    ("EP-2601", "5100"): Decimal("1.21"),  # scenario 1: crew overrun (overtime, extra days)
    ("EP-2601", "5110"): Decimal("1.20"),
    ("DOC-2504", "5200"): Decimal("0.64"),  # scenario 2: equipment underspend (studio-owned kit)
    ("DOC-2504", "5210"): Decimal("0.70"),
    ("DOC-2504", "5220"): Decimal("0.68"),
    ("CM-2603", "5310"): Decimal("1.16"),  # London hotel rates above the bid
}

# how spend on an account reaches the files: (channel, share)
CHANNELS: dict[str, tuple[tuple[str, Decimal], ...]] = {
    "5100": (("timesheet", Decimal(1)),),
    "5400": (("timesheet", Decimal(1)),),
    "5110": (("invoice", Decimal(1)),),
    "5200": (("rental", Decimal("0.9")), ("card", Decimal("0.1"))),
    "5210": (("rental", Decimal("0.9")), ("card", Decimal("0.1"))),
    "5220": (("rental", Decimal("0.9")), ("card", Decimal("0.1"))),
    "5300": (("invoice", Decimal("0.75")), ("card", Decimal("0.25"))),
    "5310": (("card", Decimal(1)),),
    "5410": (("invoice", Decimal(1)),),
    "5500": (("invoice", Decimal(1)),),
    "5510": (("invoice", Decimal("0.7")), ("card", Decimal("0.3"))),
    "5520": (("invoice", Decimal("0.5")), ("card", Decimal("0.5"))),
}

INVOICE_VENDORS = {
    "5110": {"USD": ("Castlight Payroll Services",), "GBP": ("Hartley Crew Payroll Ltd",)},
    "5300": {
        "USD": ("Harbor Point Stages", "City Film Office", "Greystone Estates"),
        "GBP": ("Wapping Studios Ltd", "Film London Permits"),
    },
    "5410": {
        "USD": ("Prism Colour House", "Ninefold VFX", "Echo Lane Mixing"),
        "GBP": ("Soho Grade Ltd", "Marlow Post Ltd"),
    },
    "5500": {"USD": ("Bright Talent Agency", "Northcoast Casting"), "GBP": ("Spotlight Casting UK",)},
    "5510": {"USD": ("Archive Reel Library", "Tidewater Music Publishing"), "GBP": ("Pathway Archive Ltd",)},
    "5520": {"USD": ("Good Grub Catering", "Set Kitchen Co."), "GBP": ("Reel Meals London",)},
}
CARD_SPEND = {  # account: ({currency: vendors}, descriptions)
    "5200": ({"USD": ("B&H Photo", "Adorama"), "GBP": ("CVP London",)}, ("Media cards & SSDs", "Camera expendables")),
    "5210": (
        {"USD": ("Gaffer's Supply Co.", "Home Depot"), "GBP": ("Flints Theatrical",)},
        ("Gels, tape & expendables", "Sandbags & stands"),
    ),
    "5220": ({"USD": ("Sweetwater", "B&H Photo"), "GBP": ("Studiospares",)}, ("Batteries & lav mounts", "Cables")),
    "5300": (
        {"USD": ("City Parking Permits", "State Parks Film Permits"), "GBP": ("Westminster Council",)},
        ("Parking suspension", "Film permit fee", "Location holding fee"),
    ),
    "5310": (
        {
            "USD": ("Delta Air Lines", "Alaska Airlines", "Marriott Hotels", "Hertz", "Uber"),
            "GBP": ("British Airways", "The Hoxton Hotel", "Addison Lee", "Premier Inn"),
        },
        ("Flights", "Hotel", "Car hire", "Ground transport", "Per diems"),
    ),
    "5510": ({"USD": ("Pond5", "Artlist"), "GBP": ("Audio Network",)}, ("Stock footage licence", "Library music")),
    "5520": (
        {"USD": ("Costco", "Blue Bottle Coffee", "Whole Foods Market"), "GBP": ("Pret A Manger", "Tesco")},
        ("Craft services", "Crew breakfast", "Water & snacks"),
    ),
}
RENTAL_ITEMS = {  # USD day rates; GBP hire houses charge about 80%
    "5200": (
        ("ARRI Alexa Mini LF camera package", "1450.00"),
        ("Sony Venice 2 camera package", "1650.00"),
        ("Cooke S4/i prime lens set", "650.00"),
        ("RED Komodo 6K kit", "450.00"),
        ("DJI Ronin 2 gimbal kit", "300.00"),
    ),
    "5210": (
        ("Lighting & grip 3-ton truck", "1200.00"),
        ("ARRI SkyPanel S60 kit (x4)", "520.00"),
        ("Dolly & track package", "380.00"),
        ("HMI 4K par kit", "310.00"),
    ),
    "5220": (
        ("Sound Devices 888 recorder kit", "180.00"),
        ("Wireless lavalier kit (6 ch)", "140.00"),
        ("Remote podcast recording kit", "95.00"),
    ),
}
RENTAL_VENDORS = {
    "5200": {"USD": ("Brightline Camera Rentals", "Keystone Lens House"), "GBP": ("Kit Room London Ltd",)},
    "5210": {"USD": ("Gaffer's Depot", "Sunset Grip & Electric"), "GBP": ("Riverside Lighting Ltd",)},
    "5220": {"USD": ("Tideline Sound Hire",), "GBP": ("Soundkit London",)},
}
EUR_RENTAL = ("Lumière Optique Paris", "Cooke Panchro/i Classic lens set", Decimal("720.00"))
PO_ACCOUNTS = ("5300", "5410", "5500", "5510")


class Actuals:
    """The actual-cost records and the ledger, spent from each project's current budget up to the as-of date."""

    def __init__(self, rng: random.Random, fx: FxRates, versions: dict[str, list[Version]], tasks: list[Task]) -> None:
        self.rng = rng
        self.fx = fx
        self.versions = versions
        self.tasks = tasks
        self.entries: list[Entry] = []
        self.rentals: list[Rental] = []
        self.invoices: list[Invoice] = []
        self.purchase_orders: list[PurchaseOrder] = []
        self.gl: list[GLLine] = []
        self.hours_booked: dict[tuple[str, date], Decimal] = {}

    def build(self) -> None:
        self._plant_hot_costs()
        for project in PROJECTS:
            version = current_version(self.versions, project)
            if version is None:
                continue
            accounts = list(dict.fromkeys(line.account for line in version.lines))
            for account in accounts:
                if account not in CHANNELS:
                    continue  # revenue, contingency and overhead are posted straight to the ledger below
                lines = [line for line in version.lines if line.account == account]
                factor = SPEND_FACTORS.get((project.code, account)) or self._draw(0.90, 1.07)
                targets = self._targets(project, lines, factor)
                for channel, share in CHANNELS[account]:
                    part = {m: t * share for m, t in targets.items()}
                    getattr(self, f"_{channel}_spend")(project, account, part)
            self._revenue(project)
        self._overhead()
        self._number_records()
        self._post_operational_costs()
        self.gl.append(hot_costs.booked_days_posting(self._rental(hot_costs.RENTAL_ID)))
        self._purchase_orders()
        self._plant_unbudgeted_spend()
        self._plant_reversals()
        self._number_ledger()

    def _plant_hot_costs(self) -> None:
        """Scenario 8 (see `hot_costs`): fixed records, planted first so that random entries avoid their hours."""
        for entry in hot_costs.overtime_entries():
            self.entries.append(entry)
            key = (entry.person.person_id, entry.work_date)
            self.hours_booked[key] = self.hours_booked.get(key, ZERO) + entry.regular + entry.overtime
        self.rentals.append(hot_costs.extended_rental())
        self.invoices += hot_costs.invoices()

    def _rental(self, rental_id: str) -> Rental:
        return next(r for r in self.rentals if r.rental_id == rental_id)

    def _draw(self, lo: float, hi: float) -> Decimal:
        return Decimal(str(round(self.rng.uniform(lo, hi), 4)))

    def _targets(self, project: Project, lines: list[BudgetLine], factor: Decimal) -> dict[date, Decimal]:
        """What is spent per month up to the as-of date: budget phasing x factor x noise."""
        targets: dict[date, Decimal] = {}
        for line in lines:
            if line.period is not None:
                lo, hi = max(line.period, project.start), min(month_end(line.period), project.end)
                profile = [(line.period, line.amount)]
            else:
                assert line.window is not None
                lo, hi = line.window
                months = month_range(lo, hi)
                weights = [span_days(max(m, lo), min(month_end(m), hi)) for m in months]
                profile = list(zip(months, split_money(line.amount, weights), strict=True))
            for month, amount in profile:
                first, last = max(month, lo), min(month_end(month), hi)
                elapsed = Decimal(span_days(first, min(last, AS_OF))) / Decimal(span_days(first, last))
                if elapsed > 0:
                    targets[month] = targets.get(month, ZERO) + amount * factor * elapsed * self._draw(0.92, 1.08)
        for _, code, account, issued, status, _, budget_amount, _ in CHANGE_ORDERS:
            if status == "approved" and code == project.code and account == lines[0].account:
                month = month_of(parse_date(issued))
                targets[month] = targets.get(month, ZERO) + Decimal(budget_amount)
        return dict(sorted(targets.items()))

    def _days(self, month: date, project: Project, weekdays: bool = False) -> list[date]:
        lo, hi = max(month, project.start), min(month_end(month), project.end, AS_OF)
        days = [lo + timedelta(days=i) for i in range(span_days(lo, hi))]
        return [d for d in days if d.weekday() < 5] if weekdays else days

    def _timesheet_spend(self, project: Project, account: str, targets: dict[date, Decimal]) -> None:
        team = [PEOPLE_BY_ID[p] for p in TEAMS[project.code][account]]
        overtime_odds = 0.4 if project.code == "EP-2601" and account == "5100" else 0.1
        for month, target in targets.items():
            days = self._days(month, project, weekdays=True)
            spent, misses = ZERO, 0
            while days and misses < 50:
                person, day = self.rng.choice(team), self.rng.choice(days)
                regular = Decimal(self.rng.choice(("6", "7", "7.5", "8", "8", "8", "8.5", "9", "9.5", "10")))
                overtime = (
                    Decimal(self.rng.choice(("1", "1.5", "2", "2", "3", "4")))
                    if self.rng.random() < overtime_odds
                    else ZERO
                )
                if self.hours_booked.get((person.person_id, day), ZERO) + regular + overtime > 12:
                    misses += 1
                    continue
                entry = Entry(
                    day,
                    person,
                    project,
                    account,
                    self._task_for(project, person, day),
                    regular,
                    overtime,
                    money(person.rate * Decimal("1.1")) if self.rng.random() < 0.04 else None,
                    Decimal("2.0") if overtime and self.rng.random() < 0.3 else None,
                    self._fringe(project, person),
                )
                cost = to_currency(self.fx, entry.cost, person.currency, project.currency, day)
                if spent + cost / 2 > target:
                    break
                self.entries.append(entry)
                self.hours_booked[(person.person_id, day)] = (
                    self.hours_booked.get((person.person_id, day), ZERO) + regular + overtime
                )
                spent += cost

    def _fringe(self, project: Project, person: Person) -> Decimal | None:
        if person.worker_type != "staff":
            return None
        return {"EP-2601": Decimal("18"), "DOC-2504": Decimal("12.5")}.get(project.code)

    def _task_for(self, project: Project, person: Person, day: date) -> str:
        candidates = [
            t.task_id
            for t in self.tasks
            if t.project is project
            and t.spec.department == person.department
            and t.spec.start <= day <= t.spec.due + timedelta(days=7)
        ]
        if candidates and self.rng.random() < 0.8:
            return self.rng.choice(candidates)
        return ""

    def _invoice_spend(self, project: Project, account: str, targets: dict[date, Decimal]) -> None:
        vendors = INVOICE_VENDORS[account][project.currency]
        primary = self.rng.choice(vendors)
        largest = Decimal(20000 if account == "5110" else 25000)
        carry, months = ZERO, list(targets)
        for month, target in targets.items():
            carry += target
            if (carry < 3000 and month != months[-1]) or carry < 100:
                continue
            count = min(4, max(1, math.ceil(carry / largest)))
            for amount in split_money(carry, [self.rng.randint(80, 120) for _ in range(count)]):
                vendor = primary if self.rng.random() < 0.8 else self.rng.choice(vendors)
                day = self.rng.choice(self._days(month, project))
                lag = self.rng.randint(7, 14) if account == "5110" else self.rng.randint(20, 45)
                paid_on = day + timedelta(days=lag)
                if paid_on <= AS_OF:
                    status = "paid"
                else:
                    status, paid_on = ("approved" if day + timedelta(days=7) <= AS_OF else "received"), None
                self.invoices.append(Invoice(project, account, vendor, day, amount, project.currency, status, paid_on))
            carry = ZERO

    def _rental_spend(self, project: Project, account: str, targets: dict[date, Decimal]) -> None:
        total = sum(targets.values(), ZERO)
        if total <= 0:
            return
        longest = max(Decimal(usd) for _, usd in RENTAL_ITEMS[account]) * 24  # about a month of the dearest item
        count = max(1, min(8, max(round(total / 15000), math.ceil(total / longest))))
        months, weights = list(targets), [float(t) for t in targets.values()]
        for i, share in enumerate(split_money(total, [self.rng.randint(85, 115) for _ in range(count)])):
            month = self.rng.choices(months, weights)[0]
            start = self.rng.choice(self._days(month, project))
            if project.code == "CM-2603" and account == "5200" and i == 0:  # a Paris lens house bills in EUR
                vendor, item, rate = EUR_RENTAL
                currency, share = "EUR", to_currency(self.fx, share, project.currency, "EUR", start)
            else:
                currency = project.currency
                item, rate = self._rental_item(account, currency, share)
                vendor = self.rng.choice(RENTAL_VENDORS[account][currency])
            days = max(1, min(28, int((share / rate).to_integral_value(ROUND_HALF_UP))))
            end = min(start + timedelta(days=days - 1), project.end)
            damage = Decimal(self.rng.choice(("350.00", "850.00", "1240.00"))) if self.rng.random() < 0.06 else ZERO
            posted_on = end + timedelta(days=self.rng.randint(10, 25))
            self.rentals.append(Rental(project, account, item, vendor, start, end, rate, damage, currency, posted_on))

    def _rental_item(self, account: str, currency: str, share: Decimal) -> tuple[str, Decimal]:
        items = []
        for name, usd in RENTAL_ITEMS[account]:
            rate = Decimal(usd) if currency == "USD" else (Decimal(usd) * Decimal("0.8") / 5).quantize(1) * 5
            items.append((name, money(rate)))
        fitting = [it for it in items if it[1] <= share <= it[1] * 28]
        if not fitting:  # too big for four weeks of any item: the dearest; too small for a day: the cheapest
            dearest = max(items, key=lambda it: it[1])
            fitting = [dearest if share > dearest[1] * 28 else min(items, key=lambda it: it[1])]
        return self.rng.choice(fitting)

    def _card_spend(self, project: Project, account: str, targets: dict[date, Decimal]) -> None:
        vendors, descriptions = CARD_SPEND[account]
        for month, target in targets.items():
            if target < 20:
                continue
            count = max(1, min(5, round(target / 1800)))
            for amount in split_money(target, [self.rng.randint(60, 140) for _ in range(count)]):
                self.gl.append(
                    GLLine(
                        self.rng.choice(self._days(month, project)),
                        project.code,
                        account,
                        self.rng.choice(vendors[project.currency]),
                        self.rng.choice(descriptions),
                        amount,
                        project.currency,
                    )
                )

    def _revenue(self, project: Project) -> None:
        if project.contract_value is None or not project.billing:
            return
        tranches = billing_tranches(project)
        for n, (when, amount, label) in enumerate(tranches, start=1):
            if when <= AS_OF:
                self.gl.append(
                    GLLine(
                        when,
                        project.code,
                        project.revenue_account,
                        project.client,
                        f"Client billing {n}/{len(tranches)}: {label}",
                        amount,
                        project.currency,
                    )
                )
        for co_id, code, _, issued, status, revenue, _, _ in CHANGE_ORDERS:
            billed = parse_date(issued) + timedelta(days=21)
            if code == project.code and status == "approved" and billed <= AS_OF:
                self.gl.append(
                    GLLine(
                        billed,
                        code,
                        project.revenue_account,
                        project.client,
                        f"Change order {co_id} billing",
                        Decimal(revenue),
                        project.currency,
                    )
                )

    def _overhead(self) -> None:
        """Studio running costs, straight to the ledger; insurance once a year (scenario 4)."""
        code = "OVH-STUDIO"
        software = (
            ("Adobe", "Creative Cloud for teams", "1180.00"),
            ("Frame.io", "Review & approval seats", "420.00"),
            ("Google", "Workspace", "640.00"),
            ("Autodesk", "Flow Production Tracking", "1350.00"),
            ("Avid", "Media Composer subscriptions", "594.00"),
        )
        for month in month_range(LEDGER_START, AS_OF):
            self.gl.append(
                GLLine(
                    month, code, "6100", "Harbor Works Properties", "Studio rent - Unit 4B", Decimal("16250.00"), "USD"
                )
            )
            utilities = money(Decimal(2250) * self._draw(0.82, 1.18))
            self.gl.append(
                GLLine(
                    month + timedelta(days=self.rng.randint(8, 14)),
                    code,
                    "6100",
                    "Pacific Gas & Power",
                    "Electricity & water",
                    utilities,
                    "USD",
                )
            )
            for vendor, what, amount in software:
                self.gl.append(
                    GLLine(
                        month + timedelta(days=self.rng.randint(0, 4)),
                        code,
                        "6200",
                        vendor,
                        what,
                        Decimal(amount),
                        "USD",
                    )
                )
        self.gl.append(
            GLLine(
                parse_date("2025-03-03"),
                code,
                "6300",
                "Beacon Mutual Insurance",
                "Annual studio & production package policy 2025-26",
                Decimal("61840.00"),
                "USD",
            )
        )
        self.gl.append(
            GLLine(
                parse_date("2026-03-02"),
                code,
                "6300",
                "Beacon Mutual Insurance",
                "Annual studio & production package policy 2026-27",
                Decimal("64250.00"),
                "USD",
            )
        )

    def _number_records(self) -> None:
        """Ids in date order; the planted records keep their own (`hot_costs`)."""
        self.entries.sort(key=lambda e: (e.work_date, e.person.person_id, e.project.code, e.account))
        for n, entry in enumerate([e for e in self.entries if not e.entry_id], start=1):
            entry.entry_id = f"TS-{n:06d}"
        self.rentals.sort(key=lambda r: (r.start, r.project.code, r.account, r.item))
        for n, rental in enumerate([r for r in self.rentals if not r.rental_id], start=1):
            rental.rental_id = f"RNT-{n:04d}"
        self.invoices.sort(key=lambda i: (i.invoice_date, i.project.code, i.account, i.vendor, i.amount))
        for n, invoice in enumerate([i for i in self.invoices if not i.invoice_id], start=1):
            invoice.invoice_id = f"INV-{n:05d}"

    def _post_operational_costs(self) -> None:
        """The ledger posts each timesheet entry, returned rental and paid invoice as one line naming it."""
        for entry in self.entries:
            posted = entry.work_date + timedelta(days=4 - entry.work_date.weekday() + 7)  # next week's payroll run
            if posted <= AS_OF:
                person = entry.person
                payroll = (
                    "Northlight payroll"
                    if person.worker_type == "staff"
                    else ("Hartley Crew Payroll Ltd" if person.currency == "GBP" else "Castlight Payroll Services")
                )
                hours = f"{fmt_qty(entry.regular)}h" + (f" + {fmt_qty(entry.overtime)}h OT" if entry.overtime else "")
                self.gl.append(
                    GLLine(
                        posted,
                        entry.project.code,
                        entry.account,
                        payroll,
                        f"Labour {person.name} {entry.work_date.isoformat()} ({hours})",
                        money(entry.cost),
                        person.currency,
                        entry.entry_id,
                    )
                )
        for rental in self.rentals:
            if rental.posted_on <= AS_OF:
                extra = " incl. damage charge" if rental.damage else ""
                self.gl.append(
                    GLLine(
                        rental.posted_on,
                        rental.project.code,
                        rental.account,
                        rental.vendor,
                        f"Rental {rental.rental_id}: {rental.item}, {span_days(rental.start, rental.end)} days{extra}",
                        money(rental.cost),
                        rental.currency,
                        rental.rental_id,
                    )
                )
        for invoice in self.invoices:
            if invoice.paid_on is not None:
                self.gl.append(
                    GLLine(
                        invoice.paid_on,
                        invoice.project.code,
                        invoice.account,
                        invoice.vendor,
                        f"Invoice {invoice.invoice_id} - {ACCOUNT_NAMES[invoice.account]}",
                        invoice.amount,
                        invoice.currency,
                        invoice.invoice_id,
                    )
                )

    def _remaining_plan(self, project: Project, account: str) -> Decimal:
        """Current budget of an account not yet elapsed at the as-of date."""
        version = current_version(self.versions, project)
        remaining = ZERO
        for line in version.lines if version else ():
            if line.account != account:
                continue
            lo, hi = (
                (max(line.period, project.start), min(month_end(line.period), project.end))
                if line.period
                else (line.window or (project.start, project.end))
            )
            ahead = span_days(max(lo, AS_OF + timedelta(days=1)), hi)
            remaining += line.amount * ahead / span_days(lo, hi)
        return remaining

    def _purchase_orders(self) -> None:
        """Commitments: POs for vendor work; open ones carry the work still to come."""
        groups: dict[tuple[str, str, str, date], list[Invoice]] = {}  # one engagement a vendor a month
        for invoice in self.invoices:
            if invoice.account in PO_ACCOUNTS and not invoice.po_id:  # planted invoices have their PO
                key = (invoice.project.code, invoice.account, invoice.vendor, month_of(invoice.invoice_date))
                groups.setdefault(key, []).append(invoice)
        latest = {}  # the most recent engagement of an active project's account stays open
        for key in groups:
            latest[key[:2]] = key
        orders: list[tuple[PurchaseOrder, list[Invoice]]] = []
        opened: set[tuple[str, str]] = set()
        for key, invoices in groups.items():
            code, account, vendor, _ = key
            if self.rng.random() > 0.75:
                continue
            project = PROJECTS_BY_CODE[code]
            billed = sum((i.amount for i in invoices), ZERO)
            remaining = self._remaining_plan(project, account)
            issued = max(project.start, invoices[0].invoice_date - timedelta(days=self.rng.randint(5, 20)))
            if project.status == "active" and remaining > 500 and latest[key[:2]] == key:
                opened.add((code, account))
                amount, status = billed + money(remaining).quantize(Decimal(100)), "open"
            else:
                amount, status = billed, "closed"
            orders.append(
                (PurchaseOrder("", vendor, issued, project, account, amount, project.currency, status), invoices)
            )
        for project in PROJECTS:  # work booked ahead: open POs with nothing invoiced yet
            if project.status != "active":
                continue
            for account in PO_ACCOUNTS:
                remaining = self._remaining_plan(project, account)
                if remaining > 2000 and (project.code, account) not in opened:
                    issued = AS_OF - timedelta(days=self.rng.randint(3, 40))
                    vendor = self.rng.choice(INVOICE_VENDORS[account][project.currency])
                    amount = (remaining * Decimal("0.8")).quantize(Decimal(100))
                    orders.append(
                        (
                            PurchaseOrder(
                                "",
                                vendor,
                                max(project.start, issued),
                                project,
                                account,
                                amount,
                                project.currency,
                                "open",
                            ),
                            [],
                        )
                    )
        orders.sort(key=lambda pair: (pair[0].issued, pair[0].project.code, pair[0].account, pair[0].vendor))
        for n, (order, invoices) in enumerate(orders, start=1):
            order.po_id = f"PO-{n:04d}"
            for invoice in invoices:
                invoice.po_id = order.po_id
        self.purchase_orders = [order for order, _ in orders] + hot_costs.purchase_orders()

    def _plant_unbudgeted_spend(self) -> None:
        """Scenario 3: a music licence on a project that never budgeted music (5510)."""
        self.gl.append(
            GLLine(
                parse_date("2026-09-22"),
                "CM-2602",
                "5510",
                "Sonic Canvas Music",
                "Licence 'Northbound' (client-requested track), TV + online, 1 year",
                Decimal("12500.00"),
                "USD",
            )
        )
        self.gl.append(
            GLLine(
                parse_date("2026-10-08"),
                "CM-2602",
                "5510",
                "Sonic Canvas Music",
                "Stems & edit rights for 'Northbound'",
                Decimal("6000.00"),
                "USD",
            )
        )

    def _plant_reversals(self) -> None:
        """Scenario 6: a duplicated invoice posting and a misposted expense, both reversed."""
        original = next(
            line
            for line in self.gl
            if line.project == "EP-2601"
            and line.account == "5410"
            and line.source_ref.startswith("INV-")
            and line.posted + timedelta(days=12) <= AS_OF
        )
        duplicate = replace(original, posted=original.posted + timedelta(days=1))
        self.gl.append(duplicate)
        self.gl.append(
            replace(
                duplicate,
                posted=duplicate.posted + timedelta(days=9),
                amount=-duplicate.amount,
                description="duplicate posting of " + original.source_ref,
                reverses=duplicate,
            )
        )
        wrong = GLLine(
            parse_date("2026-02-11"),
            "EP-2601",
            "5310",
            "Alaska Airlines",
            "Flights SEA-KTN research crew (Saltwater Towns)",
            Decimal("3486.40"),
            "USD",
        )
        self.gl.append(wrong)
        self.gl.append(
            replace(
                wrong,
                posted=parse_date("2026-02-24"),
                amount=-wrong.amount,
                description="posted to the wrong project (belongs to DOC-2504)",
                reverses=wrong,
            )
        )
        self.gl.append(
            replace(
                wrong,
                posted=parse_date("2026-02-24"),
                project="DOC-2504",
                description="Reclass from EP-2601: flights SEA-KTN research crew",
            )
        )

    def _number_ledger(self) -> None:
        order = {id(line): n for n, line in enumerate(self.gl)}
        self.gl.sort(key=lambda line: (line.posted, order[id(line)]))
        for n, line in enumerate(self.gl, start=1):
            line.txn_id = f"GL-{n:06d}"
        for line in self.gl:
            if line.reverses is not None:
                line.description = f"Reversal of {line.reverses.txn_id}: {line.description}"
