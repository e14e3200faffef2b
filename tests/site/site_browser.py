"""The built site, served on 127.0.0.1 and opened in headless Chromium (Debian's package).

Used by the tests in this folder through ``conftest.py``. Nothing here is skipped silently:
a missing site or a missing browser is a test failure that says what to do.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts import chromium

BOOK = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("VAE_SITE_DIR", BOOK / "_build" / "html"))
# Folders of the built site that hold assets and downloads, not pages.
NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "_notebooks", "_models", "vendor"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NO_SITE = "<no built site>"
NO_WIDGETS = "<no page with widgets>"
TIMEOUT_MS = 30_000


def site_missing_message() -> str | None:
    if not (SITE / "index.html").is_file():
        return f"no built site at {SITE}: run `make book` first (make test does)"
    return None


def _redirect_target(text: str) -> str | None:
    match = re.search(r'http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', text, re.I)
    return match.group(1) if match else None


def site_pages() -> list[str]:
    """Every HTML page of the built site (relative paths), except redirect stubs."""
    if site_missing_message():
        return [NO_SITE]
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        rel = path.relative_to(SITE)
        if rel.parts[0] in NOT_PAGES:
            continue
        if _redirect_target(path.read_text(encoding="utf-8", errors="replace")):
            continue
        pages.append(rel.as_posix())
    return pages


def redirect_pages() -> dict[str, str]:
    """Redirect stubs (e.g. index.html -> intro.html) and their targets."""
    out = {}
    for path in sorted(SITE.glob("*.html")):
        target = _redirect_target(path.read_text(encoding="utf-8", errors="replace"))
        if target:
            out[path.relative_to(SITE).as_posix()] = target
    return out


def pages_with_widgets() -> list[str]:
    pages = site_pages()
    if pages == [NO_SITE]:
        return pages
    found = [p for p in pages if WIDGET_VIEW in (SITE / p).read_text(encoding="utf-8")]
    return found or [NO_WIDGETS]


def require_site(page: str) -> Path:
    message = site_missing_message()
    if message or page == NO_SITE:
        pytest.fail(message or f"no built site at {SITE}")
    if page == NO_WIDGETS:
        pytest.fail("no page of the site embeds a widget: every chapter should have one")
    return SITE / page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".svg": "image/svg+xml",
        ".ipynb": "application/x-ipynb+json",
    }

    def log_message(self, *args):  # keep the test output clean
        pass


class SiteServer:
    """A static file server for the built site on 127.0.0.1, on a free port, in a thread."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, page: str) -> str:
        return f"{self.origin}/{page}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def launch_chromium(playwright):
    if not Path(chromium.CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is not installed at {chromium.CHROMIUM}. The site tests drive Debian's "
            "chromium package: install it with `apt-get update && apt-get install chromium` "
            "(as root; `make test` does this when it can), or set CHROMIUM=/path/to/chromium."
        )
    try:
        return chromium.launch(playwright)
    except Exception as exc:  # noqa: BLE001 - report any launch failure the same way
        pytest.fail(f"Chromium at {chromium.CHROMIUM} did not start under Playwright: {exc}")


@dataclass
class Visit:
    """One page load, with everything that went wrong while it loaded."""

    page: object
    url: str
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)
    other_origins: list = field(default_factory=list)
    bytes_received: int = 0

    def problems(self) -> list[str]:
        out = [f"console error: {m}" for m in self.console_errors]
        out += [f"uncaught exception: {m}" for m in self.page_errors]
        out += [f"failed request: {m}" for m in self.failed_requests]
        out += [f"request to another origin (blocked): {u}" for u in self.other_origins]
        return out


def _short(url: str) -> str:
    return url if len(url) < 160 else url[:150] + "..."


def open_page(browser, server: SiteServer, page_path: str, **context_options) -> Visit:
    """Load a page, watching the console and the network; wait for MathJax and widgets."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    visit = Visit(page=page, url=server.url(page_path))
    own = server.origin

    def route(route):
        url = route.request.url
        scheme = urlsplit(url).scheme
        if scheme in ("data", "blob", "about") or url.startswith(own + "/"):
            route.continue_()
        else:
            visit.other_origins.append(_short(url))
            route.abort()

    def on_console(message):
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            visit.console_errors.append(f"{message.text} ({_short(where)})")

    def on_failed(request):
        if request.url.startswith(own + "/"):
            visit.failed_requests.append(f"{_short(request.url)}: {request.failure}")

    def on_response(response):
        if response.status >= 400:
            visit.failed_requests.append(f"{_short(response.url)}: HTTP {response.status}")
        elif response.url.startswith(own + "/"):
            length = response.headers.get("content-length")
            visit.bytes_received += int(length) if length and length.isdigit() else 0

    context.route("**/*", route)
    page.on("console", on_console)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    response = page.goto(visit.url, wait_until="load")
    if response is None or response.status != 200:
        pytest.fail(f"{visit.url} answered {response.status if response else 'nothing'}")
    wait_for_mathjax(page)
    wait_for_widgets(page)
    page.wait_for_load_state("networkidle")
    return visit


def wait_for_mathjax(page):
    """If the page has math, wait until MathJax has typeset it."""
    if not page.locator(".math").count():
        return
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
        " && MathJax.typesetPromise",
        timeout=TIMEOUT_MS,
    )
    page.evaluate("() => MathJax.startup.promise")


def wait_for_widgets(page):
    """If the page embeds widgets, wait until the widget manager has drawn every one."""
    if not page.locator(f'script[type="{WIDGET_VIEW}"]').count():
        return
    try:
        page.wait_for_function(
            """(type) => Array.from(document.querySelectorAll(`script[type="${type}"]`))
                .every(s => { const area = s.previousElementSibling;
                              return area && area.classList.contains('widget-subarea')
                                     && area.children.length > 0; })""",
            arg=WIDGET_VIEW,
            timeout=TIMEOUT_MS,
        )
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the widgets on {page.url} were not drawn within {TIMEOUT_MS} ms: {exc}")
