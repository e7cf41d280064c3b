"""A headless Chromium for the browser tests: Debian's `chromium` (installed by `.ci/run`), driven by Playwright.

No browser is downloaded (`playwright install` is never run): Playwright launches the system's Chromium. The flags
keep it off the network it does not have here (no background, component, sync or QUIC traffic) and let it run as
root in a container (`--no-sandbox`); each launch gets a new, empty profile (Playwright's own temporary one). A
missing Chromium fails the test that asks for it, naming the package to install: CI installs it, so a browser
test never silently skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SCREENSHOTS = Path(__file__).parent / "artifacts" / "screenshots"  # gitignored; kept after the run to look at


def chromium_path() -> str:
    """The system Chromium, or an AssertionError saying how to install it."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        raise AssertionError(
            f"no Chromium at {CHROMIUM}: install Debian's package (`apt-get install -y --no-install-recommends "
            "chromium`, as `.ci/run` does) or point STUDIO_CHROMIUM at a Chromium binary"
        )
    return CHROMIUM


@contextmanager
def launched_browser() -> Iterator[Browser]:
    """A launched headless Chromium (a Playwright `Browser`), closed on exit. Playwright starts it on a new, empty
    profile in a temporary folder of its own (it refuses a `--user-data-dir` flag on a plain launch)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


def launch_chromium(playwright: Playwright) -> Browser:
    """The system Chromium, headless, from a running Playwright (the caller closes it)."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=list(CHROMIUM_FLAGS))
