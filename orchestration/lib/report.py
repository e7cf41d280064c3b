"""The studio budget-vs-actual report (SPEC §8), read from the published warehouse.

The rows come from the report models `marts.rpt_studio_budget_vs_actual`,
`marts.rpt_variances_requiring_commentary` (a department's: `marts.rpt_department_variances_requiring_commentary`),
`marts.rpt_budget_transfers` and, for the production section,
`marts.rpt_production_summary` and `marts.rpt_production_blockers` as they are; this module only lays them out.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestration.lib.terminal import Trimmed, terminal_console

ATTENTION = "⚠"


@dataclass(frozen=True)
class ReportData:
    as_of: str
    fiscal_year_start: str
    rows: list[dict]
    commentary: list[dict]
    commentary_total: int
    revenue: list[dict]
    production: list[dict] = field(default_factory=list)
    blockers: list[dict] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)
    run_rate: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)  # the ALERTS_SHOWN most pressing open alerts, in order
    # every open alert counted by type and severity: {"alert_type", "severity", "alerts"}
    alert_counts: list[dict] = field(default_factory=list)
    days_elapsed: int = 0  # of the as-of month, whose budget the figures prorate
    days_in_month: int = 0
    department: str | None = None  # a department's report: its rows only (SPEC §8); None = the studio
    monthly: list[dict] = field(default_factory=list)  # the fiscal year's months: cost budget and actual, YTD


ALERTS_SHOWN = 15  # the open alerts a report lists (all are counted)
# the run-rate table's YTD PACE column (SPEC §6 pace rate; months elapsed count the as-of month in part)
PACE_LEGEND = "YTD PACE = year-to-date actual / (annual budget × months elapsed / 12); 100% = on pace."


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# a department's own variances requiring commentary, ranked within it (the studio's: rpt_variances_requiring_commentary)
DEPARTMENT_COMMENTARY = "rpt_department_variances_requiring_commentary"


class MissingReportModel(LookupError):
    """A report model the warehouse lacks: it was published by an earlier version (its next refresh builds it)."""


def read_report(published_db: Path, department: str | None = None) -> ReportData:
    """The report's figures from the published warehouse; with `department`, that department's rows only.

    A department's report leaves out the studio total and whatever belongs to other departments: its projects'
    commentary, production and blocked work, transfers into or out of its projects, its run-rate and alerts."""
    scoped = department is not None
    # the department's own projects, for the models keyed by project (one parameter: the department's code)
    projects = "project_code IN (SELECT project_code FROM marts.mart_project_variance WHERE department_code = $1)"
    params = [department] if scoped else []
    with duckdb.connect(str(published_db), read_only=True) as con:
        rows = _dicts(
            con.execute(
                "SELECT * FROM marts.rpt_studio_budget_vs_actual WHERE account_type = 'expense' "
                + ("AND department_code = $1 " if scoped else "")
                + "ORDER BY row_type = 'studio', department_code, row_order, account_code",
                params,
            )
        )
        revenue = _dicts(
            con.execute(
                "SELECT department_code, department_name, account_code, account_name, budget, actual, variance, "
                "variance_pct, direction, utilization_pct, needs_attention FROM marts.rpt_studio_budget_vs_actual "
                "WHERE account_type = 'revenue' "
                + ("AND department_code = $1 " if scoped else "")
                + "ORDER BY department_code, account_code",
                params,
            )
        )
        as_of, fy_start, days_elapsed, days_in_month = con.execute(
            "SELECT max(as_of)::VARCHAR, max(fiscal_year_start)::VARCHAR, max(as_of_month_days_elapsed), "
            "max(as_of_month_days) FROM marts.rpt_studio_budget_vs_actual"
        ).fetchone()
        if scoped and not _has_table(con, "marts", DEPARTMENT_COMMENTARY):
            raise MissingReportModel(
                f"this warehouse has no marts.{DEPARTMENT_COMMENTARY} (published by an earlier version): run "
                "`studio-budget run` once to publish it again, then ask for a department's report"
            )
        # the studio's largest; a department's own largest, ranked within it (not its rows among the studio's)
        commentary_source = (
            f"department_total AS total_requiring_commentary FROM marts.{DEPARTMENT_COMMENTARY} "
            "WHERE department_code = $1 ORDER BY department_rank"
            if scoped
            else "total_requiring_commentary FROM marts.rpt_variances_requiring_commentary ORDER BY attention_rank"
        )
        commentary = _dicts(
            con.execute(
                "SELECT period::VARCHAR AS period, project_code, account_code, budget, actual, variance, variance_pct, "
                + commentary_source,
                params,
            )
        )
        total = commentary[0]["total_requiring_commentary"] if commentary else 0
        production = _dicts(
            con.execute(
                "SELECT * FROM marts.rpt_production_summary "
                + (f"WHERE row_type = 'project' AND {projects} " if scoped else "")
                + "ORDER BY row_type = 'studio', project_code",
                params,
            )
        )
        blockers = _dicts(
            con.execute(
                "SELECT * FROM marts.rpt_production_blockers "
                + (f"WHERE {projects} " if scoped else "")
                + "ORDER BY blocker_rank",
                params,
            )
        )
        transfers = _dicts(
            con.execute(
                "SELECT transfer_id, requested_on::VARCHAR AS requested_on, status, from_project_code, "
                "from_account_code, to_project_code, to_account_code, amount_base, invalid_reasons "
                "FROM marts.rpt_budget_transfers "
                + (
                    # both sides the department's own: a transfer with another department names its figures
                    f"WHERE {projects.replace('project_code IN', 'from_project_code IN')} "
                    f"AND {projects.replace('project_code IN', 'to_project_code IN')} "
                    if scoped
                    else ""
                )
                + "ORDER BY report_order",
                params,
            )
        )
        run_rate = (
            _dicts(
                con.execute(
                    "SELECT level, scope_key, budget, mtd_actual, theoretical_budget_to_date, projected_month_end, "
                    "run_rate_variance, days_elapsed, days_in_month, ytd_pace_pct, annual_budget, projected_full_year "
                    "FROM marts.mart_run_rate WHERE is_as_of_month "
                    + (
                        "AND level = 'department' AND scope_key = $1 "
                        if scoped
                        else "AND level IN ('studio', 'department') "
                    )
                    + "ORDER BY level = 'studio', scope_key",
                    params,
                )
            )
            if _has_table(con, "marts", "mart_run_rate")
            else []
        )
        alerts, alert_counts = [], []
        if _has_table(con, "audit", "alert_history"):
            # only the shown alerts are read, and the rest counted in SQL: a large ledger opens a million of them
            open_alerts = "FROM audit.alert_history WHERE cleared_at IS NULL " + (
                "AND department_code = $1 " if scoped else ""
            )
            alerts = _dicts(
                con.execute(
                    "SELECT severity, alert_type, scope, scope_key, metric_name, metric_value, notify_role, "
                    "first_raised_at::DATE::VARCHAR AS raised "
                    + open_alerts
                    + "ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, "
                    f"abs(actual - coalesce(budget, 0)) DESC, alert_key LIMIT {ALERTS_SHOWN}",
                    params,
                )
            )
            alert_counts = _dicts(
                con.execute(
                    "SELECT alert_type, severity, count(*) AS alerts " + open_alerts + "GROUP BY ALL ORDER BY ALL",
                    params,
                )
            )
        # the burn chart: the fiscal year's months to as-of, cost only (the as-of month's actual is month to date)
        monthly = _dicts(
            con.execute(
                "SELECT strftime(period, '%Y-%m') AS period, budget, actual, ytd_budget, ytd_actual FROM "
                + (
                    "marts.mart_department_variance WHERE department_code = $1 AND "
                    if scoped
                    else "marts.mart_studio_variance WHERE "
                )
                + "fiscal_year_start = (SELECT max(fiscal_year_start) FROM marts.rpt_studio_budget_vs_actual) "
                "ORDER BY period",
                params,
            )
        )
    return ReportData(
        as_of or "", fy_start or "", rows, commentary, int(total), revenue,
        production=production, blockers=blockers, transfers=transfers, run_rate=run_rate, alerts=alerts,
        alert_counts=alert_counts,
        days_elapsed=int(days_elapsed or 0), days_in_month=int(days_in_month or 0),
        department=department, monthly=monthly,
    )  # fmt: skip


def department_codes(published_db: Path) -> list[str]:
    """The departments the report knows (each has a subtotal row, zeros included)."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        found = con.execute(
            "SELECT DISTINCT department_code FROM marts.rpt_studio_budget_vs_actual "
            "WHERE row_type = 'department' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in found]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def _money(value: Decimal | float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


# metrics that are amounts, not percentages (a material variance judged by its amount threshold)
AMOUNT_METRICS = ("variance", "ytd_variance")


def alert_metric(alert: dict) -> str:
    """An alert's metric as a producer reads it: an amount (`6,000`), a percentage (`130.0%`), or `no budget`."""
    if alert.get("metric_name") in AMOUNT_METRICS and alert["metric_value"] is not None:
        return _money(alert["metric_value"])
    return _pct(alert["metric_value"]) or "no budget"


def _direction(row: dict) -> str:
    return {"F": "F", "U": "U", "on_target": "="}.get(row["direction"], "")


LABEL_WIDTH = 34
REPORT_WIDTH = 100  # the report needs 100 columns; narrower consoles get it unwrapped all the same


def _label(text: str, width: int = LABEL_WIDTH) -> str:
    """A row label shortened to fit, as plain text (a name holding [brackets] is not markup)."""
    return escape(text if len(text) <= width else text[: width - 1] + "…")


def _figures(row: dict) -> list[str]:
    return [
        _money(row["budget"]),
        _money(row["actual"]),
        _money(row["variance"]),
        _direction(row),
        _pct(row["utilization_pct"]),
        ATTENTION if row["needs_attention"] else "",
    ]


def _figures_table(title: str) -> Table:
    """Label, BUDGET, ACTUAL, VARIANCE, F/U, UTIL, ⚠: fits 80 columns; labels are shortened, figures never."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Department / account", no_wrap=True, width=LABEL_WIDTH)
    for name in ("BUDGET", "ACTUAL", "VARIANCE"):
        table.add_column(name, justify="right", no_wrap=True, min_width=10)
    table.add_column("F/U", justify="center", no_wrap=True, width=3)
    table.add_column("UTIL", justify="right", no_wrap=True, min_width=6)
    table.add_column(ATTENTION, justify="center", no_wrap=True, width=1)
    return table


def report_title(data: ReportData) -> str:
    scope = "Studio" if data.department is None else f"Department {data.department}"
    return (
        f"{scope} budget vs actual — fiscal year to date at {data.as_of} (from {data.fiscal_year_start}); "
        f"budget to date: the as-of month prorated to day {data.days_elapsed} of {data.days_in_month}"
    )


def department_label(row: dict) -> str:
    return f"{row['department_code']} {row['department_name'] or ''}".strip()


def subtotal_label(row: dict) -> str:
    return f"Subtotal {row['department_code']}"


STUDIO_TOTAL_LABEL = "STUDIO TOTAL (cost)"


def build_tables(data: ReportData) -> list[Table]:
    main = _figures_table(report_title(data))
    heading = None
    for row in data.rows:
        if row["row_type"] != "studio" and row["department_code"] != heading:
            # the department's name first, then its accounts, then its subtotal
            heading = row["department_code"]
            main.add_row(_label(department_label(row)), style="bold")
        if row["row_type"] == "account":
            main.add_row(_label(f"  {row['account_code']} {row['account_name'] or ''}"), *_figures(row))
        elif row["row_type"] == "department":
            main.add_row(_label(subtotal_label(row)), *_figures(row), style="bold")
            main.add_section()
        else:
            main.add_row(STUDIO_TOTAL_LABEL, *_figures(row), style="bold")
    tables = [main]
    if data.revenue:
        revenue = _figures_table("Revenue")
        for row in data.revenue:
            revenue.add_row(
                _label(f"{row['department_code']} {row['account_code']} {row['account_name'] or ''}"), *_figures(row)
            )
        tables.append(revenue)
    commentary = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=commentary_title(data), title_justify="left")
    for name in ("Period", "Project", "Account", "BUDGET", "ACTUAL", "VARIANCE", "VAR %"):
        commentary.add_column(name, justify="right" if name.isupper() else "left", no_wrap=True)
    for row in data.commentary:
        commentary.add_row(
            row["period"][:7],
            escape(row["project_code"]),
            escape(row["account_code"]),
            _money(row["budget"]),
            _money(row["actual"]),
            _money(row["variance"]),
            _pct(row["variance_pct"]),
        )
    tables.append(commentary)
    tables.append(_transfers_table(data.transfers))
    if data.run_rate:
        tables.append(_run_rate_table(data))
    if data.alerts:
        tables.append(_alerts_table(data))
    return tables


def commentary_title(data: ReportData) -> str:
    shown = len(data.commentary)
    whose = "" if data.department is None else f" of {data.department}"
    return (
        f"Variances requiring commentary ({data.commentary_total} material and unfavourable line items{whose}"
        f" this fiscal year{'' if shown == data.commentary_total else f', largest {shown} shown'})"
    )


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def production_tables(data: ReportData) -> list[Table]:
    """The production section: delivery, retakes, blockers and labour per project, then the blocked work."""
    if not any(r["row_type"] == "project" for r in data.production):
        return []
    table = Table(
        title=f"Production at {data.as_of} — delivery, retakes, blockers and rework (cycle time in days)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0, 0, 1),  # eleven columns fit REPORT_WIDTH with one space of padding each
    )
    table.add_column("Project", no_wrap=True, max_width=12)
    for name in ("TASKS", "OPEN", "DONE", "ON TIME", "RETAKE", "CYCLE", "BLOCKED", "UNOWNED", "LABOUR", "REWORK"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in data.production:
        studio = row["row_type"] == "studio"
        table.add_row(
            "STUDIO" if studio else escape(row["project_code"]),
            _count(row["tasks"]),
            _count(row["open_tasks"]),
            _count(row["delivered_tasks"]),
            _pct(row["on_time_rate_pct"]),
            _pct(row["retake_rate_pct"]),
            _days(row["median_cycle_time_days"]),
            _count(row["blocked_tasks"]),
            _count(row["open_tasks_without_owner"]),
            _money(row["labour_cost"]),
            _money(row["rework_cost"]),
            style="bold" if studio else None,
        )
    tables = [table]
    if data.blockers:
        blocked = Table(
            title=blockers_title(data),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            padding=(0, 0, 0, 1),
        )
        for name in ("Task", "Project", "Name", "Status", "Waits on", "CHAIN", "Root", "WAITING"):
            blocked.add_column(name, justify="right" if name.isupper() else "left", no_wrap=True)
        for row in data.blockers:
            blocked.add_row(
                escape(row["task_id"]),
                escape(row["project_code"]),
                _label(row["task_name"], 24),
                row["current_status"],
                escape(row["unfinished_dependency_ids"]),
                _count(row["chain_length"]),
                escape(row["root_blocker_task_id"]),
                _count(row["downstream_waiting"]),
            )
        tables.append(blocked)
    return tables


def blockers_title(data: ReportData) -> str:
    legend = "CHAIN = unfinished tasks above it, WAITING = open tasks waiting on it"
    if data.department is not None:
        shown = f"{len(data.blockers)} of {data.department}'s open tasks, from the studio's longest chains"
        return f"Blocked work ({shown}; {legend})"
    total = data.blockers[0]["total_blocked"]
    shown = "" if len(data.blockers) == total else f", longest {len(data.blockers)} chains shown"
    return f"Blocked work ({total} open tasks waiting on unfinished dependencies{shown}; {legend})"


def _overcommitted_line(data: ReportData) -> str | None:
    studio = next((r for r in data.production if r["row_type"] == "studio"), None)
    if studio is None:
        return None
    people = studio["overcommitted_people"] or 0
    names = f": {escape(studio['overcommitted_names'])}" if people else ""
    return f"Overcommitted in the as-of week (logged or allocated hours above capacity): {people}{names}."


def _transfers_table(transfers: list[dict]) -> Table:
    """Budget transfers that move no budget: pending, then invalid with the reasons."""
    pending = sum(1 for t in transfers if t["status"] == "pending")
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"Budget transfers not applied ({pending} pending, {len(transfers) - pending} invalid)",
        title_justify="left",
    )
    for name in ("Transfer", "Requested", "Status", "From", "To", "AMOUNT", "Reason"):
        table.add_column(name, justify="right" if name.isupper() else "left", no_wrap=name != "Reason")
    for t in transfers:
        table.add_row(
            escape(t["transfer_id"]),
            t["requested_on"],
            t["status"],
            escape(f"{t['from_project_code']} {t['from_account_code']}"),
            escape(f"{t['to_project_code']} {t['to_account_code']}"),
            _money(t["amount_base"]),
            escape(t["invalid_reasons"] or ""),
        )
    return table


def _run_rate_table(data: ReportData) -> Table:
    """The as-of month like with like: its budget prorated to the days elapsed, and the run-rate projection."""
    first = data.run_rate[0]
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"Run-rate — the as-of month, day {first['days_elapsed']} of {first['days_in_month']} (cost)",
        title_justify="left",
    )
    table.add_column("Department", no_wrap=True)
    for name in ("BUDGET TO DATE", "MTD ACTUAL", "MONTH BUDGET", "PROJECTED", "RUN-RATE VAR", "YTD PACE"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in data.run_rate:
        table.add_row(
            "STUDIO" if row["level"] == "studio" else escape(row["scope_key"]),
            _money(row["theoretical_budget_to_date"]),
            _money(row["mtd_actual"]),
            _money(row["budget"]),
            _money(row["projected_month_end"]),
            _money(row["run_rate_variance"]),
            _pct(row["ytd_pace_pct"]),
            style="bold" if row["level"] == "studio" else None,
        )
    return table


# the widest the words of an alert row may take, so that its figure and date always fit REPORT_WIDTH
ALERT_TEXT_WIDTHS = {"Severity": 8, "Alert": 18, "Scope": 7, "Key": 20, "Notify": 14}


def severity_counts(data: ReportData) -> dict[str, int]:
    """The open alerts of each severity, most severe first."""
    severities = ("critical", "warning", "info")
    return {s: sum(c["alerts"] for c in data.alert_counts if c["severity"] == s) for s in severities}


def _alerts_table(data: ReportData) -> Table:
    counts = severity_counts(data)
    total, shown = sum(counts.values()), len(data.alerts)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=f"Open alerts ({total}: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + ("" if shown == total else f"; {shown} shown")
        + ")",
        title_justify="left",
    )
    rows = [
        (
            alert["severity"],
            alert["alert_type"],
            alert["scope"],
            _label(alert["scope_key"]),
            alert_metric(alert),
            alert["notify_role"],
            alert["raised"],
        )
        for alert in data.alerts
    ]
    for index, name in enumerate(("Severity", "Alert", "Scope", "Key", "METRIC", "Notify", "Raised")):
        # a figure or a date is never cut; the words around them give way first
        whole = name in ("METRIC", "Raised")
        widest = max([len(name), *(len(str(row[index])) for row in rows)]) if whole else None
        table.add_column(
            name,
            justify="right" if name.isupper() else "left",
            no_wrap=True,
            min_width=widest,
            max_width=ALERT_TEXT_WIDTHS.get(name),
        )
    for row in rows:
        table.add_row(*row)
    return table


def report_console() -> Console:
    """A console at least REPORT_WIDTH wide, so that no figure is ever cut."""
    return terminal_console(width=max(REPORT_WIDTH, Console().width))


def print_report(data: ReportData, console: Console) -> None:
    for table in build_tables(data):
        console.print(Trimmed(table))
        console.print()
    console.print(f"{ATTENTION} = material and unfavourable (needs attention); F/U = favourable/unfavourable.")
    if data.run_rate:
        console.print(PACE_LEGEND)
    tables = production_tables(data)
    if tables:
        console.print()
    for table in tables:
        console.print(Trimmed(table))
        console.print()
    if tables and (line := _overcommitted_line(data)):
        console.print(Trimmed(line))


CSV_COLUMNS = (
    "row_type", "department_code", "department_name", "account_code", "account_name", "account_type",
    "budget", "actual", "variance", "variance_pct", "direction", "utilization_pct", "needs_attention",
    "as_of",  # the publication's as-of date on every row: a copied file still says which day it shows
)  # fmt: skip


def report_text(data: ReportData) -> str:
    """The report as plain text, as the terminal shows it (REPORT_WIDTH columns)."""
    console = Console(record=True, width=REPORT_WIDTH, file=io.StringIO())
    print_report(data, console)
    return console.export_text()


def report_csv(data: ReportData) -> str:
    """The figure rows of the text report (accounts, subtotals, the total, then revenue), one CSV row each."""
    handle = io.StringIO()
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    rows = data.rows + [dict(r, row_type="account", account_type="revenue") for r in data.revenue]
    writer.writerows(dict(r, as_of=data.as_of) for r in rows)
    return handle.getvalue()


def write_reports(published_db: Path, reports_dir: Path) -> list[Path]:
    """Write the text and CSV report; each file appears whole (written aside, then renamed)."""
    data = read_report(published_db)
    reports_dir.mkdir(parents=True, exist_ok=True)
    text_path = reports_dir / "studio_budget_vs_actual.txt"
    atomic_write(text_path, report_text(data))
    csv_path = reports_dir / "studio_budget_vs_actual.csv"
    atomic_write(csv_path, report_csv(data))
    return [text_path, csv_path]


def atomic_write(path: Path, text: str) -> None:
    """`path` appears whole: written aside under a name of this process and thread, then renamed (a refresh and
    `studio-budget report` may write the same report at once)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
