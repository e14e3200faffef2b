"""How the site tests and the benchmarks start headless Chromium (Debian's package).

One place for the browser's path and flags, so that what the tests check and what the
benchmarks time run in the same browser, started the same way.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def launch(playwright):
    """A headless Chromium browser from a running ``sync_playwright()`` context."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
