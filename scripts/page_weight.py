"""Print the weight of every page of the built site: its HTML (with the widgets' frames,
which are embedded in the page as widget state) plus the local images it shows, and, apart,
the scripts and style sheets it loads (shared by all pages and cached by the browser).

Usage: python scripts/page_weight.py [_build/html]    (exit status 1 if a page is too heavy)
tests/book/test_page_weight.py asserts the same limit.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
LIMIT_BYTES = 5_000_000  # a page with its frames
NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "_notebooks", "_models", "vendor"}


class _Resources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.assets = set(), set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.images.add(attrs["src"])
        elif tag == "script" and attrs.get("src"):
            self.assets.add(attrs["src"])
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.assets.add(attrs["href"])


def _local_size(page: Path, url: str) -> int:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:  # data: URIs are inside the HTML already
        return 0
    path = (page.parent / unquote(parts.path)).resolve()
    return path.stat().st_size if path.is_file() else 0


def page_weights(site: Path) -> list[dict]:
    """One row per page: html, images, page (= html + images), assets, widget frames."""
    rows = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site)
        if rel.parts[0] in NOT_PAGES:
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        parser = _Resources()
        parser.feed(text)
        html = page.stat().st_size
        images = sum(_local_size(page, src) for src in parser.images)
        assets = sum(_local_size(page, src) for src in parser.assets)
        frames = len(re.findall(r'class=\\?"vae-frame', text))
        rows.append(
            {
                "page": rel.as_posix(),
                "html": html,
                "images": images,
                "page_total": html + images,
                "assets": assets,
                "frames": frames,
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    def mb(n):
        return f"{n / 1e6:8.2f}"

    lines = [
        f"{'page':<40} {'html MB':>8} {'img MB':>8} {'page MB':>8} {'frames':>7} "
        f"{'+js/css MB':>10}",
    ]
    for r in rows:
        lines.append(
            f"{r['page']:<40} {mb(r['html'])} {mb(r['images'])} {mb(r['page_total'])} "
            f"{r['frames']:>7} {mb(r['assets']):>10}"
        )
    lines.append(
        f"(page = HTML with its widget frames + its images; limit {LIMIT_BYTES / 1e6:.0f} MB. "
        f"js/css are shared by all pages and cached.)"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    site = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "html"
    if not (site / "index.html").is_file():
        print(f"no built site at {site}: run `make book` first", file=sys.stderr)
        return 2
    rows = page_weights(site)
    print(table(rows))
    heavy = [r["page"] for r in rows if r["page_total"] > LIMIT_BYTES]
    if heavy:
        print(f"over {LIMIT_BYTES / 1e6:.0f} MB: {', '.join(heavy)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
