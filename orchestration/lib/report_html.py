"""The reports as self-contained HTML pages with charts (SPEC §8), laid out from the same data as the text reports.

Pages are rendered by the Jinja2 templates in `orchestration/lib/templates/`; the charts are static SVG drawn by
pygal and put inline, with the CSS, so that a page needs no network and no JavaScript to be read: opened from
disk, attached to an e-mail or printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal

import pygal
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pygal.style import Style

from orchestration.lib.report import (
    ATTENTION,
    PACE_LEGEND,
    STUDIO_TOTAL_LABEL,
    ReportData,
    alert_metric,
    blockers_title,
    commentary_title,
    department_label,
    report_title,
    severity_counts,
    subtotal_label,
)
from orchestration.lib.report_project import ProjectCostReport, category_label, margin_line

CHART_STYLE = Style(
    background="white",
    plot_background="white",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', sans-serif",
    colors=("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"),
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=11,
)
TOP_VARIANCES = 10


def money(value: Decimal | float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def direction(value: str | None) -> str:
    return {"F": "F", "U": "U", "on_target": "="}.get(value or "", "")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("orchestration.lib", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=money, pct=pct, direction=direction, alert_metric=alert_metric, category_label=category_label
    )
    env.globals.update(ATTENTION=ATTENTION, PACE_LEGEND=PACE_LEGEND)
    return env


ENVIRONMENT = _environment()


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _svg(chart: pygal.graph.graph.Graph) -> Markup:
    """The chart as inline SVG: no XML declaration, no generator comments (they carry the date, and a page should
    change only when its figures do) and no script (pygal writes its tooltips' settings in one, for a script this
    page does not load). pygal escapes the labels it draws."""
    svg = chart.render(is_unicode=True)
    return Markup(re.sub(r"<!--.*?-->|<script\b.*?</script>", "", svg, flags=re.S | re.I))


def _chart(kind: Callable[..., pygal.graph.graph.Graph], title: str, **options: object) -> pygal.graph.graph.Graph:
    settings: dict[str, object] = {
        "style": CHART_STYLE,
        "js": [],  # pygal's tooltips are a script from the network: the page stays offline
        "disable_xml_declaration": True,
        "width": 900,
        "height": 380,
        "legend_at_bottom": True,
        "value_formatter": lambda v: f"{v:,.0f}",
        "truncate_label": -1,
    }
    return kind(title=title, **(settings | options))


def budget_vs_actual_chart(data: ReportData) -> Markup:
    """By department (the studio) or by account (a department): budget to date against actual, cost."""
    if data.department is None:
        rows = [r for r in data.rows if r["row_type"] == "department"]
        labels = [r["department_code"] for r in rows]
        title = "Budget vs actual by department — fiscal year to date (cost)"
    else:
        rows = [r for r in data.rows if r["row_type"] == "account"]
        labels = [f"{r['account_code']} {r['account_name'] or ''}".strip() for r in rows]
        title = f"Budget vs actual by account — {data.department}, fiscal year to date (cost)"
    chart = _chart(pygal.Bar, title, x_label_rotation=0 if len(labels) <= 8 else 30, print_values=len(rows) <= 8)
    chart.x_labels = labels
    chart.add("Budget to date", [_number(r["budget"]) for r in rows])
    chart.add("Actual", [_number(r["actual"]) for r in rows])
    return _svg(chart)


def burn_chart(data: ReportData) -> Markup:
    """Cumulative actual against cumulative budget, month by month through the fiscal year to as-of."""
    chart = _chart(
        pygal.Line,
        f"Monthly burn against plan — cumulative cost from {data.fiscal_year_start[:7]}"
        f" (the as-of month's actual to day {data.days_elapsed}, its budget in full)",
        show_dots=True,
        dots_size=3,
    )
    chart.x_labels = [m["period"] for m in data.monthly]
    chart.add("Cumulative budget", [_number(m["ytd_budget"]) for m in data.monthly])
    chart.add("Cumulative actual", [_number(m["ytd_actual"]) for m in data.monthly])
    return _svg(chart)


def top_variances_chart(data: ReportData) -> Markup:
    """The largest variances requiring commentary, unfavourable amount by line item month."""
    shown = data.commentary[:TOP_VARIANCES]
    chart = _chart(
        pygal.HorizontalBar,
        f"Top variances requiring commentary (largest {len(shown)}, actual − budget)",
        show_legend=False,
        print_values=True,
        height=max(200, 60 + 32 * len(shown)),
    )
    # pygal draws a horizontal bar chart's first label at the bottom: the largest goes last to be on top
    ordered = list(reversed(shown))
    chart.x_labels = [f"{r['period'][:7]} {r['project_code']} {r['account_code']}" for r in ordered]
    chart.add("Variance", [_number(r["variance"]) for r in ordered])
    return _svg(chart)


def alerts_chart(alert_counts: Iterable[dict]) -> Markup:
    """Open alerts counted by type, stacked by severity (`alert_counts`: alert_type, severity, alerts)."""
    counts = {(c["alert_type"], c["severity"]): c["alerts"] for c in alert_counts}
    types = sorted({t for t, _ in counts})
    chart = _chart(pygal.StackedBar, "Open alerts by type and severity", print_values=False)
    chart.x_labels = types
    for severity in ("critical", "warning", "info"):
        if any(s == severity for _, s in counts):
            chart.add(severity, [counts.get((t, severity), 0) or None for t in types])
    return _svg(chart)


def studio_page(data: ReportData, links: dict[str, str] | None = None) -> str:
    """The studio (or a department's) budget-vs-actual page: the report's tables and its four charts."""
    table_rows = []
    heading = None
    for row in data.rows:
        if row["row_type"] != "studio" and row["department_code"] != heading:
            heading = row["department_code"]
            table_rows.append({"kind": "heading", "label": department_label(row)})
        if row["row_type"] == "account":
            label = f"{row['account_code']} {row['account_name'] or ''}".strip()
            table_rows.append({"kind": "account", "label": label, "row": row})
        elif row["row_type"] == "department":
            table_rows.append({"kind": "subtotal", "label": subtotal_label(row), "row": row})
        else:
            table_rows.append({"kind": "total", "label": STUDIO_TOTAL_LABEL, "row": row})
    counts = severity_counts(data)
    return ENVIRONMENT.get_template("studio.html.j2").render(
        title=report_title(data),
        data=data,
        table_rows=table_rows,
        commentary_title=commentary_title(data),
        alerts_shown=data.alerts,
        alert_counts=counts,
        alerts_open=sum(counts.values()),
        charts={
            "budget_vs_actual": budget_vs_actual_chart(data),
            "burn": burn_chart(data) if data.monthly else None,
            "top_variances": top_variances_chart(data) if data.commentary else None,
            "alerts": alerts_chart(data.alert_counts) if data.alert_counts else None,
        },
        links=links or {},
    )


def production_page(data: ReportData, links: dict[str, str] | None = None) -> str:
    """Delivery, retakes, blockers and labour per project, the blocked work and who is overcommitted."""
    projects = [r for r in data.production if r["row_type"] == "project"]
    studio = next((r for r in data.production if r["row_type"] == "studio"), None)
    chart = None
    if projects:
        bars = _chart(pygal.Bar, "On-time delivery and retake rate by project (%)", print_values=len(projects) <= 8)
        bars.x_labels = [r["project_code"] for r in projects]
        bars.add("On time", [_number(r["on_time_rate_pct"]) for r in projects])
        bars.add("Retake rate", [_number(r["retake_rate_pct"]) for r in projects])
        bars.value_formatter = lambda v: f"{v:.1f}"
        chart = _svg(bars)
    return ENVIRONMENT.get_template("production.html.j2").render(
        title=f"Production at {data.as_of}",
        data=data,
        projects=projects,
        studio=studio,
        blockers_title=blockers_title(data) if data.blockers else "",
        chart=chart,
        links=links or {},
    )


def project_page(report: ProjectCostReport, production: dict | None, links: dict[str, str] | None = None) -> str:
    """A project's cost report (categories → lines, category totals, the project total) and its production."""
    categories = [r for r in report.rows if r["row_type"] == "category"]
    chart = None
    if categories:
        bars = _chart(pygal.Bar, "Final budget against estimated final cost (EFC) by category")
        bars.x_labels = [category_label(r["category"]) for r in categories]
        bars.add("Final budget", [_number(r["final_budget"]) for r in categories])
        bars.add("Actual", [_number(r["actual"]) for r in categories])
        bars.add("EFC", [_number(r["efc"]) for r in categories])
        chart = _svg(bars)
    return ENVIRONMENT.get_template("project.html.j2").render(
        title=f"Cost report {report.project_code} {report.project_name} ({report.status}) — project life at "
        f"{report.as_of}",
        report=report,
        margin=margin_line(report),
        production=production,
        chart=chart,
        links=links or {},
    )


def index_page(as_of: str, pages: list[tuple[str, str]]) -> str:
    """Links to every page written at one publication: (file name, what it is)."""
    return ENVIRONMENT.get_template("index.html.j2").render(title=f"Studio reports at {as_of}", pages=pages, links={})
