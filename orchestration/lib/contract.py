"""The landing-file contract (SPEC §4): every source, its columns, their types and keys.

This registry is the one place the contract lives in Python. Ingest uses it to type a load,
the quality gate to know what a load must look like, and the sample generator to write
files that follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Types are DuckDB/ANSI SQL type names; every engine that reads the lake's Parquet has them.
TEXT = "VARCHAR"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"
MONEY = "DECIMAL(18,4)"  # four places so that no landed cent (or fraction of one) is lost
RATE = "DECIMAL(18,8)"
QUANTITY = "DECIMAL(18,4)"
INTEGER = "INTEGER"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    required: bool = True
    # allowed values of an enumeration column (None: any value)
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Source:
    """One landing source: files named `<name>*.csv|parquet[|xlsx]` are its loads."""

    name: str
    kind: str  # reference, plan, actuals, commentary, production
    columns: tuple[Column, ...]
    # the columns that identify one record. The latest load's record of a key stands (a status, an approval or
    # an end date changes over a record's life), except in ledgers: their records are immutable, a re-sent id
    # must be identical, and corrections are reversing entries (SPEC §5)
    key: tuple[str, ...] = ()
    ledger: bool = False
    accepts_xlsx: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, type_: str = TEXT, required: bool = True, allowed: tuple[str, ...] | None = None) -> Column:
    return Column(name, type_, required, allowed)


PROJECT_TYPES = (
    "commercial",
    "feature",
    "episodic",
    "documentary",
    "music_video",
    "podcast",
    "photo",
    "broadcast",
    "overhead",
)
PROJECT_STATUSES = ("bidding", "active", "wrapped", "closed")
CATEGORIES = ("crew", "equipment", "location", "post", "third_party", "overhead", "contingency", "revenue")
ACCOUNT_TYPES = ("expense", "revenue")
WORKER_TYPES = ("staff", "freelance")
VERSION_STATUSES = ("draft", "approved", "locked")
UNITS = ("hour", "day", "week", "flat")
CHANGE_ORDER_STATUSES = ("proposed", "approved", "rejected")
INVOICE_STATUSES = ("received", "approved", "paid")
PO_STATUSES = ("open", "closed")
ROOT_CAUSES = ("timing", "volume", "price", "scope", "error", "other")
PERSISTENCE = ("one_time", "temporary", "structural")
CORRECTIVE_ACTIONS = ("none", "spending_adjustment", "reforecast", "budget_transfer")
TASK_STATUSES = ("todo", "in_progress", "review", "retake", "blocked", "done", "omitted")

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        # reference data
        Source(
            "departments",
            "reference",
            (_c("department_code"), _c("department_name"), _c("owner_email", required=False)),
            key=("department_code",),
        ),
        Source(
            "projects",
            "reference",
            (
                _c("project_code"),
                _c("project_name"),
                _c("department_code"),
                _c("client", required=False),
                _c("project_type", allowed=PROJECT_TYPES),
                _c("status", allowed=PROJECT_STATUSES),
                _c("start_date", DATE),
                _c("end_date", DATE),
                _c("contract_value", MONEY, required=False),
                _c("currency"),
            ),
            key=("project_code",),
        ),
        Source(
            "accounts",
            "reference",
            (
                _c("account_code"),
                _c("account_name"),
                _c("category", allowed=CATEGORIES),
                _c("account_type", allowed=ACCOUNT_TYPES),
            ),
            key=("account_code",),
        ),
        Source(
            "fx_rates",
            "reference",
            (_c("currency"), _c("period"), _c("rate_to_base", RATE)),
            key=("currency", "period"),
        ),
        Source(
            "people",
            "reference",
            (
                _c("person_id"),
                _c("person_name"),
                _c("department_code"),
                _c("worker_type", allowed=WORKER_TYPES),
                _c("weekly_capacity_hours", QUANTITY),
                _c("hourly_rate", MONEY),
                _c("currency"),
            ),
            key=("person_id",),
        ),
        # plan
        Source(
            "budgets",
            "plan",
            (
                _c("budget_version"),
                _c("version_status", allowed=VERSION_STATUSES),
                _c("project_code"),
                _c("account_code"),
                _c("period", required=False),
                _c("amount", MONEY),
                _c("currency"),
                _c("quantity", QUANTITY, required=False),
                _c("unit", required=False, allowed=UNITS),
                _c("rate", MONEY, required=False),
                _c("approved_at", TIMESTAMP, required=False),
            ),
            # a (version, project) is replaced as a whole by its latest load
            key=("budget_version", "project_code"),
            accepts_xlsx=True,
        ),
        Source(
            "change_orders",
            "plan",
            (
                _c("change_order_id"),
                _c("project_code"),
                _c("account_code"),
                _c("issued_date", DATE),
                _c("status", allowed=CHANGE_ORDER_STATUSES),
                _c("revenue_amount", MONEY),
                _c("budget_amount", MONEY),
                _c("currency"),
                _c("description", required=False),
            ),
            key=("change_order_id",),
        ),
        Source(
            "budget_transfers",
            "plan",
            (
                _c("transfer_id"),
                _c("requested_at", TIMESTAMP),
                _c("from_project_code"),
                _c("from_account_code"),
                _c("to_project_code"),
                _c("to_account_code"),
                _c("amount", MONEY),
                _c("currency"),
                _c("justification", required=False),
                _c("requested_by"),
                _c("approved_by", required=False),
                _c("approver_role", required=False),
            ),
            key=("transfer_id",),
        ),
        # actuals
        Source(
            "gl_actuals",
            "actuals",
            (
                _c("txn_id"),
                _c("posted_date", DATE),
                _c("project_code"),
                _c("account_code"),
                _c("vendor", required=False),
                _c("description", required=False),
                _c("amount", MONEY),
                _c("currency"),
                _c("source_ref", required=False),
            ),
            key=("txn_id",),
            ledger=True,
        ),
        Source(
            "timesheets",
            "actuals",
            (
                _c("entry_id"),
                _c("work_date", DATE),
                _c("person_id"),
                _c("project_code"),
                _c("account_code"),
                _c("task_id", required=False),
                _c("regular_hours", QUANTITY),
                _c("overtime_hours", QUANTITY),
                _c("hourly_rate", MONEY, required=False),
                _c("overtime_multiplier", QUANTITY, required=False),
                _c("fringe_pct", QUANTITY, required=False),
            ),
            key=("entry_id",),
            ledger=True,
        ),
        Source(
            "equipment_rentals",
            "actuals",
            (
                _c("rental_id"),
                _c("project_code"),
                _c("account_code"),
                _c("item"),
                _c("vendor", required=False),
                _c("start_date", DATE),
                _c("end_date", DATE),
                _c("day_rate", MONEY),
                _c("damage_charge", MONEY, required=False),
                _c("currency"),
            ),
            key=("rental_id",),
        ),
        Source(
            "invoices",
            "actuals",
            (
                _c("invoice_id"),
                _c("vendor"),
                _c("invoice_date", DATE),
                _c("project_code"),
                _c("account_code"),
                _c("amount", MONEY),
                _c("currency"),
                _c("status", allowed=INVOICE_STATUSES),
                _c("po_id", required=False),
            ),
            key=("invoice_id",),
        ),
        Source(
            "purchase_orders",
            "actuals",
            (
                _c("po_id"),
                _c("vendor"),
                _c("issued_date", DATE),
                _c("project_code"),
                _c("account_code"),
                _c("amount", MONEY),
                _c("currency"),
                _c("status", allowed=PO_STATUSES),
            ),
            key=("po_id",),
        ),
        Source(
            "estimates_to_complete",
            "actuals",
            (
                _c("project_code"),
                _c("account_code"),
                _c("estimated_on", DATE),
                _c("etc_amount", MONEY),
                _c("currency"),
                _c("note", required=False),
            ),
            # the production accountant's estimate of what a line still needs; a re-sent estimate replaces it
            key=("project_code", "account_code", "estimated_on"),
        ),
        # commentary
        Source(
            "variance_commentary",
            "commentary",
            (
                _c("period"),
                _c("project_code"),
                _c("account_code"),
                _c("root_cause", allowed=ROOT_CAUSES),
                _c("persistence", allowed=PERSISTENCE),
                _c("explanation"),
                _c("corrective_action", allowed=CORRECTIVE_ACTIONS),
                _c("author"),
                _c("written_at", TIMESTAMP),
            ),
            key=("period", "project_code", "account_code", "written_at"),
        ),
        # production
        Source(
            "tasks",
            "production",
            (
                _c("task_id"),
                _c("project_code"),
                _c("department_code"),
                _c("task_name"),
                _c("owner_person_id", required=False),
                _c("priority", INTEGER),
                _c("estimate_hours", QUANTITY, required=False),
                _c("start_date", DATE, required=False),
                _c("due_date", DATE, required=False),
                _c("created_at", TIMESTAMP),
            ),
            key=("task_id",),
        ),
        Source(
            "task_events",
            "production",
            (_c("task_id"), _c("status", allowed=TASK_STATUSES), _c("changed_at", TIMESTAMP)),
            key=("task_id", "status", "changed_at"),
            ledger=True,
        ),
        Source(
            "task_dependencies",
            "production",
            (_c("task_id"), _c("depends_on_task_id")),
            key=("task_id", "depends_on_task_id"),
        ),
        Source(
            "milestones",
            "production",
            (_c("project_code"), _c("milestone"), _c("planned_date", DATE), _c("actual_date", DATE, required=False)),
            key=("project_code", "milestone"),
        ),
    )
}

# longest prefix first, so that a name such as `budget_transfers_q3.csv` is never taken for `budgets`
_BY_PREFIX = sorted(SOURCES, key=len, reverse=True)
LANDING_SUFFIXES = (".csv", ".parquet", ".xlsx")


def source_for_file(file_name: str) -> Source | None:
    """The source a landing file belongs to, by its name prefix (SPEC §4), or None."""
    lower = file_name.lower()
    if not lower.endswith(LANDING_SUFFIXES):
        return None
    for name in _BY_PREFIX:
        if file_name.startswith(name):
            source = SOURCES[name]
            if lower.endswith(".xlsx") and not source.accepts_xlsx:
                return None
            return source
    return None
