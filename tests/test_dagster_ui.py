"""The Dagster UI shows the project's asset graph: `dagster-webserver` on 127.0.0.1 (the project's
`[tool.dagster]` code location, DAGSTER_HOME in tmp), opened in headless Chromium (tests/browser.py).

Prerequisites: Debian's chromium at /usr/bin/chromium (.ci/run installs it) and playwright (test extras); a
missing Chromium fails this test. The screenshot of the graph is kept in tests/artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
from playwright.sync_api import Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from orchestration.definitions import studio_definitions
from orchestration.defs.docs import DATA_DOCS, DBT_DOCS, SITE_CHECK
from orchestration.defs.ingest import GATE_CHECK, REJECTIONS_CHECK
from orchestration.defs.publish import PUBLISHED
from orchestration.defs.resources import StudioSettings
from orchestration.lib.dbt import prepare_manifest
from tests.browser import SCREENSHOTS, launch_chromium

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = SCREENSHOTS
SCREENSHOT = ARTIFACTS / "dagster_asset_graph.png"
# one asset of each stage: ingest (and the Data Docs index), dbt, publish (and the dbt docs), report
SHOWN = ["lake/gl_actuals", "quality/data_docs", "marts/mart_studio_variance", "published/studio_duckdb"]
SHOWN += ["docs/dbt_docs", "reports/studio_budget_vs_actual"]
UI_WAIT_MS = 120_000  # the longest wait for a page or an element
EXPANDED = "() => /[?&]expanded=/.test(window.location.search)"  # the address once Alt+E has expanded the groups


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_webserver(home: Path, env: dict[str, str], log: IO[str]) -> tuple[subprocess.Popen, str]:
    """`dagster-webserver` on a free port, and its base URL once it answers. A port probed free can be taken by
    another process before the webserver binds it: then the webserver exits, and another port is tried."""
    webserver = Path(sys.executable).with_name("dagster-webserver")

    def logged() -> str:
        return (home / "webserver.log").read_text()

    in_use = "address already in use"
    for _ in range(3):
        port = free_port()
        refused_before = logged().lower().count(in_use)
        process = subprocess.Popen(
            [str(webserver), "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,  # pyproject.toml's [tool.dagster] names the code location
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while process.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as answer:
                    if answer.status == 200:
                        return process, url
            except OSError:
                pass
            if time.monotonic() > deadline:
                stop_webserver(process)
                raise AssertionError(logged()[-3000:])
            time.sleep(1)
        stop_webserver(process)  # its code server, if it started one
        if logged().lower().count(in_use) == refused_before:  # another failure
            raise AssertionError(logged()[-3000:])
    raise AssertionError("dagster-webserver found no free port: " + logged()[-3000:])


def stop_webserver(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # the webserver and the code server it started
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`dagster-webserver` serving this checkout's definitions; its base URL once it answers."""
    home = tmp_path_factory.mktemp("dagster_home")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "STUDIO_WAREHOUSE": str(home / "warehouse"),
    }
    with (home / "webserver.log").open("w") as log:
        process, url = start_webserver(home, env, log)
        try:
            yield url
        finally:
            stop_webserver(process)


def expected_check_counts() -> dict[str, int]:
    """How many checks each shown asset has, from the definitions (a second source beside the UI)."""
    prepare_manifest()
    settings = StudioSettings(landing_dir="landing", warehouse_dir="wh", as_of="2025-03-15")
    checks = studio_definitions(settings).resolve_asset_graph().asset_check_keys
    return {key: sum(c.asset_key.to_user_string() == key for c in checks) for key in SHOWN}


def dismiss_welcome(page: Page) -> None:
    skip = page.get_by_role("button", name="Skip")  # the first visit's community dialog
    if skip.count():
        skip.first.click()


def expand_all_groups(page: Page) -> Locator:
    """Expand the graph's groups with the UI's Alt+E, once the graph of collapsed groups is drawn. Returns the
    graph of assets. Alt+E is a toggle, and the UI keeps its state in the page's address (`?expanded=…`): a key
    pressed before the UI listens for it is lost, so it is pressed again only while the address says collapsed."""
    page.locator("svg").filter(has_text="publish").first.wait_for()  # the groups, drawn collapsed
    for _ in range(3):
        dismiss_welcome(page)
        page.mouse.click(1500, 250)  # the graph's empty corner
        page.keyboard.press("Alt+e")  # expand all groups
        try:
            page.wait_for_function(EXPANDED, timeout=10_000)
        except PlaywrightTimeoutError:
            continue
        expanded = page.locator("svg").filter(has_text="gl_actuals").last
        expanded.wait_for()  # drawn (within the page's default wait, UI_WAIT_MS)
        return expanded
    raise AssertionError(f"Alt+E did not expand the asset graph's groups: {page.url}")


def test_asset_graph_shows_each_stage_and_its_checks(webserver: str) -> None:
    counts = expected_check_counts()
    assert counts["lake/gl_actuals"] == 2 and counts[DATA_DOCS.to_user_string()] == 1
    assert counts[PUBLISHED.to_user_string()] == 0 and counts["marts/mart_studio_variance"] > 0
    selection = " or ".join(f'key:"{key}"' for key in SHOWN)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            # a busy machine: the UI's first page and its graph can take more than Playwright's 30 s
            page.set_default_timeout(UI_WAIT_MS)
            page.set_default_navigation_timeout(UI_WAIT_MS)
            page.goto(f"{webserver}/asset-groups~{quote(selection, safe='')}/", wait_until="networkidle")
            graph = expand_all_groups(page)
            graph.get_by_text("studio_budget_vs_actual", exact=True).wait_for()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            for group in ("ingest", "marts", "publish"):
                assert graph.get_by_text(group, exact=True).count() >= 1, group
            for key in SHOWN:
                name = key.split("/")[-1]
                node = (
                    graph.locator("div").filter(has=page.get_by_text(name, exact=True)).filter(has_text="Asset checks")
                )
                assert node.count() >= 1, key
                card = node.last.inner_text()
                # a node shows "0 / N Passed" before its N checks ran, and no count when it has none
                if counts[key]:
                    assert f"0 / {counts[key]} Passed" in card, (key, card)
                else:
                    assert "Passed" not in card, (key, card)

            # the checks by name: an ingest asset's two, and a docs site's
            for key, names in (
                ("lake/gl_actuals", (GATE_CHECK, REJECTIONS_CHECK)),
                (DBT_DOCS.to_user_string(), (SITE_CHECK,)),
            ):
                page.goto(f"{webserver}/assets/{key}?view=checks", wait_until="networkidle")
                dismiss_welcome(page)
                page.get_by_text(names[0], exact=True).first.wait_for()
                for name in names:
                    assert page.get_by_text(name, exact=True).count() >= 1, (key, name)
        finally:
            browser.close()
