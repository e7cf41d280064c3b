"""Deterministic sample landing data for a fictional production house, Northlight Pictures.

`python -m orchestration.sample [OUT_DIR]` writes one landing file per source of the contract
(SPEC §4, `orchestration.lib.contract`) and an `AS_OF` file (the sample's as-of date, 2026-10-15)
to `seeds/sample_studio/`. The output depends only on the seed: `random.Random(seed)` is the
only source of randomness and no clock is read, so the committed sample can be regenerated
byte for byte.

The studio: 5 departments, 10 projects (3 closed, 1 wrapped, 5 active, 1 bidding; one shot in
London and budgeted in GBP), 18 accounts covering every cost category, 20 people, and ledger
activity from 2025-01-01 to the as-of date. Every actual is derived from the project's current
budget times a spend factor and reaches the files through the channel a studio really sees it
in: labour as timesheets, shoot crew as payroll-service invoices, kit as equipment rentals,
vendors as invoices (many against purchase orders), card spend, revenue and overhead straight
in the ledger. The ledger posts each timesheet entry, rental and paid invoice as one line whose
`source_ref` names it (amount = its cost), so posted + accrued never counts a cost twice; what
is not yet posted at the as-of date (recent timesheets, running rentals, unpaid invoices) is
the accrued "hot cost".

Planted scenarios (what the marts, alerts and reports should find):

1. Crew overrun: EP-2601 (The Night Desk S1, episodic, active) runs its crew accounts
   (5100 labour, 5110 day players) about 20% above the current V2-reforecast budget to date
   (extra shoot days, overtime at double time, retakes), although the Q2 2026 reforecast
   already raised crew; a change order for the extra days is only proposed.
2. Equipment underspend: DOC-2504 (Saltwater Towns, wrapped) spends about a third less than
   budgeted on equipment (5200/5210/5220): the second half was shot on studio-owned kit.
3. Unbudgeted spend: CM-2602 (Meridian Air) buys a music licence (5510) that has no budget
   line in any version; the transfer from contingency to cover it is requested, not approved.
4. Lumpy annual insurance: OVH-STUDIO pays insurance (6300) once a year, every March, as one
   ledger line of about 60,000, against a budget line phased evenly over the project.
5. Foreign currency: CM-2603 (Kestrel Motors, London) is budgeted and mostly spent in GBP,
   with one EUR lens rental and USD staff timesheets; fx_rates has USD, GBP and EUR monthly.
6. Reversing entries: a duplicated invoice posting and an expense posted to the wrong project
   are each reversed by a negative line naming the line it reverses (the expense is re-posted
   to the right project).
7. Revenue: client billing tranches and approved change-order billing posted as positive
   amounts on the revenue accounts.

Also present: original and reforecast budget versions side by side (and one draft bid),
monthly-phased and unphased budget lines, approved/proposed/rejected change orders, approved
and pending budget transfers, open and closed purchase orders, variance commentary, tasks with
retakes, blocked work and dependencies, and milestones that are late, on time or still ahead.
"""

from __future__ import annotations

import csv
import math
import random
import sys
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

from orchestration.lib.contract import (
    CATEGORIES,
    DATE,
    MONEY,
    PROJECT_STATUSES,
    PROJECT_TYPES,
    SOURCES,
    UNITS,
    WORKER_TYPES,
    Source,
    source_for_file,
)

AS_OF = date(2026, 10, 15)
BASE_CURRENCY = "USD"
DOMAIN = "northlight.example"
DEFAULT_OUT_DIR = Path(__file__).resolve().parents[1] / "seeds" / "sample_studio"
LEDGER_START = date(2025, 1, 1)
FX_MONTHS = (date(2025, 1, 1), date(2027, 6, 1))
CENT = Decimal("0.01")
ZERO = Decimal(0)
CUTOFF = datetime.combine(AS_OF, time(18, 0))  # nothing in the sample happens after this

# ----------------------------------------------------------------------------------------------
# reference data
# ----------------------------------------------------------------------------------------------

DEPARTMENTS = (
    ("PROD", "Production", "maya.okafor"),
    ("POST", "Post-production", "hannah.kim"),
    ("AUDIO", "Audio & podcast", "rosa.jimenez"),
    ("PHOTO", "Stills photography", "noor.haddad"),
    ("OPS", "Studio operations & overhead", "grace.liu"),
)

# code, name, category, account_type
ACCOUNTS = (
    ("4000", "Production fee revenue", "revenue", "revenue"),
    ("4100", "Sponsorship revenue", "revenue", "revenue"),
    ("5100", "Crew - staff & freelance labour", "crew", "expense"),
    ("5110", "Crew - shoot day players (payroll service)", "crew", "expense"),
    ("5200", "Camera & lens rental", "equipment", "expense"),
    ("5210", "Lighting & grip rental", "equipment", "expense"),
    ("5220", "Sound & recording equipment", "equipment", "expense"),
    ("5300", "Locations, stages & permits", "location", "expense"),
    ("5310", "Travel & accommodation", "location", "expense"),
    ("5400", "Post-production - in-house editorial & sound", "post", "expense"),
    ("5410", "Post-production - colour, VFX & mix vendors", "post", "expense"),
    ("5500", "Talent & casting", "third_party", "expense"),
    ("5510", "Music & archive licensing", "third_party", "expense"),
    ("5520", "Catering & craft services", "third_party", "expense"),
    ("5900", "Contingency", "contingency", "expense"),
    ("6100", "Studio rent & utilities", "overhead", "expense"),
    ("6200", "Software & subscriptions", "overhead", "expense"),
    ("6300", "Insurance", "overhead", "expense"),
)
ACCOUNT_NAMES = {code: name for code, name, _, _ in ACCOUNTS}
REVENUE_ACCOUNTS = tuple(code for code, _, _, kind in ACCOUNTS if kind == "revenue")


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    department: str
    worker_type: str
    capacity: int
    rate: Decimal
    currency: str = "USD"

    @property
    def email(self) -> str:
        return f"{self.name.lower().replace(' ', '.')}@{DOMAIN}"


def _p(pid: str, name: str, dept: str, kind: str, capacity: int, rate: str, currency: str = "USD") -> Person:
    return Person(pid, name, dept, kind, capacity, Decimal(rate), currency)


PEOPLE = (
    _p("P001", "Maya Okafor", "PROD", "staff", 40, "95.00"),
    _p("P002", "Daniel Reyes", "PROD", "staff", 40, "85.00"),
    _p("P003", "Priya Natarajan", "PROD", "staff", 40, "48.00"),
    _p("P004", "Tom Becker", "PROD", "freelance", 40, "90.00"),
    _p("P005", "Lena Novak", "PROD", "freelance", 40, "150.00"),
    _p("P006", "Sam Whitfield", "PROD", "freelance", 40, "75.00"),
    _p("P007", "Chris Ito", "PROD", "staff", 24, "35.00"),
    _p("P008", "Oliver Grant", "PROD", "freelance", 40, "70.00", "GBP"),
    _p("P009", "Hannah Kim", "POST", "staff", 40, "88.00"),
    _p("P010", "Marcus Bell", "POST", "staff", 40, "110.00"),
    _p("P011", "Aisha Rahman", "POST", "freelance", 40, "95.00"),
    _p("P012", "Jonah Lee", "POST", "staff", 40, "42.00"),
    _p("P013", "Sofia Marino", "POST", "freelance", 24, "80.00"),
    _p("P014", "Eli Brooks", "AUDIO", "staff", 40, "65.00"),
    _p("P015", "Rosa Jimenez", "AUDIO", "staff", 40, "58.00"),
    _p("P016", "Kai Andersen", "AUDIO", "freelance", 24, "72.00"),
    _p("P017", "Noor Haddad", "PHOTO", "staff", 40, "75.00"),
    _p("P018", "Ben Carter", "PHOTO", "freelance", 40, "55.00"),
    _p("P019", "Grace Liu", "OPS", "staff", 40, "52.00"),
    _p("P020", "Victor Osei", "OPS", "staff", 40, "70.00"),
)
PEOPLE_BY_ID = {p.person_id: p for p in PEOPLE}
STUDIO_HEAD = f"ruth.adler@{DOMAIN}"  # signs off large transfers; not on a timesheet


def _email(person_id: str) -> str:
    return PEOPLE_BY_ID[person_id].email


@dataclass(frozen=True)
class Project:
    code: str
    name: str
    department: str
    client: str
    project_type: str
    status: str
    start: date
    end: date
    contract_value: Decimal | None
    currency: str = "USD"
    # client billing schedule: (date, weight, label); amounts split the contract value by weight
    billing: tuple[tuple[str, int, str], ...] = ()
    revenue_account: str = "4000"


def _d(text: str) -> date:
    return date.fromisoformat(text)


def _project(
    code: str,
    name: str,
    dept: str,
    client: str,
    kind: str,
    status: str,
    start: str,
    end: str,
    contract: str | None,
    currency: str = "USD",
    billing: tuple[tuple[str, int, str], ...] = (),
    revenue_account: str = "4000",
) -> Project:
    value = Decimal(contract) if contract else None
    return Project(
        code, name, dept, client, kind, status, _d(start), _d(end), value, currency, billing, revenue_account
    )


def _three_tranches(award: str, wrap: str, delivery: str) -> tuple[tuple[str, int, str], ...]:
    return ((award, 50, "50% on award"), (wrap, 30, "30% on shoot wrap"), (delivery, 20, "20% on delivery"))


PROJECTS = (
    _project(
        "CM-2501",
        "Harbor Bank - Spring campaign",
        "PROD",
        "Harbor Bank",
        "commercial",
        "closed",
        "2025-01-13",
        "2025-04-30",
        "420000",
        billing=_three_tranches("2025-01-20", "2025-03-10", "2025-04-30"),
    ),
    _project(
        "MV-2502",
        "Juniper Lane - 'Glasswing' music video",
        "PROD",
        "Juniper Lane Records",
        "music_video",
        "closed",
        "2025-03-03",
        "2025-05-30",
        "95000",
        billing=_three_tranches("2025-03-07", "2025-04-25", "2025-05-30"),
    ),
    _project(
        "PH-2503",
        "Atlas Outdoor - FW25 lookbook",
        "PHOTO",
        "Atlas Outdoor",
        "photo",
        "closed",
        "2025-06-02",
        "2025-08-29",
        "60000",
        billing=_three_tranches("2025-06-06", "2025-07-18", "2025-08-29"),
    ),
    _project(
        "DOC-2504",
        "Saltwater Towns (feature documentary)",
        "PROD",
        "Meridian Docs Channel",
        "documentary",
        "wrapped",
        "2025-05-01",
        "2026-09-30",
        "680000",
        billing=(
            ("2025-05-08", 30, "30% on commission"),
            ("2025-11-03", 30, "30% on principal photography"),
            ("2026-04-01", 25, "25% on rough cut"),
            ("2026-10-05", 15, "15% on delivery"),
        ),
    ),
    _project(
        "EP-2601",
        "The Night Desk - Season 1",
        "PROD",
        "Streamline+",
        "episodic",
        "active",
        "2025-11-03",
        "2027-03-31",
        "2650000",
        billing=(
            ("2025-11-10", 25, "25% on greenlight"),
            ("2026-03-02", 25, "25% on start of photography"),
            ("2026-09-01", 25, "25% on principal photography wrap"),
            ("2027-03-31", 25, "25% on season delivery"),
        ),
    ),
    _project(
        "CM-2602",
        "Meridian Air - Holiday spot",
        "PROD",
        "Meridian Air",
        "commercial",
        "active",
        "2026-08-03",
        "2026-12-18",
        "520000",
        billing=_three_tranches("2026-08-10", "2026-10-12", "2026-12-18"),
    ),
    _project(
        "CM-2603",
        "Kestrel Motors - London launch film",
        "PROD",
        "Kestrel Motors UK",
        "commercial",
        "active",
        "2026-06-01",
        "2026-11-30",
        "380000",
        "GBP",
        billing=(
            ("2026-06-08", 40, "40% on award"),
            ("2026-09-14", 40, "40% on shoot wrap"),
            ("2026-11-30", 20, "20% on delivery"),
        ),
    ),
    _project(
        "POD-2604",
        "Studio Sessions podcast - Season 2",
        "AUDIO",
        "Lumen Audio Network",
        "podcast",
        "active",
        "2026-01-05",
        "2026-12-18",
        "180000",
        billing=tuple((f"2026-{m:02d}-05", 1, f"sponsorship {m:02d}/12") for m in range(1, 13)),
        revenue_account="4100",
    ),
    _project(
        "OVH-STUDIO", "Studio operations & overhead", "OPS", "", "overhead", "active", "2025-01-01", "2026-12-31", None
    ),
    _project(
        "BC-2701",
        "Channel 9 - Election night graphics package",
        "POST",
        "Channel 9 News",
        "broadcast",
        "bidding",
        "2026-11-02",
        "2027-06-30",
        "310000",
    ),
)
PROJECTS_BY_CODE = {p.code: p for p in PROJECTS}

# who logs time on which project account (timesheets)
TEAMS = {
    "CM-2501": {"5100": ("P002", "P003", "P004", "P005", "P006", "P007"), "5400": ("P009", "P010", "P012", "P014")},
    "MV-2502": {"5100": ("P002", "P004", "P005", "P006", "P007"), "5400": ("P009", "P011", "P013")},
    "PH-2503": {"5100": ("P017", "P018", "P003"), "5400": ("P012", "P013")},
    "DOC-2504": {"5100": ("P001", "P003", "P004", "P005", "P007"), "5400": ("P009", "P012", "P014", "P016")},
    "EP-2601": {
        "5100": ("P001", "P002", "P003", "P004", "P005", "P006", "P007"),
        "5400": ("P009", "P010", "P011", "P012", "P013", "P014"),
    },
    "CM-2602": {"5100": ("P002", "P003", "P004", "P006"), "5400": ("P009", "P010", "P011")},
    "CM-2603": {"5100": ("P008", "P001", "P005"), "5400": ("P010", "P016")},
    "POD-2604": {"5100": ("P015", "P014", "P016")},
    "OVH-STUDIO": {"5100": ("P019", "P020")},
}

# ----------------------------------------------------------------------------------------------
# budget plans: what each project planned to spend, by account
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    account: str
    amount: Decimal = ZERO  # non-labour total, project currency
    quantity: int = 0  # labour lines: hours or crew-days
    rate: Decimal = ZERO
    unit: str = ""
    window: tuple[str, str] | None = None  # months (YYYY-MM) the money is spent in; default the whole project
    phased: bool = False  # monthly budget lines (with period) instead of one line phased over the project
    by_month: bool = False  # phase equally per month (rent) rather than by calendar days


def _cost(
    account: str, amount: str, window: tuple[str, str] | None = None, phased: bool = False, by_month: bool = False
) -> Plan:
    return Plan(account, Decimal(amount), window=window, phased=phased, by_month=by_month)


def _labour(
    account: str,
    quantity: int,
    rate: str,
    unit: str = "hour",
    window: tuple[str, str] | None = None,
    phased: bool = False,
    by_month: bool = False,
) -> Plan:
    return Plan(
        account, quantity=quantity, rate=Decimal(rate), unit=unit, window=window, phased=phased, by_month=by_month
    )


PLANS: dict[str, tuple[Plan, ...]] = {
    "CM-2501": (
        _labour("5100", 1200, "78.00"),
        _labour("5110", 110, "650.00", "day", ("2025-02", "2025-03")),
        _cost("5200", "42000", ("2025-02", "2025-03")),
        _cost("5210", "28000", ("2025-02", "2025-03")),
        _cost("5300", "24000", ("2025-02", "2025-03")),
        _cost("5310", "9500", ("2025-01", "2025-03")),
        _labour("5400", 320, "82.00", window=("2025-03", "2025-04")),
        _cost("5410", "38000", ("2025-03", "2025-04")),
        _cost("5500", "30000", ("2025-02", "2025-03")),
        _cost("5520", "8500", ("2025-02", "2025-03")),
        _cost("5900", "15000"),
    ),
    "MV-2502": (
        _labour("5100", 380, "64.00"),
        _labour("5110", 30, "600.00", "day", ("2025-04", "2025-04")),
        _cost("5200", "12000", ("2025-04", "2025-04")),
        _cost("5210", "8000", ("2025-04", "2025-04")),
        _cost("5300", "6000", ("2025-04", "2025-04")),
        _labour("5400", 120, "80.00", window=("2025-04", "2025-05")),
        _cost("5410", "9000", ("2025-05", "2025-05")),
        _cost("5520", "2500", ("2025-04", "2025-04")),
        _cost("5900", "3000"),
    ),
    "PH-2503": (
        _labour("5100", 420, "58.00"),
        _cost("5200", "6500", ("2025-07", "2025-07")),
        _cost("5210", "4500", ("2025-07", "2025-07")),
        _cost("5300", "7000", ("2025-07", "2025-07")),
        _labour("5400", 160, "62.00", window=("2025-08", "2025-08")),
        _cost("5500", "9000", ("2025-07", "2025-07")),
        _cost("5520", "1500", ("2025-07", "2025-07")),
        _cost("5900", "2000"),
    ),
    "DOC-2504": (
        _labour("5100", 1800, "72.00"),
        _labour("5110", 60, "700.00", "day", ("2025-06", "2026-03")),
        _cost("5200", "64000", ("2025-06", "2026-05")),
        _cost("5210", "18000", ("2025-06", "2026-05")),
        _cost("5220", "12000", ("2025-06", "2026-05")),
        _cost("5300", "35000", ("2025-06", "2026-05")),
        _cost("5310", "48000", ("2025-05", "2026-05")),
        _labour("5400", 1000, "85.00", window=("2025-11", "2026-09")),
        _cost("5410", "45000", ("2026-04", "2026-09")),
        _cost("5510", "28000", ("2025-09", "2026-08")),
        _cost("5900", "30000"),
    ),
    "EP-2601": (
        _labour("5100", 3800, "82.00", phased=True),
        _labour("5110", 640, "720.00", "day", ("2026-02", "2026-09"), phased=True),
        _cost("5200", "180000", ("2026-02", "2026-09"), phased=True),
        _cost("5210", "120000", ("2026-02", "2026-09"), phased=True),
        _cost("5220", "30000", ("2026-02", "2026-09"), phased=True),
        _cost("5300", "120000", ("2026-01", "2026-09"), phased=True),
        _cost("5310", "60000", ("2025-12", "2026-09"), phased=True),
        _labour("5400", 3900, "88.00", window=("2026-03", "2027-03"), phased=True),
        _cost("5410", "180000", ("2026-05", "2027-03"), phased=True),
        _cost("5500", "280000", ("2026-01", "2026-09"), phased=True),
        _cost("5510", "40000", ("2026-09", "2027-02")),
        _cost("5520", "45000", ("2026-02", "2026-09"), phased=True),
        _cost("5900", "100000"),
    ),
    "CM-2602": (
        _labour("5100", 900, "72.00", phased=True),
        _labour("5110", 140, "680.00", "day", ("2026-09", "2026-10"), phased=True),
        _cost("5200", "48000", ("2026-09", "2026-10"), phased=True),
        _cost("5210", "30000", ("2026-09", "2026-10"), phased=True),
        _cost("5300", "36000", ("2026-09", "2026-10"), phased=True),
        _cost("5310", "12000", ("2026-08", "2026-10"), phased=True),
        _labour("5400", 420, "86.00", window=("2026-10", "2026-12"), phased=True),
        _cost("5410", "60000", ("2026-11", "2026-12"), phased=True),
        _cost("5500", "70000", ("2026-09", "2026-10"), phased=True),
        _cost("5520", "9000", ("2026-09", "2026-10"), phased=True),
        _cost("5900", "25000"),
    ),
    "CM-2603": (  # GBP
        _labour("5100", 600, "68.00", phased=True),
        _labour("5110", 120, "520.00", "day", ("2026-08", "2026-09"), phased=True),
        _cost("5200", "38000", ("2026-08", "2026-09"), phased=True),
        _cost("5210", "26000", ("2026-08", "2026-09"), phased=True),
        _cost("5300", "30000", ("2026-07", "2026-09"), phased=True),
        _cost("5310", "22000", ("2026-07", "2026-09"), phased=True),
        _labour("5400", 240, "70.00", window=("2026-09", "2026-11"), phased=True),
        _cost("5410", "35000", ("2026-10", "2026-11"), phased=True),
        _cost("5500", "45000", ("2026-07", "2026-09"), phased=True),
        _cost("5520", "6000", ("2026-08", "2026-09"), phased=True),
        _cost("5900", "15000"),
    ),
    "POD-2604": (
        _labour("5100", 1440, "58.00", phased=True, by_month=True),
        _cost("5220", "9000"),
        _cost("5410", "14000", phased=True, by_month=True),
        _cost("5500", "12000", phased=True, by_month=True),
        _cost("5510", "6000"),
    ),
    "OVH-STUDIO": (
        _labour("5100", 576, "45.00", phased=True, by_month=True),
        _cost("6100", "444000", phased=True, by_month=True),
        _cost("6200", "100800", phased=True, by_month=True),
        _cost("6300", "126000"),
    ),
    "BC-2701": (
        _labour("5400", 2200, "90.00"),
        _cost("5410", "30000"),
        _cost("5220", "6000"),
        _cost("5900", "15000"),
    ),
}

# when each project's first budget version was approved (the bidding project's is a draft)
ORIGINAL_APPROVED_AT = {
    "CM-2501": "2025-01-10T09:00:00",
    "MV-2502": "2025-02-24T14:30:00",
    "PH-2503": "2025-05-26T10:00:00",
    "DOC-2504": "2025-04-25T16:00:00",
    "EP-2601": "2025-10-24T11:00:00",
    "CM-2602": "2026-07-28T15:15:00",
    "CM-2603": "2026-05-22T12:00:00",
    "POD-2604": "2025-12-19T10:30:00",
    "OVH-STUDIO": "2024-12-16T09:00:00",
}
REFORECAST_APPROVED_AT = {"EP-2601": "2026-06-26T16:30:00", "DOC-2504": "2026-06-26T17:00:00"}

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

# ----------------------------------------------------------------------------------------------
# plan: change orders, transfers, commentary (hand-written, they tell the scenarios' story)
# ----------------------------------------------------------------------------------------------

# id, project, account, issued, status, revenue_amount, budget_amount, description
CHANGE_ORDERS = (
    (
        "CO-001",
        "CM-2501",
        "5300",
        "2025-03-05",
        "approved",
        "18000.00",
        "14000.00",
        "Additional location day requested by client",
    ),
    ("CO-002", "MV-2502", "5410", "2025-05-02", "approved", "6500.00", "5000.00", "Three extra beauty/VFX shots"),
    (
        "CO-003",
        "DOC-2504",
        "5510",
        "2025-12-10",
        "approved",
        "25000.00",
        "20000.00",
        "Archive licensing for the 1964 storm sequence",
    ),
    (
        "CO-004",
        "EP-2601",
        "5110",
        "2026-05-14",
        "proposed",
        "120000.00",
        "95000.00",
        "Two additional shoot days for episodes 105-106 (night exteriors)",
    ),
    (
        "CO-005",
        "EP-2601",
        "5500",
        "2026-03-02",
        "rejected",
        "40000.00",
        "32000.00",
        "Additional guest cast for episode 104",
    ),
    ("CO-006", "CM-2602", "5300", "2026-09-01", "approved", "22000.00", "17500.00", "Second location: aircraft hangar"),
    (
        "CO-007",
        "CM-2603",
        "5310",
        "2026-07-20",
        "approved",
        "12000.00",
        "9000.00",
        "Two extra travel days for the client's US team",
    ),
    ("CO-008", "POD-2604", "5500", "2026-06-10", "proposed", "8000.00", "5000.00", "Live episode guest fees"),
    ("CO-009", "PH-2503", "5400", "2025-07-21", "rejected", "3500.00", "2400.00", "Extra retouching round"),
)

# id, requested_at, from project, from account, to project, to account, amount, justification,
# requested_by, approved_by, approver_role
BUDGET_TRANSFERS = (
    (
        "TR-001",
        "2025-03-18T11:20:00",
        "CM-2501",
        "5900",
        "CM-2501",
        "5300",
        "4500.00",
        "Permit fees for the second location",
        "P002",
        "P001",
        "producer",
    ),
    (
        "TR-002",
        "2025-08-27T15:05:00",
        "DOC-2504",
        "5900",
        "DOC-2504",
        "5310",
        "8000.00",
        "Second research trip to the coastal towns",
        "P001",
        "P020",
        "finance_director",
    ),
    (
        "TR-003",
        "2026-04-02T09:40:00",
        "DOC-2504",
        "5200",
        "DOC-2504",
        "5410",
        "12000.00",
        "Release camera rental underspend to colour & mix",
        "P001",
        "P020",
        "finance_director",
    ),
    (
        "TR-004",
        "2026-07-15T10:00:00",
        "OVH-STUDIO",
        "6200",
        "POD-2604",
        "5220",
        "3000.00",
        "Remote recording kit funded from unused software seats",
        "P015",
        "P020",
        "finance_director",
    ),
    (
        "TR-005",
        "2026-08-20T16:45:00",
        "EP-2601",
        "5900",
        "EP-2601",
        "5110",
        "25000.00",
        "Day players above reforecast (night shoots)",
        "P002",
        "STUDIO_HEAD",
        "studio_head",
    ),
    (
        "TR-006",
        "2026-09-10T14:30:00",
        "CM-2603",
        "5900",
        "CM-2603",
        "5310",
        "6000.00",
        "London hotel rates above the bid",
        "P008",
        "P001",
        "producer",
    ),
    (
        "TR-007",
        "2026-10-06T12:10:00",
        "CM-2602",
        "5900",
        "CM-2602",
        "5510",
        "18500.00",
        "Music licence requested by the client (not in the bid)",
        "P002",
        "",
        "",
    ),
)

# period, project, account, root_cause, persistence, explanation, corrective_action, author, written_at
COMMENTARY = (
    (
        "2025-03",
        "OVH-STUDIO",
        "6300",
        "timing",
        "one_time",
        "Annual insurance premium paid in full in March; the budget is phased evenly over the year.",
        "none",
        "P020",
        "2025-04-08T10:15:00",
    ),
    (
        "2025-03",
        "CM-2501",
        "5300",
        "scope",
        "one_time",
        "Client added a location day (CO-001 approved); permits covered by a transfer from contingency.",
        "none",
        "P002",
        "2025-04-09T09:30:00",
    ),
    (
        "2025-08",
        "DOC-2504",
        "5310",
        "volume",
        "one_time",
        "Second research trip to Ketchikan and Sitka before the shoot blocks.",
        "budget_transfer",
        "P001",
        "2025-09-05T14:00:00",
    ),
    (
        "2026-02",
        "DOC-2504",
        "5200",
        "scope",
        "structural",
        "Second half shot on the studio-owned FX6 kit instead of rented Alexa packages; camera rental will "
        "finish well under budget.",
        "budget_transfer",
        "P001",
        "2026-03-10T11:45:00",
    ),
    (
        "2026-03",
        "OVH-STUDIO",
        "6300",
        "timing",
        "one_time",
        "2026-27 insurance renewal paid in March as every year.",
        "none",
        "P020",
        "2026-04-07T16:20:00",
    ),
    (
        "2026-05",
        "EP-2601",
        "5100",
        "volume",
        "structural",
        "Episodes 103-104 each needed an extra shoot day and overtime on night exteriors; reforecast V2 raises "
        "crew from July.",
        "reforecast",
        "P002",
        "2026-06-09T10:00:00",
    ),
    (
        "2026-08",
        "EP-2601",
        "5100",
        "volume",
        "structural",
        "Overtime still above the reforecast: night shoots for episodes 107-108 and retakes on 106.",
        "spending_adjustment",
        "P002",
        "2026-09-08T09:15:00",
    ),
    (
        "2026-08",
        "EP-2601",
        "5110",
        "price",
        "temporary",
        "Day-player rates rose with the crew agreement renewal; covered in part by a transfer from contingency.",
        "budget_transfer",
        "P001",
        "2026-09-08T09:40:00",
    ),
    (
        "2026-09",
        "CM-2603",
        "5310",
        "price",
        "temporary",
        "Hotel rates during London Fashion Week were above the bid.",
        "spending_adjustment",
        "P008",
        "2026-10-05T13:10:00",
    ),
    (
        "2026-09",
        "CM-2602",
        "5510",
        "scope",
        "one_time",
        "Client asked for a licensed track that was not in the bid; transfer from contingency requested.",
        "budget_transfer",
        "P002",
        "2026-10-07T08:50:00",
    ),
)

# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def fmt_money(value: Decimal | None) -> str:
    return "" if value is None else str(money(value))


def fmt_qty(value: Decimal | int | None) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f")


def fmt_ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def period(month: date) -> str:
    return month.strftime("%Y-%m")


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def month_range(first: date, last: date) -> list[date]:
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def span_days(lo: date, hi: date) -> int:
    """Calendar days from lo to hi, both included (0 when hi < lo)."""
    return max(0, (hi - lo).days + 1)


def split_money(total: Decimal, weights: list[int] | list[Decimal]) -> list[Decimal]:
    """Split total by weights into cents; the last part takes the rounding."""
    whole = sum(weights)
    parts = [money(total * Decimal(w) / Decimal(whole)) for w in weights[:-1]]
    return [*parts, money(total) - sum(parts, ZERO)]


def split_int(total: int, weights: list[int]) -> list[int]:
    """Split an integer by weights (largest remainder)."""
    whole = sum(weights)
    exact = [Decimal(total) * w / whole for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def labour_cost(
    regular: Decimal, overtime: Decimal, multiplier: Decimal | None, rate: Decimal, fringe: Decimal | None
) -> Decimal:
    """SPEC §4: (regular + overtime x multiplier) x rate x (1 + fringe/100); defaults 1.5 and 0."""
    multiplier = Decimal("1.5") if multiplier is None else multiplier
    fringe = ZERO if fringe is None else fringe
    return (regular + overtime * multiplier) * rate * (1 + fringe / 100)


def _window(project: Project, window: tuple[str, str] | None) -> tuple[date, date]:
    if window is None:
        return project.start, project.end
    lo = max(project.start, _d(window[0] + "-01"))
    hi = min(project.end, month_end(_d(window[1] + "-01")))
    return lo, hi


# ----------------------------------------------------------------------------------------------
# budgets
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    account: str
    period: date | None  # None: phased over the project's dates
    amount: Decimal
    quantity: int | None = None
    unit: str = ""
    rate: Decimal | None = None
    window: tuple[date, date] | None = None  # unphased lines: when the money is actually spent


@dataclass(frozen=True)
class Version:
    project: Project
    name: str
    status: str
    approved_at: str
    lines: tuple[BudgetLine, ...]


def _plan_lines(project: Project, plan: Plan) -> list[BudgetLine]:
    lo, hi = _window(project, plan.window)
    if not plan.phased:
        if plan.unit:
            return [
                BudgetLine(plan.account, None, plan.quantity * plan.rate, plan.quantity, plan.unit, plan.rate, (lo, hi))
            ]
        return [BudgetLine(plan.account, None, plan.amount, window=(lo, hi))]
    months = month_range(lo, hi)
    weights = [1] * len(months) if plan.by_month else [span_days(max(m, lo), min(month_end(m), hi)) for m in months]
    if plan.unit:
        quantities = split_int(plan.quantity, weights)
        return [
            BudgetLine(plan.account, m, q * plan.rate, q, plan.unit, plan.rate)
            for m, q in zip(months, quantities, strict=True)
            if q
        ]
    return [BudgetLine(plan.account, m, a) for m, a in zip(months, split_money(plan.amount, weights), strict=True) if a]


def _billing(project: Project) -> list[tuple[date, Decimal, str]]:
    assert project.contract_value is not None
    amounts = split_money(project.contract_value, [w for _, w, _ in project.billing])
    return [(_d(when), amount, label) for (when, _, label), amount in zip(project.billing, amounts, strict=True)]


def _revenue_lines(project: Project) -> list[BudgetLine]:
    """Revenue is budgeted in the months the client is billed (one unphased line for a bid)."""
    if project.contract_value is None:
        return []
    if not project.billing:
        return [BudgetLine(project.revenue_account, None, project.contract_value, window=(project.start, project.end))]
    by_month: dict[date, Decimal] = {}
    for when, amount, _ in _billing(project):
        by_month[month_of(when)] = by_month.get(month_of(when), ZERO) + amount
    return [BudgetLine(project.revenue_account, m, a) for m, a in by_month.items()]


def _original_lines(project: Project) -> list[BudgetLine]:
    return [line for plan in PLANS[project.code] for line in _plan_lines(project, plan)] + _revenue_lines(project)


def _reforecast_night_desk(lines: list[BudgetLine]) -> list[BudgetLine]:
    """V2: crew hours +12% from July 2026 and +8 day-player days a month Jul-Sep, paid from contingency."""
    out, extra = [], ZERO
    for line in lines:
        new = line
        if line.account == "5100" and line.period and line.period >= date(2026, 7, 1):
            quantity = int((Decimal(line.quantity or 0) * Decimal("1.12")).to_integral_value(ROUND_HALF_UP))
            new = replace(line, quantity=quantity, amount=quantity * (line.rate or ZERO))
        elif line.account == "5110" and line.period and date(2026, 7, 1) <= line.period <= date(2026, 9, 1):
            quantity = (line.quantity or 0) + 8
            new = replace(line, quantity=quantity, amount=quantity * (line.rate or ZERO))
        extra += new.amount - line.amount
        out.append(new)
    return [replace(line, amount=line.amount - extra) if line.account == "5900" else line for line in out]


def _reforecast_saltwater(lines: list[BudgetLine]) -> list[BudgetLine]:
    """V2: festival version adds colour & mix and archive; paid from contingency. Equipment unchanged."""
    delta = {"5410": Decimal(15000), "5510": Decimal(10000), "5900": Decimal(-25000)}
    return [replace(line, amount=line.amount + delta.get(line.account, ZERO)) for line in lines]


REFORECASTS = {"EP-2601": _reforecast_night_desk, "DOC-2504": _reforecast_saltwater}


def build_versions() -> dict[str, list[Version]]:
    """Every project's budget versions, oldest first (the last approved one is current)."""
    versions: dict[str, list[Version]] = {}
    for project in PROJECTS:
        lines = _original_lines(project)
        if project.status == "bidding":
            versions[project.code] = [Version(project, "V1-draft", "draft", "", tuple(lines))]
            continue
        status = "locked" if project.status == "closed" or project.project_type == "overhead" else "approved"
        found = [Version(project, "V1-original", status, ORIGINAL_APPROVED_AT[project.code], tuple(lines))]
        if project.code in REFORECASTS:
            found.append(
                Version(
                    project,
                    "V2-reforecast",
                    "approved",
                    REFORECAST_APPROVED_AT[project.code],
                    tuple(REFORECASTS[project.code](lines)),
                )
            )
        versions[project.code] = found
    return versions


def _budget_rows(versions: list[Version]) -> list[dict[str, str]]:
    rows = []
    for version in versions:
        for line in version.lines:
            rows.append(
                {
                    "budget_version": version.name,
                    "version_status": version.status,
                    "project_code": version.project.code,
                    "account_code": line.account,
                    "period": period(line.period) if line.period else "",
                    "amount": fmt_money(line.amount),
                    "currency": version.project.currency,
                    "quantity": fmt_qty(line.quantity),
                    "unit": line.unit,
                    "rate": fmt_money(line.rate),
                    "approved_at": version.approved_at,
                }
            )
    return rows


# ----------------------------------------------------------------------------------------------
# production: tasks, their status history, dependencies, milestones
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    name: str
    department: str
    start: date
    due: date
    estimate: int
    depends: tuple[int, ...] = ()  # indices of earlier tasks of the same project
    priority: int | None = None
    omitted: bool = False
    pace: float | None = None  # actual / planned duration; None draws one


# name, department, start and due as fractions of the project's span, estimate hours, depends, priority
_Template = tuple[str, str, float, float, int, tuple[int, ...], int | None]
COMMERCIAL_TASKS: tuple[_Template, ...] = (
    ("Treatment & bid approval", "PROD", 0.00, 0.06, 12, (), 1),
    ("Script breakdown & schedule", "PROD", 0.04, 0.12, 16, (), None),
    ("Casting", "PROD", 0.10, 0.25, 24, (), None),
    ("Location scout & permits", "PROD", 0.10, 0.28, 30, (), None),
    ("Crew & kit booking", "PROD", 0.18, 0.30, 12, (), None),
    ("Shoot", "PROD", 0.32, 0.42, 80, (2, 3), 1),
    ("Dailies & media management", "POST", 0.33, 0.45, 20, (), None),
    ("Offline edit", "POST", 0.44, 0.62, 70, (5,), None),
    ("Client review & revisions", "PROD", 0.62, 0.70, 10, (), None),
    ("Picture lock", "POST", 0.70, 0.73, 6, (7,), 1),
    ("Colour grade", "POST", 0.73, 0.84, 30, (9,), None),
    ("VFX & clean-up", "POST", 0.73, 0.88, 45, (9,), None),
    ("Sound design & mix", "AUDIO", 0.76, 0.90, 24, (), None),
    ("Deliverables & QC", "POST", 0.90, 0.98, 14, (10, 11), 1),
)
MUSIC_VIDEO_TASKS: tuple[_Template, ...] = (
    ("Treatment & artist approval", "PROD", 0.00, 0.10, 10, (), 1),
    ("Casting dancers", "PROD", 0.08, 0.25, 16, (), None),
    ("Location & set build", "PROD", 0.10, 0.30, 30, (), None),
    ("Shoot", "PROD", 0.32, 0.40, 40, (1, 2), 1),
    ("Offline edit", "POST", 0.40, 0.60, 40, (3,), None),
    ("VFX & beauty work", "POST", 0.55, 0.80, 45, (4,), None),
    ("Colour grade", "POST", 0.75, 0.88, 16, (4,), None),
    ("Artist & label review", "PROD", 0.80, 0.90, 4, (), None),
    ("Final delivery", "POST", 0.90, 0.98, 8, (5,), 1),
)
PHOTO_TASKS: tuple[_Template, ...] = (
    ("Moodboard & shot list", "PHOTO", 0.00, 0.12, 12, (), None),
    ("Model casting", "PHOTO", 0.08, 0.30, 16, (), None),
    ("Studio & location booking", "PHOTO", 0.10, 0.30, 6, (), None),
    ("Styling & props", "PHOTO", 0.20, 0.40, 20, (), None),
    ("Shoot day 1", "PHOTO", 0.40, 0.43, 10, (1, 3), 1),
    ("Shoot day 2", "PHOTO", 0.44, 0.47, 10, (4,), 1),
    ("Selects & client picks", "PHOTO", 0.48, 0.58, 8, (), None),
    ("Retouching", "POST", 0.58, 0.85, 60, (6,), None),
    ("Client review", "PHOTO", 0.85, 0.92, 4, (), None),
    ("Final delivery", "PHOTO", 0.92, 0.99, 6, (), 1),
)
DOCUMENTARY_TASKS: tuple[_Template, ...] = (
    ("Research & story development", "PROD", 0.00, 0.10, 80, (), 1),
    ("Access & releases", "PROD", 0.03, 0.15, 30, (), None),
    ("Broadcaster deck", "PROD", 0.05, 0.12, 20, (), None),
    ("Research trip", "PROD", 0.08, 0.12, 40, (), None),
    ("Shoot block 1 - Astoria", "PROD", 0.12, 0.18, 90, (3,), 1),
    ("Shoot block 2 - Ketchikan", "PROD", 0.22, 0.28, 90, (4,), 1),
    ("Shoot block 3 - Port Townsend", "PROD", 0.32, 0.38, 90, (), 1),
    ("Shoot block 4 - Sitka", "PROD", 0.42, 0.48, 90, (), 1),
    ("Pickups", "PROD", 0.55, 0.60, 60, (), None),
    ("Transcription & logging", "POST", 0.15, 0.55, 60, (), None),
    ("Archive research", "POST", 0.20, 0.50, 50, (), None),
    ("Assembly edit", "POST", 0.50, 0.62, 160, (7,), None),
    ("Rough cut", "POST", 0.62, 0.72, 120, (11,), 1),
    ("Broadcaster notes", "PROD", 0.72, 0.75, 6, (), None),
    ("Fine cut", "POST", 0.75, 0.84, 100, (12, 13), 1),
    ("Archive licensing clearance", "PROD", 0.60, 0.86, 24, (10,), None),
    ("Original score", "AUDIO", 0.70, 0.88, 60, (), None),
    ("Colour grade", "POST", 0.85, 0.92, 40, (14,), None),
    ("Sound mix", "AUDIO", 0.86, 0.94, 50, (14,), None),
    ("Graphics & titles", "POST", 0.80, 0.92, 30, (), None),
    ("Festival deliverables", "POST", 0.93, 0.99, 20, (), None),
    ("Broadcaster delivery QC", "POST", 0.95, 1.00, 12, (), 1),
)
TEMPLATES = {
    "commercial": COMMERCIAL_TASKS,
    "music_video": MUSIC_VIDEO_TASKS,
    "photo": PHOTO_TASKS,
    "documentary": DOCUMENTARY_TASKS,
}
OMITTED_TASKS = {("MV-2502", "Social cut-downs")}


def _templated_specs(project: Project, template: tuple[_Template, ...]) -> list[TaskSpec]:
    span = (project.end - project.start).days
    specs = []
    for name, dept, lo, hi, estimate, depends, priority in template:
        start = project.start + timedelta(days=round(span * lo))
        due = max(start, project.start + timedelta(days=round(span * hi)))
        specs.append(TaskSpec(name, dept, start, due, estimate, depends, priority))
    if project.code == "MV-2502":  # planned, then dropped by the label
        specs.append(
            TaskSpec("Social cut-downs", "POST", project.end - timedelta(days=10), project.end, 12, omitted=True)
        )
    return specs


def _episodic_specs() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    for n in range(8):
        ep, shoot, base = f"Ep{101 + n}", date(2026, 2, 2) + timedelta(days=28 * n), len(specs)

        def day(k: int, shoot: date = shoot) -> date:
            return shoot + timedelta(days=k)

        specs += [
            TaskSpec(f"{ep} prep & scripts", "PROD", day(-21), day(-1), 60),
            TaskSpec(f"{ep} shoot", "PROD", shoot, day(23), 200, (), 1),
            TaskSpec(f"{ep} offline edit", "POST", day(24), day(51), 120, (base + 1,)),
            # episode 106's VFX runs long and holds up its online (an open blocker at the as-of date)
            TaskSpec(f"{ep} VFX shots", "POST", day(30), day(72), 90, pace=2.6 if n == 5 else None),
            TaskSpec(f"{ep} online, colour & mix", "POST", day(73), day(86), 60, (base + 2, base + 3), 1),
        ]
    return specs


def _podcast_specs(project: Project) -> list[TaskSpec]:
    specs = []
    for n in range(7):
        record = project.start + timedelta(days=14 + 48 * n)
        specs.append(TaskSpec(f"S2E{n + 1:02d} record", "AUDIO", record, record + timedelta(days=2), 10, (), 2))
        specs.append(
            TaskSpec(f"S2E{n + 1:02d} edit & mix", "AUDIO", record + timedelta(days=3), record + timedelta(days=16), 24)
        )
    return specs


OVERHEAD_SPECS = (
    TaskSpec("Insurance renewal 2025-26", "OPS", _d("2025-02-03"), _d("2025-02-28"), 16, (), 1),
    TaskSpec("Studio network upgrade", "OPS", _d("2025-06-02"), _d("2025-07-18"), 40),
    TaskSpec("FY2025 year-end close", "OPS", _d("2026-01-05"), _d("2026-01-30"), 60, (), 1),
    TaskSpec("Insurance renewal 2026-27", "OPS", _d("2026-02-02"), _d("2026-02-27"), 16, (), 1),
    TaskSpec("FY2027 budget planning", "OPS", _d("2026-09-14"), _d("2026-11-20"), 50),
    TaskSpec("Fire safety inspection", "OPS", _d("2026-10-19"), _d("2026-10-23"), 6, (), 3),
)


def task_specs(project: Project) -> list[TaskSpec]:
    if project.project_type in TEMPLATES:
        return _templated_specs(project, TEMPLATES[project.project_type])
    if project.project_type == "episodic":
        return _episodic_specs()
    if project.project_type == "podcast":
        return _podcast_specs(project)
    if project.project_type == "overhead":
        return list(OVERHEAD_SPECS)
    return []  # nothing scheduled while bidding


@dataclass
class Task:
    task_id: str
    project: Project
    spec: TaskSpec
    owner: str
    priority: int
    created_at: datetime
    events: list[tuple[str, datetime]] = field(default_factory=list)
    finished: date | None = None  # done on or before the as-of date


# (name, fraction of the project span or ISO date, delay in days or None to draw one)
MILESTONES: dict[str, tuple[tuple[str, float | str, int | None], ...]] = {
    "CM-2501": (("Contract signed", 0.0, 0), ("Shoot wrap", 0.42, None), ("Final delivery", 0.98, None)),
    "MV-2502": (("Treatment approved", 0.10, None), ("Shoot wrap", 0.40, None), ("Final delivery", 0.98, None)),
    "PH-2503": (("Shoot complete", 0.47, None), ("Final selects delivered", 0.99, 0)),
    "DOC-2504": (
        ("Principal photography wrap", 0.60, None),
        ("Picture lock", 0.84, None),
        ("Broadcaster delivery", 1.0, 0),
    ),
    "EP-2601": (
        ("Scripts locked", "2026-01-23", 5),
        ("Block 1 wrap (eps 101-104)", "2026-05-20", 6),
        ("Principal photography wrap", "2026-09-09", 9),
        ("Eps 101-104 delivered", "2026-08-31", 12),
        ("Season delivery", "2027-03-31", None),
    ),
    "CM-2602": (("Contract signed", 0.0, 0), ("Shoot wrap", "2026-10-09", 2), ("Final delivery", 0.98, None)),
    "CM-2603": (
        ("Contract signed", 0.0, 1),
        ("Shoot wrap", "2026-09-11", 0),
        ("Picture lock", "2026-10-23", None),
        ("Final delivery", 0.98, None),
    ),
    "POD-2604": (
        ("Season launch", "2026-02-03", 0),
        ("Mid-season sponsor review", "2026-06-30", 3),
        ("Season finale", "2026-12-15", None),
    ),
    "OVH-STUDIO": (
        ("FY2025 books closed", "2026-01-30", 4),
        ("Insurance renewed 2026-27", "2026-03-02", 0),
        ("FY2027 budget approved", "2026-11-20", None),
    ),
    "BC-2701": (("Award decision", "2026-11-02", None),),
}

# ----------------------------------------------------------------------------------------------
# actuals: the records generated from the budgets
# ----------------------------------------------------------------------------------------------


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


class Studio:
    """Builds every landing table of the sample from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fx = self._fx_rates()
        self.versions = build_versions()
        self.tasks: list[Task] = []
        self.entries: list[Entry] = []
        self.rentals: list[Rental] = []
        self.invoices: list[Invoice] = []
        self.purchase_orders: list[PurchaseOrder] = []
        self.gl: list[GLLine] = []
        self.hours_booked: dict[tuple[str, date], Decimal] = {}

    # -- reference -----------------------------------------------------------------------------

    def _fx_rates(self) -> dict[tuple[str, date], Decimal]:
        rates: dict[tuple[str, date], Decimal] = {}
        walk = {"GBP": (1.27, 1.25, 1.32), "EUR": (1.08, 1.05, 1.12)}
        for month in month_range(*FX_MONTHS):
            rates[("USD", month)] = Decimal(1)
            for currency, (level, lo, hi) in walk.items():
                level = min(hi, max(lo, level + self.rng.uniform(-0.011, 0.011)))
                walk[currency] = (level, lo, hi)
                rates[(currency, month)] = Decimal(str(round(level, 4)))
        return rates

    def to_currency(self, amount: Decimal, source: str, target: str, day: date) -> Decimal:
        month = month_of(day)
        return amount * self.fx[(source, month)] / self.fx[(target, month)]

    def current(self, project: Project) -> Version | None:
        approved = [v for v in self.versions[project.code] if v.status in ("approved", "locked")]
        return approved[-1] if approved else None

    # -- production ----------------------------------------------------------------------------

    def build_tasks(self) -> None:
        for project in PROJECTS:
            finished: list[date | None] = []
            for spec in task_specs(project):
                task = self._new_task(project, spec, len(self.tasks) + 1)
                self._simulate(task, [finished[j] for j in spec.depends])
                finished.append(task.finished)
                self.tasks.append(task)

    def _new_task(self, project: Project, spec: TaskSpec, number: int) -> Task:
        team = [
            p
            for ids in TEAMS.get(project.code, {}).values()
            for p in ids
            if PEOPLE_BY_ID[p].department == spec.department
        ]
        owners = team or [p.person_id for p in PEOPLE if p.department == spec.department]
        created = spec.start - timedelta(days=self.rng.randint(3, 21))
        created = max(project.start, min(created, AS_OF - timedelta(days=self.rng.randint(1, 20))))
        priority = spec.priority or self.rng.choices((1, 2, 3, 4), (10, 40, 35, 15))[0]
        created_at = datetime.combine(created, time(8, self.rng.randint(0, 59)))
        return Task(f"TSK-{number:04d}", project, spec, self.rng.choice(owners), priority, created_at)

    def _simulate(self, task: Task, dependencies: list[date | None]) -> None:
        """Status history up to the as-of date: todo -> in_progress -> review (-> retake ...) -> done."""
        spec, project = task.spec, task.project
        task.events = [("todo", task.created_at)]
        started = datetime.combine(spec.start, time(10, self.rng.randint(0, 59)))
        if spec.omitted:
            if spec.start <= AS_OF:
                task.events.append(("omitted", started))
            return
        if any(d is None for d in dependencies):  # waiting on unfinished work
            if spec.start <= AS_OF:
                task.events.append(("blocked", started))
            return
        ready = max([spec.start] + [d + timedelta(days=1) for d in dependencies if d is not None])
        if ready > AS_OF:
            return
        if ready > spec.start:
            task.events.append(("blocked", started))
        retake_odds = 0.35 if project.code == "EP-2601" else 0.12
        retakes = (2 if self.rng.random() < 0.2 else 1) if self.rng.random() < retake_odds else 0
        stalled = self.rng.random() < 0.07
        steps = ["in_progress"] + (["blocked", "in_progress"] if stalled else []) + ["review"]
        steps += ["retake", "in_progress", "review"] * retakes + ["done"]
        pace = spec.pace or self.rng.uniform(0.75, 1.35)
        days = max(1, round((spec.due - spec.start).days * pace)) + 3 * retakes + (3 if stalled else 0)
        if project.status in ("closed", "wrapped"):  # a finished project's work ended by its end date
            days = max(0, min(days, (project.end - ready).days))
        # spread the steps over the working days from ready to end, each within office hours
        for i, status in enumerate(steps):
            day = ready + timedelta(days=round(days * i / (len(steps) - 1)))
            minute = 5 + self.rng.randint(0, 40) if i == 0 else 60 + self.rng.randint(0, 420)
            stamp = max(
                datetime.combine(day, time(9)) + timedelta(minutes=minute), task.events[-1][1] + timedelta(minutes=20)
            )
            if stamp > CUTOFF:
                break
            task.events.append((status, stamp))
        if task.events[-1][0] == "done":
            task.finished = task.events[-1][1].date()

    # -- actuals -------------------------------------------------------------------------------

    def build_actuals(self) -> None:
        for project in PROJECTS:
            version = self.current(project)
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
        self._purchase_orders()
        self._plant_unbudgeted_spend()
        self._plant_reversals()
        self._number_ledger()

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
                month = month_of(_d(issued))
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
                cost = self.to_currency(entry.cost, person.currency, project.currency, day)
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
                currency, share = "EUR", self.to_currency(share, project.currency, "EUR", start)
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
        tranches = _billing(project)
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
            billed = _d(issued) + timedelta(days=21)
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
                _d("2025-03-03"),
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
                _d("2026-03-02"),
                code,
                "6300",
                "Beacon Mutual Insurance",
                "Annual studio & production package policy 2026-27",
                Decimal("64250.00"),
                "USD",
            )
        )

    def _number_records(self) -> None:
        self.entries.sort(key=lambda e: (e.work_date, e.person.person_id, e.project.code, e.account))
        for n, entry in enumerate(self.entries, start=1):
            entry.entry_id = f"TS-{n:06d}"
        self.rentals.sort(key=lambda r: (r.start, r.project.code, r.account, r.item))
        for n, rental in enumerate(self.rentals, start=1):
            rental.rental_id = f"RNT-{n:04d}"
        self.invoices.sort(key=lambda i: (i.invoice_date, i.project.code, i.account, i.vendor, i.amount))
        for n, invoice in enumerate(self.invoices, start=1):
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
        version = self.current(project)
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
            if invoice.account in PO_ACCOUNTS:
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
        self.purchase_orders = [order for order, _ in orders]

    def _plant_unbudgeted_spend(self) -> None:
        """Scenario 3: a music licence on a project that never budgeted music (5510)."""
        self.gl.append(
            GLLine(
                _d("2026-09-22"),
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
                _d("2026-10-08"),
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
            _d("2026-02-11"),
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
                posted=_d("2026-02-24"),
                amount=-wrong.amount,
                description="posted to the wrong project (belongs to DOC-2504)",
                reverses=wrong,
            )
        )
        self.gl.append(
            replace(
                wrong,
                posted=_d("2026-02-24"),
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

    # -- rows per source -----------------------------------------------------------------------

    def departments(self) -> list[dict[str, str]]:
        return [
            {"department_code": code, "department_name": name, "owner_email": f"{owner}@{DOMAIN}"}
            for code, name, owner in DEPARTMENTS
        ]

    def projects(self) -> list[dict[str, str]]:
        return [
            {
                "project_code": p.code,
                "project_name": p.name,
                "department_code": p.department,
                "client": p.client,
                "project_type": p.project_type,
                "status": p.status,
                "start_date": p.start.isoformat(),
                "end_date": p.end.isoformat(),
                "contract_value": fmt_money(p.contract_value),
                "currency": p.currency,
            }
            for p in PROJECTS
        ]

    def accounts(self) -> list[dict[str, str]]:
        return [
            {"account_code": code, "account_name": name, "category": category, "account_type": kind}
            for code, name, category, kind in ACCOUNTS
        ]

    def fx_rates(self) -> list[dict[str, str]]:
        return [
            {"currency": currency, "period": period(month), "rate_to_base": fmt_qty(rate)}
            for (currency, month), rate in sorted(self.fx.items())
        ]

    def people(self) -> list[dict[str, str]]:
        return [
            {
                "person_id": p.person_id,
                "person_name": p.name,
                "department_code": p.department,
                "worker_type": p.worker_type,
                "weekly_capacity_hours": str(p.capacity),
                "hourly_rate": fmt_money(p.rate),
                "currency": p.currency,
            }
            for p in PEOPLE
        ]

    def budgets(self, reforecast: bool) -> list[dict[str, str]]:
        versions = [v for found in self.versions.values() for v in found if (v.name == "V2-reforecast") == reforecast]
        return _budget_rows(versions)

    def change_orders(self) -> list[dict[str, str]]:
        return [
            {
                "change_order_id": co_id,
                "project_code": code,
                "account_code": account,
                "issued_date": issued,
                "status": status,
                "revenue_amount": revenue,
                "budget_amount": budget,
                "currency": PROJECTS_BY_CODE[code].currency,
                "description": description,
            }
            for co_id, code, account, issued, status, revenue, budget, description in CHANGE_ORDERS
        ]

    def budget_transfers(self) -> list[dict[str, str]]:
        def who(person: str) -> str:
            return STUDIO_HEAD if person == "STUDIO_HEAD" else (_email(person) if person else "")

        return [
            {
                "transfer_id": tid,
                "requested_at": at,
                "from_project_code": src,
                "from_account_code": src_account,
                "to_project_code": dst,
                "to_account_code": dst_account,
                "amount": amount,
                "currency": PROJECTS_BY_CODE[src].currency,
                "justification": why,
                "requested_by": who(by),
                "approved_by": who(approver),
                "approver_role": role,
            }
            for tid, at, src, src_account, dst, dst_account, amount, why, by, approver, role in BUDGET_TRANSFERS
        ]

    def gl_actuals(self, year: int) -> list[dict[str, str]]:
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
            for g in self.gl
            if g.posted.year == year
        ]

    def timesheets(self) -> list[dict[str, str]]:
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
            for e in self.entries
        ]

    def equipment_rentals(self) -> list[dict[str, str]]:
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
            for r in self.rentals
        ]

    def invoices_rows(self) -> list[dict[str, str]]:
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
            for i in self.invoices
        ]

    def purchase_orders_rows(self) -> list[dict[str, str]]:
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
            for o in self.purchase_orders
        ]

    def variance_commentary(self) -> list[dict[str, str]]:
        return [
            {
                "period": when,
                "project_code": code,
                "account_code": account,
                "root_cause": cause,
                "persistence": persistence,
                "explanation": text,
                "corrective_action": action,
                "author": _email(author),
                "written_at": written,
            }
            for when, code, account, cause, persistence, text, action, author, written in COMMENTARY
        ]

    def tasks_rows(self) -> list[dict[str, str]]:
        return [
            {
                "task_id": t.task_id,
                "project_code": t.project.code,
                "department_code": t.spec.department,
                "task_name": t.spec.name,
                "owner_person_id": t.owner,
                "priority": str(t.priority),
                "estimate_hours": str(t.spec.estimate),
                "start_date": t.spec.start.isoformat(),
                "due_date": t.spec.due.isoformat(),
                "created_at": fmt_ts(t.created_at),
            }
            for t in self.tasks
        ]

    def task_events(self) -> list[dict[str, str]]:
        return [
            {"task_id": t.task_id, "status": status, "changed_at": fmt_ts(at)}
            for t in self.tasks
            for status, at in t.events
        ]

    def task_dependencies(self) -> list[dict[str, str]]:
        rows = []
        for project in PROJECTS:
            tasks = [t for t in self.tasks if t.project is project]
            for task in tasks:
                for j in task.spec.depends:
                    rows.append({"task_id": task.task_id, "depends_on_task_id": tasks[j].task_id})
        return rows

    def milestones(self) -> list[dict[str, str]]:
        rows = []
        for project in PROJECTS:
            span = (project.end - project.start).days
            for name, when, delay in MILESTONES.get(project.code, ()):
                planned = _d(when) if isinstance(when, str) else project.start + timedelta(days=round(span * when))
                if delay is None:
                    delay = self.rng.choice((-2, 0, 0, 1, 3, 5, 8))
                actual = planned + timedelta(days=delay)
                if project.status in ("closed", "wrapped"):
                    actual = min(actual, project.end)
                rows.append(
                    {
                        "project_code": project.code,
                        "milestone": name,
                        "planned_date": planned.isoformat(),
                        "actual_date": actual.isoformat() if planned <= AS_OF and actual <= AS_OF else "",
                    }
                )
        return rows

    def tables(self) -> dict[str, tuple[str, list[dict[str, str]]]]:
        """Landing file name -> (source, rows), in the order they are written."""
        self.build_tasks()
        self.build_actuals()
        return {
            "departments.csv": ("departments", self.departments()),
            "projects.csv": ("projects", self.projects()),
            "accounts.csv": ("accounts", self.accounts()),
            "fx_rates.csv": ("fx_rates", self.fx_rates()),
            "people.csv": ("people", self.people()),
            "budgets_original.csv": ("budgets", self.budgets(reforecast=False)),
            "budgets_reforecast_2026q2.csv": ("budgets", self.budgets(reforecast=True)),
            "change_orders.csv": ("change_orders", self.change_orders()),
            "budget_transfers.csv": ("budget_transfers", self.budget_transfers()),
            "gl_actuals_2025.parquet": ("gl_actuals", self.gl_actuals(2025)),
            "gl_actuals_2026.csv": ("gl_actuals", self.gl_actuals(2026)),
            "timesheets.csv": ("timesheets", self.timesheets()),
            "equipment_rentals.csv": ("equipment_rentals", self.equipment_rentals()),
            "invoices.csv": ("invoices", self.invoices_rows()),
            "purchase_orders.csv": ("purchase_orders", self.purchase_orders_rows()),
            "variance_commentary.csv": ("variance_commentary", self.variance_commentary()),
            "tasks.csv": ("tasks", self.tasks_rows()),
            "task_events.csv": ("task_events", self.task_events()),
            "task_dependencies.csv": ("task_dependencies", self.task_dependencies()),
            "milestones.csv": ("milestones", self.milestones()),
        }


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------

PARQUET_TYPES = {DATE: "DATE", MONEY: "DECIMAL(18,2)"}  # everything else lands as VARCHAR


def _write_csv(path: Path, source: Source, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(source.column_names)
        for row in rows:
            writer.writerow([row[name] for name in source.column_names])


def _write_parquet(path: Path, source: Source, rows: list[dict[str, str]]) -> None:
    """Typed Parquet (dates DATE, amounts DECIMAL(18,2), text VARCHAR) written by DuckDB."""
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "rows.csv"
        _write_csv(staged, source, rows)
        columns = ", ".join(
            f"CAST({c.name} AS {PARQUET_TYPES.get(c.type, 'VARCHAR')}) AS {c.name}" for c in source.columns
        )
        con = duckdb.connect()
        try:
            con.execute("SET threads TO 1")
            con.execute(
                f"COPY (SELECT {columns} FROM read_csv({_sql_text(staged)}, header = true, all_varchar = true, "
                f"delim = ',', quote = '\"', escape = '\"')) TO {_sql_text(path)} (FORMAT parquet)"
            )
        finally:
            con.close()


def _sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _clean(out_dir: Path) -> None:
    """Remove landing files (and AS_OF) a previous run left, so no stale load survives."""
    for path in sorted(out_dir.iterdir()):
        if path.is_file() and (path.name == "AS_OF" or source_for_file(path.name) is not None):
            path.unlink()


def generate(out_dir: Path, seed: int = 7) -> dict[str, int]:
    """Write the sample studio's landing files to out_dir; returns rows written per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean(out_dir)
    counts: dict[str, int] = {}
    for file_name, (source_name, rows) in Studio(seed).tables().items():
        writer = _write_parquet if file_name.endswith(".parquet") else _write_csv
        writer(out_dir / file_name, SOURCES[source_name], rows)
        counts[file_name] = len(rows)
    (out_dir / "AS_OF").write_text(AS_OF.isoformat() + "\n", encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print("usage: python -m orchestration.sample [OUT_DIR]", file=sys.stderr)
        return 2
    out_dir = Path(args[0]) if args else DEFAULT_OUT_DIR
    counts = generate(out_dir)
    for file_name, rows in counts.items():
        print(f"{file_name:34} {rows:6d} rows")
    print(f"wrote {len(counts)} landing files and AS_OF ({AS_OF.isoformat()}) to {out_dir}")
    return 0


# the sample only uses values the contract allows
assert {p.project_type for p in PROJECTS} <= set(PROJECT_TYPES)
assert {p.status for p in PROJECTS} <= set(PROJECT_STATUSES)
assert {category for _, _, category, _ in ACCOUNTS} == set(CATEGORIES)
assert {p.worker_type for p in PEOPLE} <= set(WORKER_TYPES)
assert {plan.unit for plans in PLANS.values() for plan in plans if plan.unit} <= set(UNITS)

if __name__ == "__main__":
    raise SystemExit(main())
