"""Headless Chromium for tests that look at pages: Debian's /usr/bin/chromium driven by Playwright.

No browser is downloaded (`playwright install` is never run): the system Chromium is launched with flags that
keep it off the network of its own accord. A missing Chromium fails the test that asks for it (it is a
prerequisite, installed by .ci/run), never skips it.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright: Playwright) -> Browser:
    """The system Chromium, headless; raises (the test fails) when it is not installed."""
    if not CHROMIUM.is_file():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium)"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
