"""Reference data: departments, accounts, people, projects and who works on which project."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from orchestration.lib.contract import CATEGORIES, PROJECT_STATUSES, PROJECT_TYPES, WORKER_TYPES
from orchestration.sample.money import fmt_money, parse_date

DOMAIN = "northlight.example"

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


def email_of(person_id: str) -> str:
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
        code,
        name,
        dept,
        client,
        kind,
        status,
        parse_date(start),
        parse_date(end),
        value,
        currency,
        billing,
        revenue_account,
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


def department_rows() -> list[dict[str, str]]:
    return [
        {"department_code": code, "department_name": name, "owner_email": f"{owner}@{DOMAIN}"}
        for code, name, owner in DEPARTMENTS
    ]


def project_rows() -> list[dict[str, str]]:
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


def account_rows() -> list[dict[str, str]]:
    return [
        {"account_code": code, "account_name": name, "category": category, "account_type": kind}
        for code, name, category, kind in ACCOUNTS
    ]


def people_rows() -> list[dict[str, str]]:
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


# the sample only uses values the contract allows
assert {p.project_type for p in PROJECTS} <= set(PROJECT_TYPES)
assert {p.status for p in PROJECTS} <= set(PROJECT_STATUSES)
assert {category for _, _, category, _ in ACCOUNTS} == set(CATEGORIES)
assert {p.worker_type for p in PEOPLE} <= set(WORKER_TYPES)
