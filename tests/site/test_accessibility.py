"""An automated accessibility scan (axe-core) of every page: no serious or critical violation.

axe-core comes from the npm registry with the site's other front-end assets (package.json,
``make assets``); the script is injected into the page by Playwright, not served by the site.
"""

import pytest
from site_browser import BOOK

AXE = BOOK / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


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
