"""The relations a source's rules read beside its landed load (reference data already in the lake, the run's
settings, ids already loaded), and the one scan that collects every row breaking any rule (`offending`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib.config import EXPECTATIONS_DIR, WarehouseLayout
from orchestration.lib.contract import SOURCES, Source
from orchestration.lib.lake import lake_select
from orchestration.lib.sql import literal, q


@dataclass(frozen=True)
class RunContext:
    """What a load's rules need to know about the run."""

    base_currency: str = "USD"
    as_of: date = field(default_factory=date.today)
    invoice_po_tolerance_pct: float = 10.0


def referenced_sources(source: Source, folder: Path = EXPECTATIONS_DIR) -> list[str]:
    """Sources whose accepted loads this source's rules read: they must be loaded first in a run."""
    text = json.dumps(json.loads((folder / f"{source.name}.json").read_text(encoding="utf-8")))
    found = set(re.findall(r"ref_([a-z_]+)", text))
    if "fx_first_period" in text or "_first_rate_period" in text:
        found.add("fx_rates")
    return sorted(found - {source.name})


def prepare_context(con: duckdb.DuckDBPyConnection, layout: WarehouseLayout, source: Source, run: RunContext) -> None:
    """The relations a source's rules read, beside its landed load (see `rules.py`)."""
    # the run's settings as macros: the rules read them as constants, with no join per row
    con.execute(f"CREATE MACRO base_currency() AS '{literal(run.base_currency)}'")
    con.execute(f"CREATE MACRO as_of_date() AS DATE '{run.as_of.isoformat()}'")
    tolerance = float(run.invoice_po_tolerance_pct)
    con.execute(f"CREATE MACRO invoice_po_tolerance_pct() AS CAST({tolerance!r} AS DECIMAL(18,4))")
    for name in [*referenced_sources(source), "fx_rates"]:
        con.execute(f"CREATE OR REPLACE VIEW ref_{name} AS {lake_select(layout, SOURCES[name])}")
    con.execute(
        "CREATE VIEW fx_first_period AS SELECT currency, min(period) AS first_period FROM ref_fx_rates GROUP BY 1"
    )
    con.execute(f"CREATE VIEW existing AS {lake_select(layout, source)}")
    present = {r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE landed)").fetchall()}
    complete = all(c.name in present for c in source.columns)  # else the load is rejected for its columns
    if source.ledger:
        conflicts = _conflicts(source) if complete else "SELECT CAST(NULL AS BIGINT) AS _row_number WHERE false"
        con.execute(f"CREATE VIEW conflicting_rows AS {conflicts}")
    if source.name == "budgets":
        changed = (
            LOCKED_BUDGETS_CHANGED if complete else "SELECT NULL AS budget_version, NULL AS project_code WHERE false"
        )
        con.execute(f"CREATE VIEW locked_budgets_changed AS {changed}")


def _conflicts(source: Source) -> str:
    """Rows of the load whose id is already loaded with other content."""
    on = " AND ".join(f"TRY_CAST(l.{q(k)} AS {source.column(k).type}) = e.{q(k)}" for k in source.key)
    differs = " OR ".join(
        f"TRY_CAST(l.{q(c.name)} AS {c.type}) IS DISTINCT FROM e.{q(c.name)}"
        for c in source.columns
        if c.name not in source.key
    )
    if not differs:  # every column is part of the id: a re-sent record is identical by definition
        return "SELECT _row_number FROM landed WHERE false"
    return f"SELECT DISTINCT l._row_number FROM landed l JOIN existing e ON {on} WHERE {differs}"


# An approved or locked (version, project) already loaded whose lines this load changes (or demotes to draft).
LOCKED_BUDGETS_CHANGED = """
WITH official AS (
    SELECT * FROM existing
    WHERE version_status IN ('approved', 'locked')
      AND _load_id = (SELECT max(e2._load_id) FROM existing e2
                      WHERE e2.budget_version = existing.budget_version AND e2.project_code = existing.project_code)
),
incoming AS (
    SELECT budget_version, project_code, account_code, period, TRY_CAST(amount AS DECIMAL(18,4)) AS amount,
           currency, TRY_CAST(quantity AS DECIMAL(18,4)) AS quantity, unit, TRY_CAST(rate AS DECIMAL(18,4)) AS rate,
           version_status
    FROM landed
    WHERE (budget_version, project_code) IN (SELECT budget_version, project_code FROM official)
),
kept AS (
    SELECT budget_version, project_code, account_code, period, amount, currency, quantity, unit, rate
    FROM official
),
changed AS (
    (SELECT budget_version, project_code, account_code, period, amount, currency, quantity, unit, rate FROM incoming
     EXCEPT ALL SELECT * FROM kept)
    UNION ALL
    (SELECT * FROM kept WHERE (budget_version, project_code) IN (SELECT budget_version, project_code FROM incoming)
     EXCEPT ALL
     SELECT budget_version, project_code, account_code, period, amount, currency, quantity, unit, rate FROM incoming)
    UNION ALL
    SELECT budget_version, project_code, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM incoming
    WHERE version_status = 'draft'
)
SELECT DISTINCT budget_version, project_code FROM changed
"""


def helper_columns(source: Source) -> tuple[list[str], list[str], str]:
    """Per-row figures some rules read: (small aggregate tables to create first, select list, joins).

    Cross-row figures (repeated ids, hours per person and day, statuses per budget version) come from
    GROUP BY ... HAVING tables of the few offending groups, joined to the load: a hash aggregate and a
    join with a small table cost far less than a window over millions of distinct ids.
    """
    tables, helpers, joins = [], [], []

    def group(name: str, columns: tuple[str, ...], figure: str, having: str) -> None:
        keys = ", ".join(q(c) for c in columns)
        tables.append(f"CREATE TABLE {name} AS SELECT {keys}, {figure} AS figure FROM landed GROUP BY {keys} {having}")
        on = " AND ".join(f"{name}.{q(c)} = landed.{q(c)}" for c in columns)
        joins.append(f"LEFT JOIN {name} ON {on}")

    if source.key:
        # (counting the keys whose hash is repeated first, then those keys alone, took a 10M-row ledger's check
        # 0.72 and 0.77 s instead of 1.14 and 1.16 s; but when most keys repeat, as in a file whose rows are
        # all there twice, it ran out of memory where this aggregate spills to disk: 4M rows each there twice
        # under a 60 MB limit. Not kept: such a file's repeated rows must be named, not "could not be checked")
        group("repeated_ids", source.key, "count(*)", "HAVING count(*) > 1")
        helpers.append("coalesce(repeated_ids.figure, 1) AS _key_count")
    if "currency" in source.column_names:
        helpers.append("fx.first_period AS _first_rate_period")
        joins.append("LEFT JOIN fx_first_period AS fx ON fx.currency = landed.currency")
    if source.name == "timesheets":
        hours = " + ".join(f"coalesce(TRY_CAST({c} AS DECIMAL(18,4)), 0)" for c in ("regular_hours", "overtime_hours"))
        group("long_days", ("person_id", "work_date"), f"sum({hours})", f"HAVING sum({hours}) > 24")
        helpers.append("long_days.figure AS _person_day_hours")
    if source.name == "fx_rates":
        rate = 'TRY_CAST("rate_to_base" AS DECIMAL(38,8))'
        at_one = f"SELECT currency FROM landed GROUP BY currency HAVING min({rate}) = 1 AND max({rate}) = 1"
        tables.append(f"CREATE TABLE currencies_at_one AS {at_one}")
        tables.append(
            "CREATE TABLE quoted_base AS SELECT coalesce(string_agg(currency, ' or ' ORDER BY currency), "
            "'no currency at 1 throughout') AS quotes_rates_to, "
            "(SELECT count(*) > 0 FROM landed WHERE currency = base_currency()) AS _base_listed FROM currencies_at_one"
        )
        helpers += [
            "quoted_base.quotes_rates_to",
            "quoted_base._base_listed",
            "landed.currency IN (SELECT currency FROM currencies_at_one) AS _always_one",
        ]
        joins.append("CROSS JOIN quoted_base")
    if source.name == "budgets":
        statuses = "count(DISTINCT version_status)"
        group("mixed_statuses", ("budget_version", "project_code"), statuses, f"HAVING {statuses} > 1")
        helpers += ["coalesce(mixed_statuses.figure, 1) AS _version_statuses", "starts._project_start"]
        joins.append(
            "LEFT JOIN (SELECT project_code AS _starting_project, min(start_date) AS _project_start "
            "FROM ref_projects GROUP BY 1) AS starts ON starts._starting_project = landed.project_code"
        )
    if source.name == "invoices":
        tables.append(f"CREATE TABLE po_billing AS {PO_BILLING}")
        helpers += [
            "po_billing.po_currency AS _po_currency",
            "po_billing.po_amount AS _po_amount",
            "po_billing.above AS _po_above",
            "po_billing.described AS invoiced_above_po",
        ]
        joins.append("LEFT JOIN po_billing ON po_billing.po_id = landed.po_id")
    if source.name == "task_events":
        tables += [TASK_EVENT_MOMENTS, TASK_FIRST_DONE]
        helpers += [
            "coalesce(moments.figure, 1) AS _statuses_at_once",
            "first_done.figure AS _first_done_at",
            "created._task_created_at",
        ]
        joins += [
            "LEFT JOIN moments ON moments.task_id = landed.task_id "
            "AND moments.changed_at = TRY_CAST(landed.changed_at AS TIMESTAMP)",
            "LEFT JOIN first_done ON first_done.task_id = landed.task_id",
            "LEFT JOIN (SELECT task_id AS _created_task, max(created_at) AS _task_created_at FROM ref_tasks "
            "GROUP BY 1) AS created ON created._created_task = landed.task_id",
        ]
    if source.name == "task_dependencies":
        tables.append(CYCLIC_DEPENDENCIES)
        helpers.append("cyclic.task_id IS NOT NULL AS _in_cycle")
        joins.append(
            "LEFT JOIN cyclic ON cyclic.task_id = landed.task_id "
            "AND cyclic.depends_on_task_id = landed.depends_on_task_id"
        )
    return tables, helpers, " ".join(joins)


# Per purchase order this load bills: its latest amount and currency, and what its invoices total — this load's
# plus those already loaded under other invoice_ids (a re-sent invoice counts once, as re-sent). Invoices in another
# currency than their PO are left out of the total (a rule of their own rejects them).
PO_BILLING = """
WITH po AS (
    SELECT po_id, arg_max(amount, _load_id) AS po_amount, arg_max(currency, _load_id) AS po_currency
    FROM ref_purchase_orders WHERE po_id IS NOT NULL GROUP BY po_id
),
earlier AS (
    SELECT invoice_id, arg_max(po_id, _load_id) AS po_id, arg_max(amount, _load_id) AS amount,
           arg_max(currency, _load_id) AS currency
    FROM existing GROUP BY invoice_id
),
billed AS (
    SELECT po_id, TRY_CAST(amount AS DECIMAL(18,4)) AS amount, currency FROM landed WHERE po_id IS NOT NULL
    UNION ALL
    SELECT po_id, amount, currency FROM earlier
    WHERE po_id IS NOT NULL AND invoice_id NOT IN (SELECT invoice_id FROM landed WHERE invoice_id IS NOT NULL)
),
totals AS (
    SELECT po.po_id, any_value(po.po_amount) AS po_amount, any_value(po.po_currency) AS po_currency,
           coalesce(sum(billed.amount) FILTER (WHERE billed.currency = po.po_currency), 0) AS invoiced
    FROM po JOIN billed USING (po_id)
    WHERE po.po_id IN (SELECT po_id FROM landed)
    GROUP BY po.po_id
)
SELECT po_id, po_amount, po_currency, invoiced, invoiced - po_amount AS above,
       po_id || ': invoices total ' || CAST(CAST(invoiced AS DECIMAL(18,2)) AS VARCHAR) || ' against its '
       || CAST(CAST(po_amount AS DECIMAL(18,2)) AS VARCHAR) || ', '
       || CAST(CAST(invoiced - po_amount AS DECIMAL(18,2)) AS VARCHAR) || ' above'
       || coalesce(' (' || CAST(CAST((invoiced - po_amount) / nullif(po_amount, 0) * 100 AS DECIMAL(18,2)) AS VARCHAR)
                   || '%)', '')
       || '; tolerance ' || regexp_replace(CAST(invoice_po_tolerance_pct() AS VARCHAR), '\\.?0+$', '') || '%'
       AS described
FROM totals
"""


# Moments of a task (this load and the events already loaded) that carry more than one status: the history is
# ordered by changed_at, so two statuses at one moment leave the order of the changes unknown.
TASK_EVENT_MOMENTS = """
CREATE TABLE moments AS
WITH events AS (
    SELECT task_id, TRY_CAST(changed_at AS TIMESTAMP) AS changed_at, status FROM landed
    UNION SELECT task_id, changed_at, status FROM existing
)
SELECT task_id, changed_at, count(DISTINCT status) AS figure FROM events
WHERE task_id IS NOT NULL AND changed_at IS NOT NULL
GROUP BY task_id, changed_at HAVING count(DISTINCT status) > 1
"""

# When each task was first done (this load and the events already loaded): a later event reopens the task.
TASK_FIRST_DONE = """
CREATE TABLE first_done AS
WITH events AS (
    SELECT task_id, TRY_CAST(changed_at AS TIMESTAMP) AS changed_at, status FROM landed
    UNION ALL SELECT task_id, changed_at, status FROM existing
)
SELECT task_id, min(changed_at) AS figure FROM events WHERE status = 'done' GROUP BY task_id
"""

# Dependencies (this load and those already loaded) that close a cycle: an edge task -> upstream lies on a
# cycle when the upstream task reaches the task again. A task depending on itself has its own rule.
CYCLIC_DEPENDENCIES = """
CREATE TABLE cyclic AS
WITH RECURSIVE edges AS (
    SELECT task_id, depends_on_task_id FROM landed
    WHERE task_id IS NOT NULL AND depends_on_task_id IS NOT NULL AND task_id <> depends_on_task_id
    UNION SELECT task_id, depends_on_task_id FROM existing WHERE task_id <> depends_on_task_id
),
reaches(from_task, to_task) AS (
    SELECT task_id, depends_on_task_id FROM edges
    UNION
    SELECT r.from_task, e.depends_on_task_id FROM reaches r JOIN edges e ON e.task_id = r.to_task
)
SELECT DISTINCT e.task_id, e.depends_on_task_id
FROM edges e JOIN reaches r ON r.from_task = e.depends_on_task_id AND r.to_task = e.task_id
"""


def find_offending(con: duckdb.DuckDBPyConnection, source: Source, predicates: list[str]) -> int:
    """`offending`: every row breaking at least one rule, with the helper columns, in one scan."""
    tables, helpers, joins = helper_columns(source)
    for statement in tables:
        con.execute(statement)
    select = ", ".join(["landed.*", *helpers])
    where = " OR ".join(f"({p})" for p in predicates) or "false"
    con.execute(
        f"CREATE TABLE offending AS SELECT * FROM (SELECT {select} FROM landed {joins}) AS landed WHERE {where}"
    )
    return int(con.execute("SELECT count(*) FROM offending").fetchone()[0])
