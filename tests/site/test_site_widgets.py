"""Every widget of the built site responds to its controls with no kernel behind the page.

Widgets and their controls are discovered from the DOM: sliders (noUiSlider handles),
drop-downs (``select``) and toggle buttons. For each control, the test records what the
widget shows (the visible images and HTML outside the controls), moves the control, and
asserts that what is shown changed. Screenshots of each widget before and after go to
``$SITE_SHOTS_DIR`` (default ``_build/site-shots``).
"""

import os
import re
import unicodedata
from pathlib import Path

import pytest
from site_browser import BOOK, TIMEOUT_MS, pages_with_widgets, require_site

SHOTS = Path(os.environ.get("SITE_SHOTS_DIR", BOOK / "_build" / "site-shots"))
CONTROLS = (
    ".widget-subarea .noUi-handle, "
    ".widget-subarea .widget-dropdown select, "
    ".widget-subarea .widget-toggle-buttons"
)

# What a widget shows: its visible images and HTML content, leaving out the controls.
SHOWN = """root => {
    const controls = '.widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-readout';
    const visible = el => el.getClientRects().length > 0
                          && getComputedStyle(el).visibility !== 'hidden';
    const parts = [];
    for (const el of root.querySelectorAll('img, .widget-html-content, .jp-OutputArea')) {
        if (el.closest(controls) || !visible(el)) continue;
        parts.push(el.tagName === 'IMG' ? 'img:' + el.getAttribute('src')
                                        : 'html:' + el.innerHTML);
    }
    return parts.join('\\n');
}"""

DESCRIBE = """el => {
    const row = el.closest('.widget-slider, .widget-dropdown, .widget-toggle-buttons');
    const label = row && row.querySelector('.widget-label');
    return (label && label.textContent.trim()) || el.className;
}"""


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-") or "control"


def _move(page, control) -> str:
    """Move one control to another value; return a description of the move."""
    classes = control.get_attribute("class") or ""
    if "noUi-handle" in classes:
        now = float(control.get_attribute("aria-valuenow"))
        top = float(control.get_attribute("aria-valuemax"))
        key = "ArrowLeft" if now >= top else "ArrowRight"
        control.focus()
        page.keyboard.press(key)
        return f"slider {key} from position {now:g}"
    if control.evaluate("el => el.tagName") == "SELECT":
        index = control.evaluate("el => el.selectedIndex")
        count = control.evaluate("el => el.options.length")
        control.select_option(index=(index + 1) % count)
        return f"drop-down from option {index} to {(index + 1) % count}"
    buttons = control.locator("button")
    for i in range(buttons.count()):
        if "mod-active" not in (buttons.nth(i).get_attribute("class") or ""):
            buttons.nth(i).click()
            return f"toggle button {i}"
    raise AssertionError("a toggle-buttons control with no inactive button")


@pytest.mark.parametrize("page_path", pages_with_widgets())
def test_moving_each_control_changes_what_the_widget_shows(page_path, visit_page):
    require_site(page_path)
    visit = visit_page(page_path)
    page = visit.page
    controls = page.locator(CONTROLS)
    assert controls.count() > 0, f"{page_path} embeds widgets but shows no control"
    without = page.evaluate(
        """(controls) => Array.from(document.querySelectorAll('.widget-subarea'))
            .filter(area => !area.querySelector(controls))
            .map(area => area.textContent.trim().slice(0, 80))""",
        CONTROLS.replace(".widget-subarea ", ""),
    )
    assert not without, f"{page_path}: widgets with no slider, drop-down or toggle: {without}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures = []
    for i in range(controls.count()):
        control = controls.nth(i)
        root = control.locator("xpath=ancestor::div[contains(@class, 'widget-subarea')][1]")
        control.scroll_into_view_if_needed()
        label = _slug(control.evaluate(DESCRIBE))
        name = f"{_slug(page_path.removesuffix('.html'))}-control{i + 1}-{label}"
        before = root.evaluate(SHOWN)
        assert before, f"{page_path}: widget of control {i + 1} shows nothing"
        root.screenshot(path=str(SHOTS / f"{name}-before.png"))
        move = _move(page, control)
        try:
            page.wait_for_function(
                "([root, shown, before]) => eval(shown)(root) !== before",
                arg=[root.element_handle(), SHOWN, before],
                timeout=TIMEOUT_MS,  # generous: a busy machine may be slow to repaint
            )
        except Exception:  # noqa: BLE001 - collected and reported below
            failures.append(f"control {i + 1} ({name}): {move} did not change what is shown")
            continue
        root.screenshot(path=str(SHOTS / f"{name}-after.png"))
    assert not failures, f"{page_path}:\n  " + "\n  ".join(failures)
    assert not visit.problems(), f"{page_path}:\n  " + "\n  ".join(visit.problems())
