"""`studio-budget report` at every level and format, `render_report` for other callers, and progress that shows
on a terminal only (SPEC §3, §8)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import threading
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from orchestration.lib.config import REPO_ROOT
from orchestration.lib.report import ALERTS_SHOWN, REPORT_WIDTH, atomic_write, build_tables, read_report, report_text
from orchestration.lib.report_render import ReportRequestError, render_report, write_publication_reports
from orchestration.lib.terminal import QuietStatus, progress_status, terminal_console
from tests.conftest import SMALL_AS_OF, CliRun, copy_warehouse, query, rows, run_cli


def test_text_report_puts_each_department_name_before_its_accounts(small_db: Path) -> None:
    lines = [line.strip() for line in report_text(read_report(small_db)).splitlines()]
    labels = [line.split("  ")[0] for line in lines]
    # the small studio: D1 Production has 5100, 5200 and 5900; D2 Post has 5100 and 5200 (expense)
    d1, d2 = labels.index("D1 Production"), labels.index("D2 Post")
    assert labels[d1 + 1 : d1 + 5] == ["5100 Crew", "5200 Camera rental", "5900 Insurance", "Subtotal D1"]
    assert labels[d2 + 1 : d2 + 4] == ["5100 Crew", "5200 Camera rental", "Subtotal D2"]
    assert labels.index("STUDIO TOTAL (cost)") > d2
    # the heading row carries no figure; the subtotal does (by hand: 11866.66 → 11,867)
    assert lines[d1] == "D1 Production" and "11,867" in lines[d1 + 4]


def test_the_legend_says_how_the_run_rate_pace_is_computed(small_db: Path) -> None:
    """Under the tables, YTD PACE in the words of SPEC §6; the studio's pace as shown is that sentence's arithmetic
    on the mart's own figures (months elapsed: the closed months and the as-of month in part)."""
    legend = "YTD PACE = year-to-date actual / (annual budget × months elapsed / 12); 100% = on pace."
    data = read_report(small_db)
    lines = report_text(data).splitlines()
    assert legend in [line.strip() for line in lines]
    [(ytd_actual, annual_budget, months_elapsed)] = query(
        small_db,
        "SELECT ytd_actual, annual_budget, months_elapsed FROM marts.mart_run_rate "
        "WHERE level = 'studio' AND is_as_of_month",
    )
    pace = float(ytd_actual) / (float(annual_budget) * months_elapsed / 12) * 100
    start = next(i for i, line in enumerate(lines) if line.startswith("Run-rate"))
    studio = next(line.split() for line in lines[start:] if line.strip().startswith("STUDIO"))
    assert studio[-1] == f"{pace:.1f}%"
    assert legend in render_report(small_db, fmt="html")
    # no run-rate table (a warehouse published before it), no word about it
    assert "YTD PACE" not in report_text(replace(data, run_rate=[]))


def test_text_report_lines_end_at_their_last_character_in_rich_columns(small_db: Path) -> None:
    data = read_report(small_db)
    lines = report_text(data).splitlines()
    assert len(lines) > 20 and [line for line in lines if line != line.rstrip()] == []
    # the tables as rich lays them out (padded to their width): the same lines, the same columns, less that padding
    console = Console(record=True, width=REPORT_WIDTH, file=io.StringIO())
    for table in build_tables(data):
        console.print(table)
        console.print()
    padded = console.export_text().splitlines()
    assert any(line != line.rstrip() for line in padded)
    assert lines[: len(padded)] == [line.rstrip() for line in padded]


def test_printed_and_written_text_reports_carry_no_trailing_spaces(sample_run: CliRun) -> None:
    """The run's report on its standard output, the text file it wrote and a project's cost report with its
    production summary."""
    database = sample_run.warehouse / "studio.duckdb"
    written = (sample_run.warehouse / "reports" / "studio_budget_vs_actual.txt").read_text(encoding="utf-8")
    project = render_report(database, "project", "EP-2601", fmt="text")
    for name, text in (("stdout", sample_run.stdout), ("file", written), ("project", project)):
        lines = text.splitlines()
        assert len(lines) > 20 and [line for line in lines if line != line.rstrip()] == [], name
    assert "Cost report EP-2601" in project and "Production — EP-2601" in project


def test_department_report_holds_that_department_only(small_db: Path) -> None:
    document = json.loads(render_report(small_db, "department", "D2", None, "json"))
    assert document["level"] == "department" and document["key"] == "D2" and document["period"] == "2025-03"
    assert {r["department_code"] for r in document["rows"] + document["revenue"]} == {"D2"}
    assert [r["row_type"] for r in document["rows"]][-1] == "department"  # no studio total
    # by hand: D2 budget to date 1250.00 + 78000.00 = 79250.00 against 84320.00
    [subtotal] = [r for r in document["rows"] if r["row_type"] == "department"]
    assert (subtotal["budget"], subtotal["actual"]) == (79250.0, 84320.0)
    for fmt in ("text", "csv", "html"):
        rendered = render_report(small_db, "department", "D2", None, fmt)
        assert "D1" not in rendered and "Production" not in rendered and "P1" not in rendered, fmt
    table = list(csv.DictReader(io.StringIO(render_report(small_db, "department", "D2", None, "csv"))))
    assert {r["department_code"] for r in table} == {"D2"}


def test_studio_csv_and_json_carry_the_report_rows(small_db: Path) -> None:
    expected = rows(small_db, "SELECT * FROM marts.rpt_studio_budget_vs_actual")
    table = list(csv.DictReader(io.StringIO(render_report(small_db, fmt="csv"))))
    assert len(table) == len(expected)
    [studio] = [r for r in table if r["row_type"] == "studio"]
    assert (Decimal(studio["budget"]), Decimal(studio["actual"])) == (Decimal("91116.66"), Decimal("91120.00"))
    document = json.loads(render_report(small_db, fmt="json"))
    assert document["as_of"] == "2025-03-15" and document["fiscal_year_start"] == "2025-01-01"
    assert len(document["rows"]) + len(document["revenue"]) == len(expected)
    # the burn chart's months: January to the as-of month, cumulative (by hand: studio actual 91,120.00 by March)
    assert [m["period"] for m in document["monthly"]] == ["2025-01", "2025-02", "2025-03"]
    assert document["monthly"][-1]["ytd_actual"] == 91120.0


def test_render_report_refuses_what_the_models_cannot_say(small_db: Path) -> None:
    with pytest.raises(ReportRequestError, match="departments: D1, D2"):
        render_report(small_db, "department", "D9")
    with pytest.raises(ReportRequestError, match="projects: P1, P2"):
        render_report(small_db, "project", "P9")
    with pytest.raises(ReportRequestError, match="only be drawn for 2025-03"):
        render_report(small_db, "studio", None, "2025-02")
    with pytest.raises(ReportRequestError, match="YYYY-MM"):
        render_report(small_db, "studio", None, "2025-3")
    with pytest.raises(ReportRequestError, match="formats: text, html, csv, json"):
        render_report(small_db, fmt="pdf")  # type: ignore[arg-type]
    assert "PROJECT TOTAL" in render_report(small_db, "project", "P1", "2025-03")


def test_report_command_levels_formats_and_usage_errors(sample_run: CliRun, tmp_path: Path) -> None:
    copy_warehouse(sample_run.warehouse, tmp_path / "warehouse")  # a project's report writes: the sample is shared
    warehouse = str(tmp_path / "warehouse")
    database = tmp_path / "warehouse" / "studio.duckdb"
    departments = [
        r[0] for r in query(database, "SELECT DISTINCT department_code FROM marts.mart_department_variance ORDER BY 1")
    ]
    missing = run_cli("report", "--warehouse", warehouse, "--level", "department")
    assert missing.returncode == 2 and "--department" in missing.stderr
    unknown = run_cli("report", "--warehouse", warehouse, "--department", "NOPE")
    assert unknown.returncode == 2 and f"departments: {', '.join(departments)}" in " ".join(unknown.stderr.split())
    past = run_cli("report", "--warehouse", warehouse, "--period", "2026-09")
    assert past.returncode == 2 and "2026-10" in past.stderr and past.stdout == ""
    assert run_cli("report", "--warehouse", warehouse, "--format", "pdf").returncode == 2
    done = run_cli("report", "--warehouse", warehouse, "--department", "PROD", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    [(budget, actual)] = query(
        database,
        "SELECT budget, mtd_actual FROM marts.mart_run_rate WHERE level = 'department' AND scope_key = 'PROD' "
        "AND is_as_of_month",
    )
    assert [(r["budget"], r["mtd_actual"]) for r in document["run_rate"]] == [(float(budget), float(actual))]
    assert {r["department_code"] for r in document["rows"]} == {"PROD"}
    assert "\x1b" not in done.stdout + done.stderr
    project = run_cli(
        "report", "--warehouse", warehouse, "--level", "project", "--project", "EP-2601", "--format", "csv"
    )
    assert project.returncode == 0, project.stderr
    expected = query(database, "SELECT count(*) FROM marts.rpt_project_cost_report WHERE project_code = 'EP-2601'")
    rows = list(csv.DictReader(io.StringIO(project.stdout)))
    assert len(rows) == expected[0][0]
    # the projected margin (SPEC §6): the contract value and the approved change orders' revenue from the landing
    # files, less the report's own EFC, in every format
    landing = sample_run.landing

    def landed(name: str) -> list[dict]:
        return list(csv.DictReader(io.StringIO((landing / name).read_text(encoding="utf-8"))))

    [contract] = [r["contract_value"] for r in landed("projects.csv") if r["project_code"] == "EP-2601"]
    approved = [r for r in landed("change_orders.csv") if r["project_code"] == "EP-2601" and r["status"] == "approved"]
    co_revenue = sum((Decimal(r["revenue_amount"]) for r in approved), Decimal(0))
    [total] = [r for r in rows if r["row_type"] == "project"]
    margin = Decimal(contract) + co_revenue - Decimal(total["efc"])
    assert co_revenue > 0 and Decimal(total["projected_margin"]) == margin
    said = f"Projected margin {margin:,.0f}"
    assert said in run_cli("report", "--warehouse", warehouse, "--project", "EP-2601").stdout
    as_json = run_cli("report", "--warehouse", warehouse, "--project", "EP-2601", "--format", "json").stdout
    [json_total] = [r for r in json.loads(as_json)["cost_report"]["rows"] if r["row_type"] == "project"]
    assert Decimal(str(json_total["projected_margin"])) == margin
    html = run_cli("report", "--warehouse", warehouse, "--project", "EP-2601", "--format", "html").stdout
    assert f'<p id="projected-margin">{said}' in html
    # --write at a level other than the studio's writes what was printed, in the format printed
    written = tmp_path / "warehouse" / "reports" / "project_EP-2601_cost_report.txt"
    assert not written.exists()
    text = run_cli("report", "--warehouse", warehouse, "--project", "EP-2601", "--write")
    assert text.returncode == 0, text.stderr

    # the same report, laid out for a file rather than this 160-column terminal: the same rows, the same figures
    def total_row(report: str) -> list[str]:
        return next(line.split() for line in report.splitlines() if line.strip().startswith("PROJECT TOTAL"))

    assert total_row(written.read_text(encoding="utf-8")) == total_row(text.stdout)
    # a warehouse the reader cannot write into (here a file stands where reports/ goes): printed all the same
    shutil.rmtree(tmp_path / "warehouse" / "reports")
    (tmp_path / "warehouse" / "reports").write_text("not a folder", encoding="utf-8")
    unwritable = run_cli("report", "--warehouse", warehouse, "--project", "EP-2601")
    assert unwritable.returncode == 0, unwritable.stderr
    assert total_row(unwritable.stdout) == total_row(text.stdout) and "CSV was not written" in unwritable.stderr


# the categories of SPEC §4 as the project cost report names them
CATEGORY_NAMES = {
    "crew": "Crew", "equipment": "Equipment", "location": "Location", "post": "Post", "third_party": "Third party",
    "overhead": "Overhead", "contingency": "Contingency", "revenue": "Revenue",
}  # fmt: skip


def test_project_cost_report_names_category_totals_in_words_and_keeps_codes_in_data(sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    categories = [
        r[0]
        for r in query(
            database,
            "SELECT category FROM marts.rpt_project_cost_report WHERE project_code = 'EP-2601' "
            "AND row_type = 'category' ORDER BY 1",
        )
    ]
    assert "third_party" in categories
    expected = sorted(f"{CATEGORY_NAMES[c]} total" for c in categories)
    text = render_report(database, "project", "EP-2601", fmt="text")
    labels = [line.split("  ")[0].strip() for line in text.splitlines()]
    assert sorted(label for label in labels if label.endswith(" total")) == expected
    html = render_report(database, "project", "EP-2601", fmt="html")
    assert sorted(re.findall(r'<tr class="subtotal"><td>([^<]*)</td>', html)) == expected
    assert "third_party" not in text and "third_party" not in html
    # the CSV and JSON are data: the category codes as the landing files and the marts hold them
    table = csv.DictReader(io.StringIO(render_report(database, "project", "EP-2601", fmt="csv")))
    assert sorted(r["category"] for r in table if r["row_type"] == "category") == categories
    document = json.loads(render_report(database, "project", "EP-2601", fmt="json"))
    assert sorted(r["category"] for r in document["cost_report"]["rows"] if r["row_type"] == "category") == categories


def test_a_department_report_lists_its_own_variances_requiring_commentary(sample_run: CliRun) -> None:
    """Each department's largest line-item months needing attention this fiscal year, ranked within it, and how
    many it owes in all: worked out here from mart_line_item_variance, sorted in Python."""
    import yaml

    top = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]["report_top_variances"]
    database = sample_run.warehouse / "studio.duckdb"
    owed = query(
        database,
        "SELECT department_code, period::VARCHAR, project_code, account_code, variance "
        "FROM marts.mart_line_item_variance WHERE needs_attention AND fiscal_year_start = "
        "(SELECT max(fiscal_year_start) FROM marts.rpt_studio_budget_vs_actual)",
    )
    studio = "SELECT period::VARCHAR, project_code, account_code FROM marts.rpt_variances_requiring_commentary"
    studio_list = set(query(database, studio))
    departments = sorted({line[0] for line in owed})
    unseen_before = []  # departments with none of their lines among the studio's largest
    for department in departments:
        own = sorted((line for line in owed if line[0] == department), key=lambda r: (-abs(r[4]), r[1], r[2], r[3]))
        document = json.loads(render_report(database, "department", department, fmt="json"))
        listed = [(c["period"], c["project_code"], c["account_code"]) for c in document["commentary"]]
        assert listed == [line[1:4] for line in own[:top]], department
        assert document["commentary_total"] == len(own), department
        title = f"({len(own)} material and unfavourable line items of {department} this fiscal year"
        assert title in " ".join(render_report(database, "department", department).split()), department
        if not set(listed) & studio_list:
            unseen_before.append(department)
    assert len(departments) > 1 and unseen_before  # the studio's list alone would have shown these departments none


def test_a_run_with_nothing_new_still_names_the_files_it_does_not_read(
    sample_run: CliRun, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The nothing-new path (no Dagster, no dbt) says what it says on every run: the files nothing reads."""
    from orchestration.cli import EXIT_OK, nothing_new
    from orchestration.lib.config import WarehouseLayout
    from orchestration.lib.freshness import run_inputs
    from orchestration.lib.mappings import load_mappings

    copy_warehouse(sample_run.warehouse, tmp_path / "warehouse")  # alert delivery writes the outbox
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "AS_OF").write_text("2026-10-15\n", encoding="utf-8")
    (landing / "Budgets_2027.csv").write_text("x\n", encoding="utf-8")
    layout = WarehouseLayout(tmp_path / "warehouse")
    mappings = load_mappings()
    inputs = run_inputs(landing, layout, "2026-10-15", None, mappings)
    assert nothing_new(layout, inputs, None, terminal_console(stderr=True), landing, mappings) == EXIT_OK
    err = capsys.readouterr().err
    assert "nothing new" in err and "NOT READ Budgets_2027.csv: no landing source or mapping takes this name." in err


def test_console_is_plain_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """FORCE_COLOR makes rich treat any stream as a terminal; a pipe still gets no spinner and no codes."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setattr("sys.stderr", io.StringIO())
    console = terminal_console(stderr=True)
    assert not console.is_terminal
    with progress_status(console, "Refreshing…") as status:
        assert isinstance(status, QuietStatus)
        status.update("12 of 66 OK created sql table model marts.mart_studio_variance")
        console.print("[bold]done[/bold]")
    assert console.file.getvalue() == "done\n"


def test_messages_are_never_broken_across_lines_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped, rich would wrap at 80 columns; a path on stderr must stay whole for a log reader to copy or grep."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    path = "/tmp/" + "/".join(f"folder-{i:02d}" for i in range(20)) + "/report.txt"
    console = terminal_console(stderr=True)
    console.print(f"         report: {path}")
    assert console.file.getvalue() == f"         report: {path}\n"


def test_report_lists_the_most_pressing_alerts_and_counts_them_all(small_db: Path, tmp_path: Path) -> None:
    """With more open alerts than a report lists, it reads the 15 most pressing and counts every one in SQL; the
    expected list and counts come from every open alert sorted and counted in Python."""
    database = tmp_path / "studio.duckdb"
    shutil.copyfile(small_db, database)
    with duckdb.connect(str(database)) as con:
        # 30 more open alerts of each severity (distinct gaps between actual and budget, some without a budget)
        # and 5 cleared ones, which a report never counts
        con.execute(
            "INSERT INTO audit.alert_history (alert_key, alert_type, scope, scope_key, severity, budget, actual, "
            "metric_value, notify_role, first_raised_at, cleared_at) "
            "SELECT 'extra-' || i, 'test_type_' || (i % 2), 'line', 'K' || i, "
            "['critical', 'warning', 'info'][i % 3 + 1], CASE WHEN i % 4 = 0 THEN NULL ELSE 100 END, 100 + i * 7, "
            "0.5, 'producer', TIMESTAMPTZ '2025-03-15 06:00:00+00', "
            "CASE WHEN i >= 30 THEN TIMESTAMPTZ '2025-03-15 07:00:00+00' END FROM range(35) t(i)"
        )
    every = rows(database, "SELECT * FROM audit.alert_history WHERE cleared_at IS NULL")
    rank = {"critical": 0, "warning": 1, "info": 2}
    every.sort(key=lambda a: (rank[a["severity"]], -abs(a["actual"] - (a["budget"] or 0)), a["alert_key"]))
    data = read_report(database)
    assert [(a["scope_key"], a["severity"]) for a in data.alerts] == [
        (a["scope_key"], a["severity"]) for a in every[:ALERTS_SHOWN]
    ]
    counted = Counter((a["alert_type"], a["severity"]) for a in every)
    assert {(c["alert_type"], c["severity"]): c["alerts"] for c in data.alert_counts} == counted
    by_severity = Counter(a["severity"] for a in every)
    title = (
        f"Open alerts ({len(every)}: {by_severity['critical']} critical, {by_severity['warning']} warning, "
        f"{by_severity['info']} info; {ALERTS_SHOWN} shown)"
    )
    # the small studio's 22 open alerts (P2 over its budget and P1 under it, each at line, project and department
    # level, month, fiscal year and lifetime: 15; and three lines quiet in March judged on their fiscal year:
    # P1/5200 (2,600 of 2,000, 30% > 10%) and P2/5200 (83,200 of 78,000, 5,200 > 5,000) over the year's budget,
    # projected over it and materially so, P1/5900 700 without a budget (not material): 7) and the 30 added
    assert len(every) == 22 + 30 and title in report_text(data)
    assert title.replace("Open alerts", "") in render_report(database, fmt="html")


def test_an_alerts_metric_reads_as_an_amount_or_a_percentage() -> None:
    """A material variance judged by its amount threshold shows the amount, not a percentage of it."""
    from orchestration.lib.report import alert_metric

    assert alert_metric({"metric_name": "variance", "metric_value": 6000.0}) == "6,000"
    assert alert_metric({"metric_name": "ytd_variance", "metric_value": 5200.0}) == "5,200"
    assert alert_metric({"metric_name": "utilization_pct", "metric_value": 130.0}) == "130.0%"
    assert alert_metric({"metric_name": "utilization_pct", "metric_value": None}) == "no budget"


def test_a_publication_brings_the_reports_earlier_ones_left_to_its_own_figures(small_db: Path, tmp_path: Path) -> None:
    """reports/ after a refresh holds no report with an older publication's figures: what `studio-budget report`
    wrote for a project or department of the publication is written again in its level, code and format, and the
    page of a project no longer active is removed. Names with codes the publication does not hold, links and other
    files are left as they are: they may be someone's own."""
    reports = tmp_path / "reports"
    reports.mkdir()
    shared = tmp_path / "shared.csv"
    shared.write_text("the producer's own copy", encoding="utf-8")
    (reports / "project_P2_cost_report.csv").symlink_to(shared)
    earlier = {
        "project_P1_cost_report.csv": "project_code,efc\nP1,1.00\n",  # `report --project P1`, an earlier publication
        "department_D2_budget_vs_actual.json": "{}",  # `report --department D2 --format json --write`
        "project_GONE_cost_report.csv": "not a code of this warehouse",
        "project_P1_storyboard.html": "the producer's page",
        "project_notes.html": "the producer's notes",
        "notes.txt": "the producer's own file",
    }
    for name, text in earlier.items():
        (reports / name).write_text(text, encoding="utf-8")
    # a page the pipeline wrote when P1 was active: removed once it is not (P1 wrapped in this copy)
    closed = tmp_path / "studio.duckdb"
    shutil.copy(small_db, closed)
    with duckdb.connect(str(closed)) as con:
        con.execute("UPDATE marts.mart_project_variance SET status = 'wrapped' WHERE project_code = 'P1'")
    (reports / "project_P1.html").write_text("<html>an earlier publication's page</html>", encoding="utf-8")
    written = write_publication_reports(closed, reports)
    names = {p.name for p in reports.iterdir()}
    assert "project_P1.html" not in names and "project_P2.html" in names  # the active project's page is written
    for name, text in earlier.items():
        if not name.startswith(("project_P1_cost", "department_D2")):
            assert (reports / name).read_text(encoding="utf-8") == text, name
    assert (reports / "project_P2_cost_report.csv").is_symlink()
    assert shared.read_text(encoding="utf-8") == "the producer's own copy"
    assert {reports / "project_P1_cost_report.csv", reports / "department_D2_budget_vs_actual.json"} <= set(written)
    with (reports / "project_P1_cost_report.csv").open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    [total] = [r for r in csv_rows if r["row_type"] == "project"]
    # the project total against the project mart, each line against the cost report's lines
    [(efc, final_budget)] = query(
        small_db, "SELECT efc, final_budget FROM marts.mart_project_variance WHERE project_code = 'P1'"
    )
    assert (Decimal(total["efc"]), Decimal(total["final_budget"])) == (efc, final_budget)
    lines = {r["account_code"]: Decimal(r["efc"]) for r in csv_rows if r["row_type"] == "line"}
    assert lines == dict(
        query(small_db, "SELECT account_code, efc FROM marts.mart_line_item_cost_report WHERE project_code = 'P1'")
    )
    # D2's JSON: its account rows are D2's expense lines of the line-item mart, summed to date by hand
    document = json.loads((reports / "department_D2_budget_vs_actual.json").read_text(encoding="utf-8"))
    accounts = {r["account_code"]: Decimal(str(r["actual"])) for r in document["rows"] if r["row_type"] == "account"}
    assert {r["department_code"] for r in document["rows"] if r["row_type"] == "account"} == {"D2"}
    assert accounts == dict(
        query(
            small_db,
            "SELECT account_code, sum(actual) FROM marts.mart_line_item_variance WHERE department_code = 'D2' "
            "AND account_type = 'expense' AND period >= DATE '2025-01-01' AND period <= DATE '2025-03-01' GROUP BY 1",
        )
    )


def test_two_writers_of_one_report_each_leave_it_whole(tmp_path: Path) -> None:
    """A refresh and `studio-budget report` may write the same report at once: each write appears whole, neither
    fails on the other's temporary file, and none is left behind."""
    path = tmp_path / "project_P1_cost_report.csv"
    texts = ["a," * 5000 + "\n", "b," * 7000 + "\n"]
    errors: list[BaseException] = []

    def write(text: str) -> None:
        try:
            for _ in range(200):
                atomic_write(path, text)
        except OSError as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert path.read_text(encoding="utf-8") in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_every_csv_row_names_the_as_of_date_it_shows(small_db: Path) -> None:
    """A CSV copied out of reports/ still says which day it shows: the studio, department and project CSVs carry
    the publication's as-of date (the small studio's, 2025-03-15) on every row, revenue rows included."""
    for level, key in (("studio", None), ("department", "D2"), ("project", "P1")):
        written = list(csv.DictReader(io.StringIO(render_report(small_db, level, key, fmt="csv"))))
        assert written and {row["as_of"] for row in written} == {SMALL_AS_OF}, level
    studio = list(csv.DictReader(io.StringIO(render_report(small_db, fmt="csv"))))
    assert any(row["account_type"] == "revenue" for row in studio)
