"""The Great Expectations suites of `expectations/`, one per landing source, written from the contract.

`python -m orchestration.lib.gate.rules` writes `expectations/<source>.json` (GX's own suite format). The quality
gate reads those files, never this module: a studio may add expectations to a suite by hand, and
`tests/test_suites.py` checks only that every rule written here is still in the committed suite.

Row rules are `UnexpectedRowsExpectation`s whose query returns the offending rows of the landed load.
Each carries its predicate in `meta.bad_when`, so that the gate can find every row that breaks any rule
in one scan of the load before GX checks each rule on those rows alone (SPEC §5, the validation
benchmark). Predicates read the landed load's text columns and these context relations, which the gate
creates beside the load (see `context.py`):

    base_currency(), as_of_date(),            the run's settings (macros: constants in every query)
    invoice_po_tolerance_pct()
    ref_<source>                               every accepted load of a reference source
    existing                                   accepted loads of the same source (typed)
    fx_first_period(currency, first_period)    locked_budgets_changed(budget_version, project_code)
    conflicting_rows(_row_number)              (ledgers) rows whose id is loaded with other content

and helper columns computed in the same scan: _key_count, _first_rate_period, _person_day_hours,
_version_statuses, _project_start; for fx_rates quotes_rates_to, _base_listed, _always_one; for invoices
_po_currency, _po_amount, _po_above and invoiced_above_po (what a purchase order's invoices total against it); for
task events _statuses_at_once, _first_done_at, _task_created_at; for task dependencies _in_cycle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.config import EXPECTATIONS_DIR
from orchestration.lib.contract import DATE, INTEGER, SOURCES, TEXT, TIMESTAMP, Column, Source
from orchestration.lib.sql import q

PERIOD_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])$"
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
OUTLIER_AMOUNT = 1_000_000  # a single amount above this is worth a second look (warning)
FUTURE_DAYS = 31  # a posting more than this many days after as-of is suspicious (warning)
MAX_HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Rule:
    rule: str  # what must hold, in a producer's words
    column: str | None
    bad_when: str  # SQL predicate over the landed load `landed`: true on an offending row
    blocking: bool = True


def typed(column: Column) -> str:
    return f"TRY_CAST({q(column.name)} AS {column.type})"


def _type_words(sql_type: str) -> str:
    if sql_type.startswith("DECIMAL"):
        return "a plain decimal number such as -1234.50 (no currency symbol, no thousands separator)"
    return {DATE: "a date YYYY-MM-DD", TIMESTAMP: "a timestamp YYYY-MM-DDTHH:MM:SS", INTEGER: "a whole number"}[
        sql_type
    ]


def column_rules(column: Column) -> list[Rule]:
    name, rules = column.name, []
    if column.required:
        rules.append(Rule(f"{name} is present", name, f"{q(name)} IS NULL"))
    if column.type != TEXT:
        rules.append(
            Rule(f"{name} is {_type_words(column.type)}", name, f"{q(name)} IS NOT NULL AND {typed(column)} IS NULL")
        )
    if column.type == DATE:
        rules.append(
            Rule(
                f"{name} is written YYYY-MM-DD",
                name,
                f"{q(name)} IS NOT NULL AND NOT regexp_full_match({q(name)}, '{DATE_PATTERN}')",
            )
        )
    if column.type in (DATE, TIMESTAMP):
        rules.append(
            Rule(
                f"{name} is between 1990 and 2100",
                name,
                f"{typed(column)} IS NOT NULL AND NOT (year({typed(column)}) BETWEEN 1990 AND 2100)",
            )
        )
    if column.allowed:
        values = ", ".join("'" + v + "'" for v in column.allowed)
        rules.append(
            Rule(
                f"{name} is one of {', '.join(column.allowed)}",
                name,
                f"{q(name)} IS NOT NULL AND {q(name)} NOT IN ({values})",
            )
        )
    if name == "period":
        rules.append(
            Rule(
                "period is written YYYY-MM",
                name,
                f"{q(name)} IS NOT NULL AND NOT regexp_full_match({q(name)}, '{PERIOD_PATTERN}')",
            )
        )
    return rules


def reference_rule(column: str, source: str, code: str) -> Rule:
    """A code that must exist in reference data (loaded earlier or in this same run)."""
    return Rule(
        f"{column} exists in {source}",
        column,
        f"{q(column)} IS NOT NULL AND {q(column)} NOT IN (SELECT {q(code)} FROM ref_{source} "
        f"WHERE {q(code)} IS NOT NULL)",
    )


def at_least(column: str, minimum: int, words: str) -> Rule:
    return Rule(f"{column} is {words}", column, f"TRY_CAST({q(column)} AS DECIMAL(38,8)) < {minimum}")


def ordered(start: str, end: str) -> Rule:
    return Rule(
        f"{end} is on or after {start}",
        end,
        f"TRY_CAST({q(end)} AS DATE) < TRY_CAST({q(start)} AS DATE)",
    )


def rate_rule(currency: str, date_sql: str) -> Rule:
    """The currency has an fx rate for the period of `date_sql` (that period's or an earlier one);
    `_first_rate_period` is the currency's first rate period (helper column, NULL when it has none)."""
    return Rule(
        f"{currency} has an fx rate for the period",
        currency,
        f"{q(currency)} IS NOT NULL AND {q(currency)} <> base_currency() "
        f"AND ({date_sql}) IS NOT NULL "
        f"AND (_first_rate_period IS NULL OR _first_rate_period > strftime({date_sql}, '%Y-%m'))",
    )


def unique_rule(source: Source) -> Rule:
    keys = ", ".join(source.key)
    return Rule(f"{keys} is unique within the file", source.key[0], "_key_count > 1")


def conflict_rule(source: Source) -> Rule:
    """A ledger id already loaded must come back identical (ledgers correct by reversing entries)."""
    return Rule(
        f"{', '.join(source.key)} already loaded with different content (send a reversing entry instead)",
        source.key[0],
        "_row_number IN (SELECT _row_number FROM conflicting_rows)",
    )


def _date(column: str) -> str:
    return f"TRY_CAST({q(column)} AS DATE)"


def _money(column: str) -> str:
    return f"TRY_CAST({q(column)} AS DECIMAL(18,4))"


# what a ledger line's source_ref may name: the operational record it pays (SPEC §4)
POSTED_RECORDS = (
    ("timesheets", "entry_id"),
    ("equipment_rentals", "rental_id"),
    ("invoices", "invoice_id"),
    ("purchase_orders", "po_id"),
)
_NAMED_RECORDS = " UNION ALL ".join(
    f"SELECT {q(column)} FROM ref_{source} WHERE {q(column)} IS NOT NULL" for source, column in POSTED_RECORDS
)
# a purchase order's invoices above it by more than the studio's tolerance (percent of the PO amount)
_PO_TOLERANCE = "_po_amount * invoice_po_tolerance_pct() / 100"


# a single amount beyond ±OUTLIER_AMOUNT is accepted with a warning
OUTLIER_RULE = Rule(
    f"amount is within ±{OUTLIER_AMOUNT:,} (an outlier worth a second look)",
    "amount",
    f'abs(TRY_CAST("amount" AS DECIMAL(38,8))) > {OUTLIER_AMOUNT}',
    blocking=False,
)

# Rules beyond the columns' own: codes in reference data, currencies with rates, ranges, cross-row rules.
SOURCE_RULES: dict[str, list[Rule]] = {
    "projects": [
        reference_rule("department_code", "departments", "department_code"),
        ordered("start_date", "end_date"),
        at_least("contract_value", 0, "not negative"),
        rate_rule("currency", _date("start_date")),
    ],
    "accounts": [
        Rule(
            "account_type is revenue exactly when category is revenue",
            "account_type",
            "(\"category\" = 'revenue') <> (\"account_type\" = 'revenue')",
        )
    ],
    "fx_rates": [
        Rule("rate_to_base is more than 0", "rate_to_base", 'TRY_CAST("rate_to_base" AS DECIMAL(38,8)) <= 0'),
        # Rates quoted to another base would convert every amount silently wrong: the base currency's own rate is
        # 1 wherever it appears, and a file without it must not hold another currency at exactly 1 throughout.
        # The offending rows show `quotes_rates_to`: the currency the file seems to quote (at 1 throughout).
        Rule(
            "rates are quoted to the base currency of studio.toml (its own rate is 1); this file quotes them to",
            "quotes_rates_to",
            '("currency" = base_currency() AND TRY_CAST("rate_to_base" AS DECIMAL(38,8)) <> 1) '
            'OR ("currency" <> base_currency() AND NOT _base_listed AND _always_one)',
        ),
    ],
    "people": [
        reference_rule("department_code", "departments", "department_code"),
        at_least("weekly_capacity_hours", 0, "not negative"),
        at_least("hourly_rate", 0, "not negative"),
        rate_rule("currency", "as_of_date()"),
    ],
    "budgets": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        rate_rule(
            "currency",
            "coalesce(TRY_CAST(\"period\" || '-01' AS DATE), _project_start)",
        ),
        Rule("unit is present when quantity is given", "unit", '"quantity" IS NOT NULL AND "unit" IS NULL'),
        Rule(
            "amount is quantity × rate (within a cent)",
            "amount",
            # widened before multiplying: DECIMAL(18,4) × DECIMAL(18,4) overflows from 10^10 (1,000 days at 10^7)
            f"abs(CAST({_money('quantity')} AS DECIMAL(38,8)) * CAST({_money('rate')} AS DECIMAL(38,8))"
            f" - {_money('amount')}) > 0.01",
            blocking=False,
        ),
        Rule(
            "budget version is approved or locked and cannot change: submit a reforecast as a new budget_version",
            "budget_version",
            "(budget_version, project_code) IN (SELECT budget_version, project_code FROM locked_budgets_changed)",
        ),
        Rule(
            "lines of one budget_version and project_code share one version_status",
            "version_status",
            "_version_statuses > 1",
        ),
    ],
    "change_orders": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        rate_rule("currency", _date("issued_date")),
    ],
    "budget_transfers": [
        reference_rule("from_project_code", "projects", "project_code"),
        reference_rule("from_account_code", "accounts", "account_code"),
        reference_rule("to_project_code", "projects", "project_code"),
        reference_rule("to_account_code", "accounts", "account_code"),
        Rule("amount is more than 0", "amount", 'TRY_CAST("amount" AS DECIMAL(38,8)) <= 0'),
        rate_rule("currency", 'TRY_CAST("requested_at" AS TIMESTAMP)'),
    ],
    "gl_actuals": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        rate_rule("currency", _date("posted_date")),
        Rule(
            "source_ref names a timesheet entry_id, rental_id, invoice_id or po_id loaded before or in this run",
            "source_ref",
            f'"source_ref" IS NOT NULL AND "source_ref" NOT IN ({_NAMED_RECORDS})',
        ),
        Rule(
            f"posted_date is at most {FUTURE_DAYS} days after as-of",
            "posted_date",
            f"{_date('posted_date')} > as_of_date() + INTERVAL {FUTURE_DAYS} DAY",
            blocking=False,
        ),
        OUTLIER_RULE,
    ],
    "timesheets": [
        reference_rule("person_id", "people", "person_id"),
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        reference_rule("task_id", "tasks", "task_id"),
        at_least("regular_hours", 0, "not negative"),
        at_least("overtime_hours", 0, "not negative"),
        at_least("hourly_rate", 0, "not negative"),
        at_least("overtime_multiplier", 1, "at least 1"),
        at_least("fringe_pct", 0, "not negative"),
        Rule(
            f"a person logs at most {MAX_HOURS_PER_DAY} hours a day",
            "person_id",
            f"_person_day_hours > {MAX_HOURS_PER_DAY}",
        ),
        Rule(
            f"work_date is at most {FUTURE_DAYS} days after as-of",
            "work_date",
            f"{_date('work_date')} > as_of_date() + INTERVAL {FUTURE_DAYS} DAY",
            blocking=False,
        ),
    ],
    "equipment_rentals": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        ordered("start_date", "end_date"),
        at_least("day_rate", 0, "not negative"),
        at_least("damage_charge", 0, "not negative"),
        rate_rule("currency", _date("start_date")),
    ],
    "invoices": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        reference_rule("po_id", "purchase_orders", "po_id"),
        rate_rule("currency", _date("invoice_date")),
        Rule(
            "currency is its purchase order's currency",
            "currency",
            '"po_id" IS NOT NULL AND "currency" <> _po_currency',
        ),
        Rule(
            "a purchase order's invoices total at most its amount plus invoice_po_tolerance_pct (studio.toml)",
            "invoiced_above_po",
            f"_po_above > {_PO_TOLERANCE}",
        ),
        Rule(
            "a purchase order's invoices total at most its amount (above it, within the tolerance)",
            "invoiced_above_po",
            f"_po_above > 0 AND _po_above <= {_PO_TOLERANCE}",
            blocking=False,
        ),
        OUTLIER_RULE,
    ],
    "purchase_orders": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        at_least("amount", 0, "not negative"),
        rate_rule("currency", _date("issued_date")),
    ],
    "estimates_to_complete": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
        at_least("etc_amount", 0, "not negative"),
        rate_rule("currency", _date("estimated_on")),
    ],
    "variance_commentary": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("account_code", "accounts", "account_code"),
    ],
    "tasks": [
        reference_rule("project_code", "projects", "project_code"),
        reference_rule("department_code", "departments", "department_code"),
        reference_rule("owner_person_id", "people", "person_id"),
        Rule("priority is 1 (high) to 4 (low)", "priority", 'TRY_CAST("priority" AS INTEGER) NOT BETWEEN 1 AND 4'),
        at_least("estimate_hours", 0, "not negative"),
        ordered("start_date", "due_date"),
    ],
    "task_events": [
        reference_rule("task_id", "tasks", "task_id"),
        # the history is ordered by changed_at: two statuses of one task at one moment leave the order unknown
        Rule(
            "a task has one status per changed_at (with two, the order of the changes is unknown)",
            "changed_at",
            "_statuses_at_once > 1",
        ),
        Rule(
            "changed_at is not before the task's created_at",
            "changed_at",
            'TRY_CAST("changed_at" AS TIMESTAMP) < _task_created_at',
            blocking=False,
        ),
        # a change after done reopens the task: the marts count from its first done (see README)
        Rule(
            "a done task is reopened by a later change (metrics count from its first done)",
            "status",
            '"status" <> \'done\' AND TRY_CAST("changed_at" AS TIMESTAMP) > _first_done_at',
            blocking=False,
        ),
    ],
    "task_dependencies": [
        reference_rule("task_id", "tasks", "task_id"),
        reference_rule("depends_on_task_id", "tasks", "task_id"),
        Rule("a task does not depend on itself", "depends_on_task_id", '"task_id" = "depends_on_task_id"'),
        Rule(
            "dependencies form no cycle (with the dependencies already loaded, the task would wait on itself)",
            "depends_on_task_id",
            "_in_cycle",
        ),
    ],
    "milestones": [reference_rule("project_code", "projects", "project_code")],
}


# a file of no rows is rejected; a mapped export of none (a tool's quiet week) is a warning (loads.ingest_file)
DATA_ROWS_RULE = "the file has data rows"


def rules_for(source: Source) -> list[Rule]:
    rules = [r for column in source.columns for r in column_rules(column)]
    if source.key and source.name != "budgets":  # budget lines may repeat an account and period
        rules.append(unique_rule(source))
    if source.ledger:
        rules.append(conflict_rule(source))
    return rules + SOURCE_RULES.get(source.name, [])


def unexpected_rows_query(rule: Rule) -> str:
    # GX fills {batch} with str.format: literal braces (regex quantifiers) are doubled
    shown = f", {q(rule.column)}" if rule.column else ""
    predicate = rule.bad_when.replace("{", "{{").replace("}", "}}")
    # the batch is named `landed`, as in the gate's single scan, so a predicate reads the same in both
    return f"SELECT _row_number{shown} FROM (SELECT * FROM {{batch}}) AS landed WHERE {predicate}"


def suite_json(source: Source) -> dict:
    """The suite of one source in GX's own JSON form."""
    expectations: list[dict] = [
        {
            "type": "expect_column_to_exist",
            "kwargs": {"column": c.name},
            "meta": {"rule": f"column {c.name} is in the file", "column": c.name, "blocking": True},
        }
        for c in source.columns
        if c.required
    ]
    expectations.append(
        {
            "type": "expect_table_columns_to_match_set",
            # absent optional columns are added as empty when the file is read; extra columns are ignored
            "kwargs": {"column_set": ["_row_number", *source.column_names], "exact_match": True},
            "meta": {"rule": "the file has no columns beyond the contract (extra ones are ignored)", "blocking": False},
        }
    )
    expectations.append(
        {
            "type": "expect_table_row_count_to_be_between",
            "kwargs": {"min_value": 1},
            "meta": {"rule": DATA_ROWS_RULE, "blocking": True},
        }
    )
    for rule in rules_for(source):
        expectations.append(
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": unexpected_rows_query(rule), "description": rule.rule},
                "meta": {
                    "rule": rule.rule,
                    "column": rule.column,
                    "blocking": rule.blocking,
                    "bad_when": rule.bad_when,
                },
            }
        )
    return {
        "name": source.name,
        "expectations": expectations,
        "meta": {
            "source": source.name,
            "key": list(source.key),
            "ledger": source.ledger,
            "note": "Written from the contract by `python -m orchestration.lib.gate.rules`; rules may be added.",
        },
    }


def write_suites(folder: Path = EXPECTATIONS_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in SOURCES.values():
        path = folder / f"{source.name}.json"
        path.write_text(json.dumps(suite_json(source), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_suites():
        print(path)
