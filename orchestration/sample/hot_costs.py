"""Scenario 8, hot costs on The Night Desk (EP-2601), the week before the as-of date (2026-10-15).

The shoot added night exteriors for episodes 105-106: crew worked overtime on 8, 12, 13 and 14 October, which the
weekly payroll run (Friday of the following week) has not posted yet; the camera package was kept past its booked
end and came back damaged; a location vendor invoiced above its purchase order (within the studio's tolerance); the
VFX vendor has billed part of an open purchase order; the production accountant estimated what crew still needs.

Every record here has a fixed id and fixed figures, so the scenario does not move when the random parts of the sample
change. The ids are in series of their own (TS-9xxxxx, RNT-9xxx, INV-9xxxx, PO-9xxx) beside the numbered ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from orchestration.sample.records import Entry, GLLine, Invoice, PurchaseOrder, Rental
from orchestration.sample.reference import PEOPLE_BY_ID, PROJECTS_BY_CODE

NIGHT_DESK = PROJECTS_BY_CODE["EP-2601"]
NIGHT_SHOOT_TASK = ""  # the entries are booked to the project, not to a task

# entry_id, work_date, person, regular, overtime, hourly_rate (None: the person's), multiplier (None: 1.5)
OVERTIME = (
    ("TS-900001", "2026-10-08", "P001", "10", "4", None, "2.0"),
    ("TS-900002", "2026-10-08", "P004", "10", "4", None, "2.0"),
    ("TS-900003", "2026-10-12", "P002", "10", "3", None, None),
    ("TS-900004", "2026-10-12", "P006", "10", "3", None, None),
    ("TS-900005", "2026-10-13", "P001", "10", "2", None, None),
    ("TS-900006", "2026-10-14", "P003", "8", "4", "55.00", "2.0"),  # a night-shoot rate above her own 48.00
)
STAFF_FRINGE = Decimal("18")  # EP-2601's staff fringe, as on its other entries

# the camera package: booked 2026-09-28 .. 2026-10-09, kept to 2026-10-20; the booked days are billed and posted
RENTAL_ID = "RNT-9001"
RENTAL_BOOKED_END = date(2026, 10, 9)
RENTAL_POSTED_ON = date(2026, 10, 12)


def overtime_entries() -> list[Entry]:
    entries = []
    for entry_id, day, person_id, regular, overtime, rate, multiplier in OVERTIME:
        person = PEOPLE_BY_ID[person_id]
        entries.append(
            Entry(
                date.fromisoformat(day),
                person,
                NIGHT_DESK,
                "5100",
                NIGHT_SHOOT_TASK,
                Decimal(regular),
                Decimal(overtime),
                Decimal(rate) if rate else None,
                Decimal(multiplier) if multiplier else None,
                STAFF_FRINGE if person.worker_type == "staff" else None,
                entry_id,
            )
        )
    return entries


def extended_rental() -> Rental:
    return Rental(
        NIGHT_DESK,
        "5200",
        "ARRI Alexa Mini LF camera package",
        "Brightline Camera Rentals",
        date(2026, 9, 28),
        date(2026, 10, 20),
        Decimal("1450.00"),
        Decimal("850.00"),
        "USD",
        date(2026, 11, 3),  # the extension and the damage are billed on return, after the as-of date
        RENTAL_ID,
    )


def booked_days_posting(rental: Rental) -> GLLine:
    """The vendor billed the booked days up front; the ledger posted them, naming the rental (a partial posting)."""
    days = (RENTAL_BOOKED_END - rental.start).days + 1
    return GLLine(
        RENTAL_POSTED_ON,
        rental.project.code,
        rental.account,
        rental.vendor,
        f"Rental {rental.rental_id}: {rental.item}, booked days {rental.start.isoformat()} .. "
        f"{RENTAL_BOOKED_END.isoformat()} ({days} days)",
        days * rental.day_rate,
        rental.currency,
        rental.rental_id,
    )


def purchase_orders() -> list[PurchaseOrder]:
    return [
        # closed: the security and stage work is done; its one invoice came in 7.5% above it
        PurchaseOrder(
            "PO-9001",
            "Dockside Stage & Security",
            date(2026, 9, 14),
            NIGHT_DESK,
            "5300",
            Decimal("24000.00"),
            "USD",
            "closed",
        ),
        # open: VFX for episodes 105-106, part billed
        PurchaseOrder(
            "PO-9002", "Harbourlight VFX", date(2026, 8, 24), NIGHT_DESK, "5410", Decimal("60000.00"), "USD", "open"
        ),
    ]


def invoices() -> list[Invoice]:
    return [
        Invoice(
            NIGHT_DESK,
            "5300",
            "Dockside Stage & Security",
            date(2026, 10, 2),
            Decimal("25800.00"),
            "USD",
            "approved",
            None,
            "INV-90001",
            "PO-9001",
        ),
        Invoice(
            NIGHT_DESK,
            "5410",
            "Harbourlight VFX",
            date(2026, 9, 10),
            Decimal("18000.00"),
            "USD",
            "paid",
            date(2026, 10, 5),
            "INV-90002",
            "PO-9002",
        ),
        Invoice(
            NIGHT_DESK,
            "5410",
            "Harbourlight VFX",
            date(2026, 10, 9),
            Decimal("12000.00"),
            "USD",
            "received",
            None,
            "INV-90003",
            "PO-9002",
        ),
    ]


# project, account, estimated_on, etc_amount, note: the latest on or before as-of stands
ESTIMATES_TO_COMPLETE = (
    ("EP-2601", "5100", "2026-09-11", "112000.00", "Crew to wrap at the reforecast crew size"),
    (
        "EP-2601",
        "5100",
        "2026-10-09",
        "128000.00",
        "Night exteriors for episodes 105-106 add two weeks of crew, much of it at overtime",
    ),
)


def estimate_to_complete_rows() -> list[dict[str, str]]:
    return [
        {
            "project_code": code,
            "account_code": account,
            "estimated_on": on,
            "etc_amount": amount,
            "currency": PROJECTS_BY_CODE[code].currency,
            "note": note,
        }
        for code, account, on, amount, note in ESTIMATES_TO_COMPLETE
    ]
