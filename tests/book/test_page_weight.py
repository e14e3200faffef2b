"""Page weight of the built site: every page with its widget frames stays under 5 MB.

Prints the table of scripts/page_weight.py (shown by `make test`).
"""

import importlib.util
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2]
SITE = BOOK / "_build" / "html"


def _page_weight():
    spec = importlib.util.spec_from_file_location(
        "page_weight", BOOK / "scripts" / "page_weight.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_page_is_over_the_limit(capsys):
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book` first (make test does)")
    weight = _page_weight()
    rows = weight.page_weights(SITE)
    with capsys.disabled():
        print("\n" + weight.table(rows))
    assert rows, "the built site has no pages"
    heavy = {
        r["page"]: f"{r['page_total'] / 1e6:.1f} MB"
        for r in rows
        if r["page_total"] > weight.LIMIT_BYTES
    }
    assert not heavy, f"pages over {weight.LIMIT_BYTES / 1e6:.0f} MB: {heavy}"
