"""Budget plans per project, their original and reforecast versions, change orders and transfers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from orchestration.lib.contract import UNITS
from orchestration.sample.money import (
    ZERO,
    fmt_money,
    fmt_qty,
    month_end,
    month_of,
    month_range,
    parse_date,
    period,
    span_days,
    split_int,
    split_money,
)
from orchestration.sample.reference import PROJECTS, PROJECTS_BY_CODE, STUDIO_HEAD, Project, email_of


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
    (
        "CO-010",
        "EP-2601",
        "5300",
        "2026-08-18",
        "approved",
        "19500.00",
        "15000.00",
        "Harbour night exteriors for episodes 105-106: second-unit location",
    ),
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
        "finance_partner",
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
        "vp_finance",
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
        "vp_finance",
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
        "vp_finance",
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
        "cfo",
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
        "finance_partner",
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
    (
        "TR-008",
        "2026-07-20T09:30:00",
        "EP-2601",
        "5200",
        "EP-2601",
        "5310",
        "4000.00",
        "Camera package returned early: fund the second unit's travel",
        "P002",
        "P001",
        "finance_partner",
    ),
)


def _window(project: Project, window: tuple[str, str] | None) -> tuple[date, date]:
    if window is None:
        return project.start, project.end
    lo = max(project.start, parse_date(window[0] + "-01"))
    hi = min(project.end, month_end(parse_date(window[1] + "-01")))
    return lo, hi


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


def billing_tranches(project: Project) -> list[tuple[date, Decimal, str]]:
    assert project.contract_value is not None
    amounts = split_money(project.contract_value, [w for _, w, _ in project.billing])
    return [
        (parse_date(when), amount, label) for (when, _, label), amount in zip(project.billing, amounts, strict=True)
    ]


def _revenue_lines(project: Project) -> list[BudgetLine]:
    """Revenue is budgeted in the months the client is billed (one unphased line for a bid)."""
    if project.contract_value is None:
        return []
    if not project.billing:
        return [BudgetLine(project.revenue_account, None, project.contract_value, window=(project.start, project.end))]
    by_month: dict[date, Decimal] = {}
    for when, amount, _ in billing_tranches(project):
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


def current_version(versions: dict[str, list[Version]], project: Project) -> Version | None:
    """The project's last approved (or locked) version; None while it is only bid."""
    approved = [v for v in versions[project.code] if v.status in ("approved", "locked")]
    return approved[-1] if approved else None


def budget_rows(versions: dict[str, list[Version]], reforecast: bool) -> list[dict[str, str]]:
    """Budget lines of every original version, or of every reforecast one."""
    rows = []
    chosen = [v for found in versions.values() for v in found if (v.name == "V2-reforecast") == reforecast]
    for version in chosen:
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


def change_order_rows() -> list[dict[str, str]]:
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


def budget_transfer_rows() -> list[dict[str, str]]:
    def who(person: str) -> str:
        return STUDIO_HEAD if person == "STUDIO_HEAD" else (email_of(person) if person else "")

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


# the sample only uses units the contract allows
assert {plan.unit for plans in PLANS.values() for plan in plans if plan.unit} <= set(UNITS)
