"""The production summary of one project, printed under its cost report (`studio-budget report --project CODE`).

The figures come from the report model `marts.rpt_project_production`, the project's waiting tasks from
`marts.mart_blockers` and its milestones from `marts.mart_milestone_slip`, as they are; this module only lays
them out.
"""

from __future__ import annotations

import duckdb
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestration.lib.terminal import Trimmed


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _money(value: object) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} days"


def read_project_production(con: duckdb.DuckDBPyConnection, project_code: str) -> dict | None:
    """The project's summary row, its blocked tasks (longest chain first) and its milestones (by planned date)."""
    rows = _dicts(con.execute("SELECT * FROM marts.rpt_project_production WHERE project_code = ?", [project_code]))
    if not rows:
        return None
    summary = rows[0]
    summary["blockers"] = _dicts(
        con.execute(
            "SELECT task_id, task_name, current_status, unfinished_dependency_ids, chain_length, root_blocker_task_id, "
            "downstream_waiting FROM marts.mart_blockers WHERE project_code = ? "
            "ORDER BY chain_length DESC, downstream_waiting DESC, task_id",
            [project_code],
        )
    )
    summary["milestones"] = _dicts(
        con.execute(
            "SELECT milestone, planned_date::VARCHAR AS planned_date, actual_date::VARCHAR AS actual_date, "
            "milestone_status, slip_days FROM marts.mart_milestone_slip WHERE project_code = ? "
            "ORDER BY planned_date, milestone",
            [project_code],
        )
    )
    return summary


def print_project_production(con: duckdb.DuckDBPyConnection, console: Console, project_code: str) -> bool:
    """Print the production summary of `project_code` from the published warehouse `con`; False when unknown."""
    summary = read_project_production(con, project_code)
    if summary is None:
        return False
    print_production_summary(summary, console)
    return True


def print_production_summary(summary: dict, console: Console) -> None:
    """Lay out one project's summary as `read_project_production` returns it."""
    s = summary
    project_code = s["project_code"]
    figures = Table(
        title=f"Production — {escape(project_code)} {escape(s['project_name'] or '')} at {s['as_of']}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_header=False,
    )
    figures.add_column("What", no_wrap=True)
    figures.add_column("Figure", justify="right", no_wrap=True)
    lines = [
        ("Tasks (open / done)", f"{s['tasks']} ({s['open_tasks']} / {s['done_tasks']})"),
        ("Open without an owner", f"{s['open_tasks_without_owner']}"),
        ("Open and overdue", f"{s['overdue_tasks']}"),
        ("On-time delivery", _pct(s["on_time_rate_pct"])),
        ("Retake rate (retakes)", f"{_pct(s['retake_rate_pct'])} ({s['retakes']})"),
        ("Median cycle time", _days(s["median_cycle_time_days"])),
        ("Estimate accuracy (logged / estimate)", _pct(s["estimate_accuracy_pct"])),
        ("Blocked tasks (longest chain)", f"{s['blocked_tasks']} ({s['longest_blocker_chain']})"),
        ("Labour cost from timesheets", _money(s["labour_cost"])),
        ("Rework cost (after a first retake)", _money(s["rework_cost"])),
        ("Rework as % of current budget", _pct(s["rework_pct_of_budget"])),
        ("Milestones slipped (worst)", f"{s['slipped_milestones']} ({escape(s['most_slipped_milestone'] or '—')})"),
        ("Next milestone", f"{escape(s['next_milestone'] or '—')} {s['next_milestone_date'] or ''}".strip()),
    ]
    for label, figure in lines:
        figures.add_row(label, figure)
    console.print(Trimmed(figures))
    if s["blockers"]:
        blocked = Table(title="Blocked work", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("Task", "Name", "Status", "Waits on", "CHAIN", "Root blocker", "DOWNSTREAM"):
            blocked.add_column(name, justify="right" if name.isupper() else "left", no_wrap=True)
        for row in s["blockers"]:
            blocked.add_row(
                escape(row["task_id"]),
                escape(row["task_name"]),
                row["current_status"],
                escape(row["unfinished_dependency_ids"]),
                str(row["chain_length"]),
                escape(row["root_blocker_task_id"]),
                str(row["downstream_waiting"]),
            )
        console.print(Trimmed(blocked))
    if s["milestones"]:
        milestones = Table(title="Milestones", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("Milestone", "Planned", "Actual", "Status", "SLIP DAYS"):
            milestones.add_column(name, justify="right" if name.isupper() else "left", no_wrap=True)
        for row in s["milestones"]:
            slip = "" if row["slip_days"] is None else str(row["slip_days"])
            milestones.add_row(
                escape(row["milestone"]), row["planned_date"], row["actual_date"] or "", row["milestone_status"], slip
            )
        console.print(Trimmed(milestones))
