"""The HTML reports in a real headless Chromium (SPEC §8): each page written by the reports asset loads from disk
with no network request and no console error, shows the key figures (worked out by hand for the small studio,
by a second SQL route for the sample) and leaves a screenshot in tests/artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.browser import SCREENSHOTS, launched_browser
from tests.conftest import CliRun, query


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launched_browser() as launched:
        yield launched


def whole(value: object) -> str:
    """An amount as the pages show it: whole units with thousands separators."""
    return f"{Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP):,}"


def open_page(browser, page_path: Path, screenshot: str):
    """Load a page from file://, refusing (and recording) any request that is not for a local file; return the
    page, the refused requests and the console errors once it has loaded, after saving its screenshot."""
    assert page_path.is_file(), page_path
    assert "<script" not in page_path.read_text(encoding="utf-8").lower()  # a mail reader runs none: none needed
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    refused: list[str] = []
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def route(handled) -> None:
        if handled.request.url.startswith("file:"):
            handled.continue_()
        else:
            refused.append(handled.request.url)
            handled.abort()

    page.route("**/*", route)
    page.goto(page_path.as_uri(), wait_until="load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / screenshot
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    return page, refused, errors


def row_cells(page, table_id: str, first_cell: str) -> list[str]:
    """The cells of the row of table `table_id` whose first cell is `first_cell`, as the browser renders them."""
    for row in page.locator(f"#{table_id} tbody tr").all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in #{table_id}")


def test_small_studio_pages_show_the_hand_worked_figures(browser, small_warehouse: Path) -> None:
    reports = small_warehouse / "reports"
    page, refused, errors = open_page(browser, reports / "studio_budget_vs_actual.html", "small_studio.png")
    assert refused == [] and errors == []
    # by hand (tests/test_small_studio_figures.py): D1 budget to date 9866.66 + 2000.00 + 0 = 11866.66, actual
    # 3500 + 3300 = 6800.00; D2 1250.00 + 78000.00 = 79250.00 against 84320.00; studio 91116.66 vs 91120.00, 3.34 U
    assert row_cells(page, "budget-vs-actual", "Subtotal D1")[1:3] == ["11,867", "6,800"]
    assert row_cells(page, "budget-vs-actual", "Subtotal D2")[1:3] == ["79,250", "84,320"]
    assert row_cells(page, "budget-vs-actual", "STUDIO TOTAL (cost)")[1:5] == ["91,117", "91,120", "3", "U"]
    labels = [c.strip() for c in page.locator("#budget-vs-actual tbody tr td:first-child").all_inner_texts()]
    # the department's name first, then its accounts, then its subtotal
    assert labels.index("D1 Production") < labels.index("5100 Crew") < labels.index("Subtotal D1")
    assert labels.index("Subtotal D1") < labels.index("D2 Post") < labels.index("Subtotal D2")
    # the charts are inline SVG, drawn with the figures of the table
    assert page.locator("#chart-budget-vs-actual svg").count() == 1
    assert page.locator("#chart-burn svg").count() == 1
    chart_text = page.locator("#chart-budget-vs-actual svg").text_content()
    assert "D1" in chart_text and "D2" in chart_text
    for project in ("P1", "P2"):  # both active: a page each, linked from the index
        page, refused, errors = open_page(browser, reports / f"project_{project}.html", f"small_{project}.png")
        assert refused == [] and errors == [] and "PROJECT TOTAL" in page.inner_text("body")
    page, refused, errors = open_page(browser, reports / "index.html", "small_index.png")
    assert refused == [] and errors == []
    links = page.locator("#pages a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert set(links) == {"studio_budget_vs_actual.html", "production.html", "project_P1.html", "project_P2.html"}


def test_sample_pages_show_the_warehouse_figures(browser, sample_run: CliRun) -> None:
    database = sample_run.warehouse / "studio.duckdb"
    reports = sample_run.warehouse / "reports"
    page, refused, errors = open_page(browser, reports / "studio_budget_vs_actual.html", "sample_studio.png")
    assert refused == [] and errors == []
    # the studio's cost to date by a second route: line-item months of the fiscal year, the as-of month's budget
    # prorated to the days elapsed per line to the cent, summed (the report model sums the same rows its own way)
    [(budget, actual)] = query(
        database,
        "WITH m AS (SELECT (SELECT max(as_of) FROM marts.rpt_studio_budget_vs_actual) AS as_of) "
        "SELECT sum(CASE WHEN li.period = date_trunc('month', m.as_of) "
        "  THEN round(li.budget * day(m.as_of) / day(last_day(m.as_of)), 2) ELSE li.budget END), sum(li.actual) "
        "FROM marts.mart_line_item_variance li, m WHERE li.account_type = 'expense' "
        "AND li.fiscal_year_start = date_trunc('year', m.as_of) AND li.period <= m.as_of",
    )
    budget, actual = Decimal(str(budget)), Decimal(str(actual))
    total = row_cells(page, "budget-vs-actual", "STUDIO TOTAL (cost)")
    assert total[1:4] == [whole(budget), whole(actual), whole(actual - budget)]
    for chart in ("budget-vs-actual", "burn", "top-variances", "alerts"):
        assert page.locator(f"#chart-{chart} svg").count() == 1, chart
    # the largest variance requiring commentary is the top bar's label and the list's first row
    [(period, project, account, variance)] = query(
        database,
        "SELECT strftime(period, '%Y-%m'), project_code, account_code, variance FROM marts.mart_line_item_variance "
        "WHERE needs_attention AND fiscal_year_start = (SELECT max(fiscal_year_start) FROM "
        "marts.rpt_studio_budget_vs_actual) ORDER BY abs(variance) DESC LIMIT 1",
    )
    assert f"{period} {project} {account}" in page.locator("#chart-top-variances svg").text_content()
    top = row_cells(page, "commentary", period)
    assert top[1:3] == [project, account] and top[5] == whole(variance)
    [(open_alerts,)] = query(database, "SELECT count(*) FROM audit.alert_history WHERE cleared_at IS NULL")
    assert f"Open alerts ({open_alerts}" in page.inner_text("body")

    page, refused, errors = open_page(browser, reports / "production.html", "sample_production.png")
    assert refused == [] and errors == []
    # every task, the open ones and those ever done, counted from the task mart
    expected = query(
        database,
        "SELECT count(*), count(*) FILTER (WHERE is_open), count(*) FILTER (WHERE first_done_at IS NOT NULL) "
        "FROM marts.mart_task_flow",
    )[0]
    studio = row_cells(page, "production", "STUDIO")
    assert tuple(int(c) for c in studio[1:4]) == expected
    assert "Marcus Bell" in page.inner_text("#overcommitted")
    assert page.locator("#chart-delivery svg").count() == 1

    page, refused, errors = open_page(browser, reports / "project_EP-2601.html", "sample_project_EP-2601.png")
    assert refused == [] and errors == []
    # the project's estimated final cost from its cost-report lines (the mart under the report model)
    [(final_budget, efc)] = query(
        database,
        "SELECT sum(final_budget), sum(efc) FROM marts.mart_line_item_cost_report WHERE project_code = 'EP-2601'",
    )
    total = row_cells(page, "cost-report", "PROJECT TOTAL")
    assert total[1] == whole(final_budget) and total[6] == whole(efc) and total[7] == whole(final_budget - efc)
    assert "Production — EP-2601" in page.inner_text("body")
    active = {
        r[0] for r in query(database, "SELECT project_code FROM marts.mart_project_variance WHERE status = 'active'")
    }
    written = {p.name.removeprefix("project_").removesuffix(".html") for p in reports.glob("project_*.html")}
    assert written == active
