"""Widgets in a browser: the time from moving a control to the new frame on the screen.

Headless Chromium (driven by Playwright) moves every control of every widget, as a reader
does: a key press on a slider's handle, the next option of a drop-down, a click on a toggle
button. The time runs from that input event, as the page receives it, until the browser
has rendered the first frame that shows the widget's new output, so it includes the widget
manager's work, the front-end link, the wait for the next frame, the layout and the paint.
Two front ends:

- **static page**: the built page, served from 127.0.0.1, with no kernel behind it;
- **with a kernel**: the same chapter as a notebook, executed and served by Voilà on
  127.0.0.1, its widgets connected to the running kernel, as in a Jupyter front end
  (every change a link makes is also sent to the kernel, as there).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

from scripts.chromium import launch as launch_chromium

from .widget_latency import CHANGES_PER_WIDGET

CONTROLS = ".noUi-handle, .widget-dropdown select, .widget-toggle-buttons"
PAGE_TIMEOUT_MS = 900_000  # Voilà executes the whole chapter before its widgets appear

# Arms a watcher on one widget: the first input event starts the clock; the first change of
# the widget's output (its stack keeps only the frame shown in the page) stops it, once the
# browser has rendered the next frame: a message posted from that frame's
# requestAnimationFrame callback runs after the frame's style, layout and paint. Watching
# the output alone, and reading it without forcing a layout, keeps the watcher's own cost
# out of the time.
ARM = """(root) => {
    const output = root.querySelector('.vae-output');
    const before = output.innerHTML;
    const clock = window.__vaeClock = {start: null, shown: null, painted: null};
    const stop = new AbortController();
    const start = () => { if (clock.start === null) clock.start = performance.now(); };
    for (const type of ['keydown', 'pointerdown', 'mousedown', 'input', 'change'])
        document.addEventListener(type, start, {capture: true, signal: stop.signal});
    const observer = new MutationObserver(() => {
        if (clock.shown !== null || output.innerHTML === before) return;
        clock.shown = performance.now();
        observer.disconnect();
        stop.abort();
        requestAnimationFrame(() => {  // the frame that draws it begins ...
            const channel = new MessageChannel();  // ... and its rendering is done
            channel.port1.onmessage = () => { clock.painted = performance.now(); };
            channel.port2.postMessage(null);
        });
    });
    observer.observe(output, {subtree: true, childList: true, attributes: true,
                              characterData: true});
}"""

LABEL = """el => {
    const row = el.closest('.widget-slider, .widget-dropdown, .widget-toggle-buttons');
    const label = row && row.querySelector('.widget-label');
    return (label && label.textContent.trim()) || '?';
}"""


def _move(page, control) -> None:
    """Move one control to a neighbouring value, as a reader does."""
    if "noUi-handle" in (control.get_attribute("class") or ""):
        now = float(control.get_attribute("aria-valuenow"))
        top = float(control.get_attribute("aria-valuemax"))
        control.focus()
        page.keyboard.press("ArrowLeft" if now >= top else "ArrowRight")
    elif control.evaluate("el => el.tagName") == "SELECT":
        index, count = control.evaluate("el => [el.selectedIndex, el.options.length]")
        control.select_option(index=(index + 1) % count)
    else:
        control.locator("button:not(.mod-active)").first.click()


def time_widgets(page, changes: int = CHANGES_PER_WIDGET) -> list[dict]:
    """Move the controls of every widget on ``page`` in turn; time each change."""
    rows = []
    widgets = page.locator(".vae-interactive")
    for n in range(widgets.count()):
        root = widgets.nth(n)
        controls = root.locator(CONTROLS)
        labels = [controls.nth(i).evaluate(LABEL) for i in range(controls.count())]
        rendered, in_page = [], []
        for step in range(changes):
            control = controls.nth(step % controls.count())
            control.scroll_into_view_if_needed()
            root.evaluate(ARM)
            _move(page, control)
            page.wait_for_function("() => window.__vaeClock.painted !== null", timeout=10_000)
            clock = page.evaluate("() => window.__vaeClock")
            rendered.append((clock["painted"] - clock["start"]) / 1000)
            in_page.append((clock["shown"] - clock["start"]) / 1000)
        rows.append(
            {
                "widget": n + 1,
                "controls": labels,
                "changes": len(rendered),
                "p50_seconds": float(np.percentile(rendered, 50)),
                "p95_seconds": float(np.percentile(rendered, 95)),
                "max_seconds": float(np.max(rendered)),
                "in_page_p50_seconds": float(np.percentile(in_page, 50)),
                "in_page_p95_seconds": float(np.percentile(in_page, 95)),
            }
        )
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def static_site(html_root: Path):
    """The built site on http://127.0.0.1:<port>/, served from a thread."""
    handler = functools.partial(_QuietHandler, directory=str(html_root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def voila_server(root: Path, env: dict, log: Path):
    """Voilà serving the notebooks under ``root`` on 127.0.0.1; each page load runs one."""
    port = _free_port()
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}"]
    cmd += ["--Voila.ip=127.0.0.1", f"--Voila.root_dir={root}", "--NotebookClient.timeout=900"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Voilà did not start; see {log}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for_widgets(page, count: int) -> None:
    """Wait until ``count`` widgets are drawn and the page has stopped growing."""
    page.wait_for_function(
        """([count, controls]) => {
            const roots = document.querySelectorAll('.vae-interactive');
            return roots.length >= count
                   && Array.from(roots).every(r => r.querySelector(controls));
        }""",
        arg=[count, CONTROLS],
        timeout=PAGE_TIMEOUT_MS,
    )
    size, still_since = -1, time.monotonic()
    while time.monotonic() - still_since < 3:
        now = page.evaluate("() => document.body.innerHTML.length")
        if now != size:
            size, still_since = now, time.monotonic()
        time.sleep(0.25)


def _notebooks(book: Path, chapters: list[str]) -> None:
    """Write ``chapters/x.ipynb`` beside each ``chapters/x.md`` (jupytext), for Voilà."""
    for chapter in chapters:
        source = book / f"{chapter}.md"
        cmd = [sys.executable, "-m", "jupytext", "--quiet", "--to", "ipynb", str(source)]
        subprocess.run(cmd, check=True, cwd=book)


def measure(book: Path, counts: dict[str, int], env: dict) -> dict[str, list[dict]]:
    """Time the widgets of each chapter (``{"chapters/x": number of widgets}``) both ways.

    ``book`` is a built copy of the repository (see :mod:`bench.book`); ``env`` is the
    environment its chapters were built with (their trained models are in its cache).
    Returns ``{"static": rows, "kernel": rows}``, each row with its ``page``.
    """
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict]] = {"static": [], "kernel": []}
    _notebooks(book, list(counts))
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            with static_site(book / "_build" / "html") as site:
                for chapter, count in counts.items():
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.goto(f"{site}/{chapter}.html", wait_until="load")
                    _wait_for_widgets(page, count)
                    results["static"] += [dict(r, page=chapter) for r in time_widgets(page)]
                    page.close()
                    print(f"  {chapter}: static page timed", flush=True)
            log = book / "_build" / "voila.log"
            with voila_server(book, env, log) as voila:
                for chapter, count in counts.items():
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.set_default_timeout(PAGE_TIMEOUT_MS)
                    start = time.perf_counter()
                    page.goto(f"{voila}/voila/render/{chapter}.ipynb", wait_until="load")
                    _wait_for_widgets(page, count)
                    ran = time.perf_counter() - start
                    results["kernel"] += [dict(r, page=chapter) for r in time_widgets(page)]
                    page.close()
                    print(f"  {chapter}: in Voilà (ran in {ran:.0f} s), timed", flush=True)
        finally:
            browser.close()
    return results
