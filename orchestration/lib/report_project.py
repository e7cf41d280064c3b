"""The film-style project cost report (SPEC §6, §8), read from the published warehouse.

The rows come from `marts.rpt_project_cost_report` as they are (categories → lines, category totals, the
project total, lifetime at as-of); this module only lays them out, in the terminal and as CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import duckdb
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from orchestration.lib.contract import CATEGORIES
from orchestration.lib.terminal import Trimmed, terminal_console

FIGURES = ("final_budget", "actual", "committed", "total_cost", "etc", "efc", "over_under")
HEADINGS = ("BUDGET", "ACTUAL", "COMMITTED", "TOTAL COST", "ETC", "EFC", "OVER/UNDER")
LABEL_WIDTH = 30
REPORT_WIDTH = 140  # every figure is shown whole; a narrower terminal gets the report unwrapped all the same
# the project's revenue side (SPEC §6 projected margin = contract value + approved change-order revenue - EFC), from
# mart_project_variance, carried by the project total row
MARGIN = ("contract_value", "change_order_revenue", "projected_margin", "projected_margin_pct")
CSV_COLUMNS = (
    "project_code", "row_type", "category", "account_code", "account_name", "original_budget", "final_budget",
    "posted_actual", "accrued_actual", "actual", "committed", "total_cost", "etc", "etc_basis", "efc",
    "over_under", "over_under_pct", *MARGIN, "as_of",
)  # fmt: skip


@dataclass(frozen=True)
class ProjectCostReport:
    project_code: str
    project_name: str
    status: str
    as_of: str
    rows: list[dict]


class UnknownProject(LookupError):
    """No such project in the published warehouse."""


def read_project_cost_report(con: duckdb.DuckDBPyConnection, project_code: str) -> ProjectCostReport:
    """The project's cost report rows, read through `con` (the published warehouse, read-only)."""
    project = con.execute(
        f"SELECT project_name, status, {', '.join(MARGIN)} FROM marts.mart_project_variance WHERE project_code = ?",
        [project_code],
    ).fetchone()
    if project is None:
        listed = con.execute("SELECT project_code FROM marts.mart_project_variance ORDER BY 1").fetchall()
        known = [r[0] for r in listed]
        raise UnknownProject(f"no project {project_code!r} in the warehouse; projects: {', '.join(known)}")
    cursor = con.execute(
        "SELECT *, as_of::VARCHAR AS as_of_text FROM marts.rpt_project_cost_report WHERE project_code = ? "
        "ORDER BY row_order = 3, category, row_order, account_code",
        [project_code],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    # categories in the chart's own order (crew, equipment, …), each one's lines before its total
    rows.sort(key=lambda r: (r["row_type"] == "project", CATEGORIES.index(r["category"] or "revenue")))
    for row in rows:
        if row["row_type"] == "project":
            row.update(zip(MARGIN, project[2:], strict=True))
    as_of = (
        rows[0]["as_of_text"]
        if rows
        else con.execute("SELECT max(as_of)::VARCHAR FROM marts.rpt_studio_budget_vs_actual").fetchone()[0]
    )
    return ProjectCostReport(project_code, project[0], project[1], as_of or "", rows)


def active_project_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The projects whose work is under way (status active), each with a page of its own."""
    found = con.execute(
        "SELECT project_code FROM marts.mart_project_variance WHERE status = 'active' ORDER BY project_code"
    ).fetchall()
    return [r[0] for r in found]


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def category_label(category: str) -> str:
    """A category code as people read it (`third_party` → Third party); CSV, JSON and the marts keep the code."""
    return category.replace("_", " ").capitalize()


def project_cost_table(report: ProjectCostReport) -> Table:
    """Category → lines, the category's total, the project's total; over/under negative = over budget."""
    title = (
        f"Cost report {report.project_code} {report.project_name} ({report.status}) — project life at {report.as_of}"
    )
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Category / account", no_wrap=True, width=LABEL_WIDTH)
    for heading in HEADINGS:
        table.add_column(heading, justify="right", no_wrap=True, min_width=11)
    table.add_column("ETC BASIS", no_wrap=True, min_width=16)
    for row in report.rows:
        figures = [_money(row[f]) for f in FIGURES]
        if row["row_type"] == "line":
            label = f"  {row['account_code']} {row['account_name'] or ''}"
            label = label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 1] + "…"
            over = row["over_under"] < 0
            table.add_row(escape(label), *figures, row["etc_basis"] or "", style="red" if over else None)
        elif row["row_type"] == "category":
            table.add_row(escape(f"{category_label(row['category'])} total"), *figures, "", style="bold")
            table.add_section()
        else:
            table.add_row("PROJECT TOTAL", *figures, "", style="bold")
    return table


def project_console() -> Console:
    return terminal_console(width=max(REPORT_WIDTH, Console().width))


def margin_line(report: ProjectCostReport) -> str | None:
    """The projected margin in words: contract value + approved change-order revenue - EFC (SPEC §6)."""
    total = next((r for r in report.rows if r["row_type"] == "project"), None)
    if total is None or total.get("projected_margin") is None:
        return None
    pct = total["projected_margin_pct"]
    return (
        f"Projected margin {_money(total['projected_margin'])}"
        + ("" if pct is None else f" ({pct:.1f}%)")
        + f" = contract value {_money(total['contract_value'])} + approved change-order revenue "
        f"{_money(total['change_order_revenue'])} - EFC {_money(total['efc'])}."
    )


def print_project_cost_report(report: ProjectCostReport, console: Console) -> None:
    console.print(Trimmed(project_cost_table(report)))
    if margin := margin_line(report):
        console.print(Trimmed(escape(margin)))
    console.print(
        Trimmed(
            "BUDGET = final budget (current + approved change orders + valid transfers); ACTUAL = posted + accrued; "
            "EFC = total cost + ETC; OVER/UNDER = budget - EFC (negative = over)."
        )
    )


def project_cost_csv(report: ProjectCostReport) -> str:
    """The cost report's rows as CSV (category codes, unrounded figures, the as-of date)."""
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(report.rows)
    return handle.getvalue()
