"""Any report at any level in any format (SPEC §8): `render_report(published_db, level, key, period, fmt)`.

One entry point for the CLI (`studio-budget report`), the reports asset and whoever sends a department its own
report: the studio report, a department's (its rows only) or a project's cost report with its production
summary, as text, HTML, CSV or JSON. Every format is laid out from the same read functions as the text report.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal, get_args

import duckdb
from rich.console import Console

from orchestration.lib.report import (
    MissingReportModel,
    ReportData,
    atomic_write,
    department_codes,
    print_report,
    read_report,
    report_csv,
    report_text,
    write_reports,
)
from orchestration.lib.report_html import index_page, production_page, project_page, studio_page
from orchestration.lib.report_production import print_production_summary, read_project_production
from orchestration.lib.report_project import (
    REPORT_WIDTH as PROJECT_REPORT_WIDTH,
)
from orchestration.lib.report_project import (
    ProjectCostReport,
    UnknownProject,
    active_project_codes,
    print_project_cost_report,
    project_cost_csv,
    read_project_cost_report,
)

Level = Literal["studio", "department", "project"]
Format = Literal["text", "html", "csv", "json"]
LEVELS: tuple[str, ...] = get_args(Level)
FORMATS: tuple[str, ...] = get_args(Format)
STUDIO_PAGE = "studio_budget_vs_actual.html"
PRODUCTION_PAGE = "production.html"
INDEX_PAGE = "index.html"
# what `studio-budget report` leaves in reports/ (`--write`, and a project's CSV always), named by level, code and
# format (`report_file_name`); and the pipeline's page of an active project
SUFFIX_OF_FORMAT: dict[Format, str] = {"text": "txt", "html": "html", "csv": "csv", "json": "json"}
FORMAT_OF_SUFFIX: dict[str, Format] = {suffix: fmt for fmt, suffix in SUFFIX_OF_FORMAT.items()}
WRITTEN_REPORT_NAME = re.compile(
    r"(?:studio_budget_vs_actual|department_(?P<department>.+)_budget_vs_actual|project_(?P<project>.+)_cost_report)"
    rf"\.(?P<suffix>{'|'.join(SUFFIX_OF_FORMAT.values())})"
)
PROJECT_PAGE_NAME = re.compile(r"project_(?P<code>.+)\.html")


def report_file_name(level: Level, key: str | None, fmt: Format) -> str:
    """The file `studio-budget report --write` writes a report to under reports/ (`WRITTEN_REPORT_NAME` reads it)."""
    stem = {"studio": "studio_budget_vs_actual", "department": f"department_{key}_budget_vs_actual"}.get(
        level, f"project_{key}_cost_report"
    )
    return f"{stem}.{SUFFIX_OF_FORMAT[fmt]}"


class ReportRequestError(ValueError):
    """A report that cannot be drawn as asked (unknown level, code or format; a period the models do not hold)."""


@dataclass(frozen=True)
class ProjectReport:
    cost: ProjectCostReport
    production: dict | None  # None when the project has no production data


@dataclass(frozen=True)
class LoadedReport:
    """The figures of one report, read once, ready for any format."""

    level: Level
    key: str | None
    period: str  # YYYY-MM, the publication's as-of month
    studio: ReportData | None = None  # level studio or department
    project: ProjectReport | None = None  # level project


def project_page_name(project_code: str) -> str:
    return f"project_{project_code}.html"


def _as_of(published_db: Path) -> str:
    with duckdb.connect(str(published_db), read_only=True) as con:
        return con.execute("SELECT max(as_of)::VARCHAR FROM marts.rpt_studio_budget_vs_actual").fetchone()[0] or ""


def _check_period(as_of: str, period: str | None, level: str) -> str:
    """The reporting month: the as-of month of the publication, the only one the report models are drawn at."""
    as_of_month = as_of[:7]
    if period is None:
        return as_of_month
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        raise ReportRequestError(f"--period must be a month YYYY-MM, not {period!r}")
    if period != as_of_month:
        # the rpt_ models hold fiscal YTD and project-life figures at as-of only; another month's figures would
        # need every section (prorated budget, commentary, run-rate, alerts, ETC) re-drawn at that month
        raise ReportRequestError(
            f"the {level} report can only be drawn for {as_of_month}, the as-of month of this publication "
            f"(as of {as_of}): the report models hold fiscal year-to-date and project-life figures at as-of, "
            f"not at {period}. For earlier months query marts.mart_studio_variance, mart_department_variance or "
            f"mart_line_item_variance (monthly and fiscal YTD by period), or run the pipeline with --as-of in {period}"
        )
    return period


def load_report(
    published_db: Path, level: Level = "studio", key: str | None = None, period: str | None = None
) -> LoadedReport:
    """Read the figures of the report asked for; ReportRequestError names what is wrong and the valid choices."""
    if level not in LEVELS:
        raise ReportRequestError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
    if level == "studio" and key is not None:
        raise ReportRequestError("the studio report takes no department or project code")
    if level != "studio" and not key:
        raise ReportRequestError(f"a {level} report needs a {level} code (--{level} CODE)")
    month = _check_period(_as_of(published_db), period, level)
    if level == "project":
        with duckdb.connect(str(published_db), read_only=True) as con:
            try:
                cost = read_project_cost_report(con, key)
            except UnknownProject as error:
                raise ReportRequestError(str(error)) from error
            production = read_project_production(con, key)
        return LoadedReport(level, key, month, project=ProjectReport(cost, production))
    if level == "department":
        known = department_codes(published_db)
        if key not in known:
            raise ReportRequestError(f"no department {key!r} in the warehouse; departments: {', '.join(known)}")
    try:
        studio = read_report(published_db, department=key)
    except MissingReportModel as error:
        raise ReportRequestError(str(error)) from error
    return LoadedReport(level, key, month, studio=studio)


def render(report: LoadedReport, fmt: Format = "text") -> str:
    """One loaded report in one format."""
    if fmt not in FORMATS:
        raise ReportRequestError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if report.project is not None:
        return _render_project(report, fmt)
    data = report.studio
    assert data is not None
    if fmt == "text":
        return report_text(data)
    if fmt == "csv":
        return report_csv(data)
    if fmt == "html":
        return studio_page(data)
    return _json(report, asdict(data))


def render_report(
    published_db: Path,
    level: Level = "studio",
    key: str | None = None,
    period: str | None = None,
    fmt: Format = "text",
) -> str:
    """The report of `level` ("studio"; "department" or "project" with its code as `key`) for `period` (YYYY-MM,
    default the publication's as-of month) as `fmt` ("text", "html", "csv" or "json"), from the published
    warehouse `published_db`. A department's report holds that department's data only. Raises
    ReportRequestError for an unknown level, code or format, or a period the report models do not hold."""
    return render(load_report(published_db, level, key, period), fmt)


def print_text(report: LoadedReport, console: Console) -> None:
    """The text report on a console (a terminal gets its bold rows and colours)."""
    if report.project is not None:
        print_project_cost_report(report.project.cost, console)
        if report.project.production is not None:
            console.print()
            print_production_summary(report.project.production, console)  # under the cost report
        return
    assert report.studio is not None
    print_report(report.studio, console)


def _render_project(report: LoadedReport, fmt: Format) -> str:
    project = report.project
    assert project is not None
    if fmt == "text":
        console = Console(record=True, width=PROJECT_REPORT_WIDTH, file=io.StringIO())
        print_text(report, console)
        return console.export_text()
    if fmt == "csv":
        return project_cost_csv(project.cost)
    if fmt == "html":
        return project_page(project.cost, project.production)
    cost = asdict(project.cost)
    for row in cost["rows"]:
        row.pop("as_of_text", None)
    return _json(report, {"cost_report": cost, "production": project.production})


def _plain(value: object) -> object:
    """JSON for the warehouse's types: amounts as numbers (to the cent), dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json(report: LoadedReport, figures: dict) -> str:
    document = {"level": report.level, "key": report.key, "period": report.period, **figures}
    return json.dumps(document, default=_plain, ensure_ascii=False, indent=2) + "\n"


def write_html_reports(published_db: Path, reports_dir: Path) -> list[Path]:
    """The HTML pages of one publication: the studio report, production, one page per active project and an
    index linking them; each written aside, then renamed into place."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    data = read_report(published_db)
    with duckdb.connect(str(published_db), read_only=True) as con:
        projects = [
            ProjectReport(read_project_cost_report(con, code), read_project_production(con, code))
            for code in active_project_codes(con)
        ]
    links = {"Index": INDEX_PAGE, "Studio": STUDIO_PAGE, "Production": PRODUCTION_PAGE}
    links |= {p.cost.project_code: project_page_name(p.cost.project_code) for p in projects}
    pages = [
        (STUDIO_PAGE, "Studio budget vs actual", studio_page(data, links)),
        (PRODUCTION_PAGE, "Production", production_page(data, links)),
    ]
    for project in projects:
        cost = project.cost
        pages.append(
            (
                project_page_name(cost.project_code),
                f"Cost report {cost.project_code} {cost.project_name}",
                project_page(cost, project.production, links),
            )
        )
    written = []
    for name, _, html in pages:
        atomic_write(reports_dir / name, html)
        written.append(reports_dir / name)
    atomic_write(reports_dir / INDEX_PAGE, index_page(data.as_of, [(name, what) for name, what, _ in pages]))
    return [*written, reports_dir / INDEX_PAGE]


def write_publication_reports(published_db: Path, reports_dir: Path) -> list[Path]:
    """Every report of one publication in `reports_dir`: the studio report as text and CSV, the HTML pages, and
    the reports earlier publications left there brought to this one (`refresh_earlier_reports`)."""
    written = write_reports(published_db, reports_dir) + write_html_reports(published_db, reports_dir)
    return written + refresh_earlier_reports(published_db, reports_dir, {path.name for path in written})


def refresh_earlier_reports(published_db: Path, reports_dir: Path, written: set[str]) -> list[Path]:
    """The reports earlier publications left in `reports_dir` (files not among `written`, this one's), brought to
    the publication `published_db`, so that none there shows older figures beside the new: a report that
    `studio-budget report` wrote (by its name: level, code and format) for a project or department of this
    publication is written again; the page of a project of this publication no longer active is removed. A name
    with a code this publication does not hold, a link and anything else are left alone: they may be someone's
    own files. Returns the reports written again."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        projects = dict(con.execute("SELECT project_code, status FROM marts.mart_project_variance").fetchall())
    departments = set(department_codes(published_db))
    rewritten = []
    for path in sorted(reports_dir.iterdir()):
        if path.name in written or path.is_symlink() or not path.is_file():
            continue
        if named := WRITTEN_REPORT_NAME.fullmatch(path.name):
            project, department = named["project"], named["department"]
            if (project is not None and project not in projects) or (
                department is not None and department not in departments
            ):
                continue
            level: Level = "project" if project else "department" if department else "studio"
            fmt = FORMAT_OF_SUFFIX[named["suffix"]]
            atomic_write(path, render(load_report(published_db, level, project or department), fmt))
            rewritten.append(path)
        elif (page := PROJECT_PAGE_NAME.fullmatch(path.name)) and projects.get(page["code"], "active") != "active":
            path.unlink(missing_ok=True)
    return rewritten
