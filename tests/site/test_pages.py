"""Every page of the built site, as a reader's browser loads it from a static server.

Pages are discovered from the built site, so chapters added later are covered too. A page
is loaded once for all of this module's checks that a test process runs (pytest-xdist may
give a page's checks to two), the accessibility scan last (it adds its script to the page).

The scan is axe-core's, which comes from the npm registry with the site's other front-end
assets (package.json, ``make assets``); Playwright injects it, the site does not serve it.
"""

import re
from html.parser import HTMLParser

import pytest
from site_browser import BOOK, SITE, redirect_pages, require_site

AXE = BOOK / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def _page_path(visit):
    return visit.url.split("/", 3)[3]


def _prose(visit) -> str:
    """The page's text without its code (code cells may well show such strings)."""
    return visit.page.evaluate(
        """() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll('pre, code, .cell_input, script, style')
                .forEach(e => e.remove());
            return body.textContent;
        }"""
    )


def test_page_loads_cleanly_from_its_own_origin(loaded):
    """No console error, no uncaught exception, no failed request, no other origin."""
    problems = loaded.problems()
    assert not problems, f"{_page_path(loaded)}:\n  " + "\n  ".join(problems)


def test_equations_are_typeset_by_mathjax(loaded):
    page_path = _page_path(loaded)
    source = require_site(page_path).read_text(encoding="utf-8")
    if 'class="math' not in source:
        return  # a page without math
    report = loaded.page.evaluate(
        """() => {
            const maths = Array.from(document.querySelectorAll('.math'));
            return {
                total: maths.length,
                untypeset: maths.filter(m => !m.querySelector('mjx-container'))
                                .map(m => m.textContent.slice(0, 80)),
                errors: Array.from(document.querySelectorAll('mjx-merror'))
                             .map(e => e.textContent.slice(0, 80)),
            };
        }"""
    )
    assert report["total"] > 0
    assert not report["untypeset"], f"{page_path}: math left as TeX: {report['untypeset'][:5]}"
    assert not report["errors"], f"{page_path}: MathJax errors: {report['errors'][:5]}"


def test_every_image_has_alt_text(loaded):
    page_path = _page_path(loaded)
    missing = loaded.page.evaluate(
        """() => Array.from(document.querySelectorAll('img'))
                .filter(img => !(img.getAttribute('alt') || '').trim())
                .map(img => (img.getAttribute('src') || '').slice(0, 100))"""
    )
    assert not missing, f"{page_path}: images without alt text: {missing[:10]}"


def test_redirect_pages_point_at_pages():
    require_site("index.html")
    for page, target in redirect_pages().items():
        assert (SITE / page).parent.joinpath(target).is_file(), f"{page} redirects to {target}"


def test_no_number_is_shown_as_a_numpy_repr(loaded):
    """A numpy scalar glued without float() reads "np.float64(0.5)" in the prose (code
    cells may well contain such expressions: they are left out)."""
    page_path = _page_path(loaded)
    text = _prose(loaded)
    found = re.findall(r"np\.(?:float|int|uint|bool)\w*\([^)]*\)", text)
    assert not found, f"{page_path}: numbers shown as numpy reprs: {found[:5]}"


def test_no_myst_role_is_shown_unrendered(loaded):
    """A MyST role written inside a Python string (a table's note, an HTML frame) reaches
    the page as literal text, such as {eq}`label`, instead of a link."""
    page_path = _page_path(loaded)
    text = _prose(loaded)
    found = re.findall(r"\{[a-z][\w:-]*\}`[^`]*`", text)
    assert not found, f"{page_path}: MyST roles shown as text: {found[:5]}"


class _TableNesting(HTMLParser):
    """Records table parts that are not inside what must contain them."""

    PARENTS = {"tr": ("table", "thead", "tbody", "tfoot"), "td": ("tr",), "th": ("tr",)}
    PARENTS.update({part: ("table",) for part in ("thead", "tbody", "tfoot")})
    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "col", "source", "area", "base"}

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.misplaced: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.PARENTS and not any(p in self.open for p in self.PARENTS[tag]):
            self.misplaced.append(f"<{tag}> at line {self.getpos()[0]} outside a table")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass


def test_no_table_row_is_outside_a_table():
    """A table whose <table> tag is missing shows as a run-on line of numbers."""
    require_site("index.html")
    problems = {}
    for page in sorted(SITE.rglob("*.html")):
        parser = _TableNesting()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.misplaced:
            problems[page.relative_to(SITE).as_posix()] = parser.misplaced[:3]
    assert not problems, problems


class _Prose(HTMLParser):
    """The text of a page outside code, scripts and math (which MathJax typesets)."""

    SKIP_TAGS = {"script", "style", "pre", "code", "textarea"}
    SKIP_CLASSES = {"math", "cell_input", "highlight"}

    def __init__(self):
        super().__init__()
        self.skipping: list | None = None  # [tag, depth] of the element being skipped
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            self.skipping[1] += tag == self.skipping[0]
        elif tag in self.SKIP_TAGS or set((dict(attrs).get("class") or "").split()) & (
            self.SKIP_CLASSES
        ):
            self.skipping = [tag, 1]

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[0]:
            self.skipping[1] -= 1
            if not self.skipping[1]:
                self.skipping = None

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def _prose_matches(pattern: str) -> dict[str, list[str]]:
    """Where ``pattern`` occurs in each built page's prose, with some context (at most three
    places a page)."""
    require_site("index.html")
    found = {}
    for page in sorted(SITE.rglob("*.html")):
        prose = _Prose()
        prose.feed(page.read_text(encoding="utf-8"))
        text = " ".join(prose.parts)
        places = [
            " ".join(text[max(0, m.start() - 40) : m.end() + 30].split())
            for m in re.finditer(pattern, text)
        ]
        if places:
            found[page.relative_to(SITE).as_posix()] = places[:3]
    return found


def test_no_tex_is_left_outside_math():
    """Inline math that Markdown broke apart (a line of it starting with "+ " or "- " is
    read as a list item) leaves its dollars and TeX commands in the prose."""
    found = _prose_matches(r"\$|\\[A-Za-z]{2,}|\\[()\[\]]")
    assert not found, found


def test_no_number_is_shown_as_negative_zero():
    """A small negative number rounded away reads "-0.00": format it with "z" ("+z.2f")."""
    found = _prose_matches(r"(?<![\w.])[-−]0(?:\.0+)?(?![\d.])")
    assert not found, found


def test_no_standard_error_is_shown_as_zero():
    """A standard error below the last digit shown reads "3.2 ± 0.0": show more digits. (A
    difference that is 0 in every seed reads "0.0 ± 0.0", and is left alone.)"""
    nonzero = r"[-−+]?(?:\d*[1-9]\d*(?:\.\d+)?|0\.\d*[1-9]\d*)"
    found = _prose_matches(rf"(?<![\w.]){nonzero}\s*±\s*0(?:\.0+)?(?![\d.])")
    assert not found, found


def test_no_number_in_the_prose_is_in_e_notation():
    """Prose says 1.8 × 10⁻⁸, not Python's 1.8e-08 (glued values: _ext/glued_numbers.py)."""
    found = _prose_matches(r"\b\d+(?:\.\d+)?[eE][-+]?\d+\b")
    assert not found, found


def test_every_chapter_has_a_widget():
    """Every chapter page has ipywidget controls on the static page (the book's promise); a
    widget whose call is not the last expression of its cell is never displayed."""
    require_site("index.html")
    introductions = {"chapters/vlae/paper.html"}  # a part's opening page, with no code
    chapters = sorted(p.relative_to(SITE).as_posix() for p in (SITE / "chapters").rglob("*.html"))
    without = [
        page
        for page in chapters
        if page not in introductions
        and "application/vnd.jupyter.widget-view+json"
        not in (SITE / page).read_text(encoding="utf-8")
    ]
    assert chapters and not without, f"chapter pages without a widget: {without}"


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make assets` (npm ci) first; make test does")
    return AXE.read_text(encoding="utf-8")


def test_no_serious_accessibility_violation(loaded, axe_source):
    page_path = loaded.url.split("/", 3)[3]
    page = loaded.page
    page.add_script_tag(content=axe_source)
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
                count: v.nodes.length,
            }));
        }"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    report = "\n  ".join(
        f"[{v['impact']}] {v['id']}: {v['help']} ({v['count']} element(s), e.g. {v['nodes']})"
        for v in blocking
    )
    assert not blocking, f"{page_path}:\n  {report}"
