"""Each chapter page offers Binder and Colab launch buttons and .ipynb/.md downloads.

Read from the built pages (no browser needed): the links point where they should, and every
file they name is in the site and is what it claims to be.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from site_browser import BOOK, NO_SITE, SITE, require_site, site_pages

NO_CHAPTER = "<no page with launch buttons>"

CONFIG = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []  # (href, title)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attrs = dict(attrs)
            self.links.append((attrs.get("href") or "", attrs.get("title") or ""))


def _links(page: Path):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


def _notebook_pages():
    pages = site_pages()
    if pages == [NO_SITE]:
        return pages
    found = [p for p in pages if "launch-buttons" in (SITE / p).read_text(encoding="utf-8")]
    return found or [NO_CHAPTER]


def _local(page: str, href: str) -> Path:
    path = unquote(urlsplit(urljoin(f"http://site/{page}", href)).path).lstrip("/")
    return SITE / path


@pytest.mark.parametrize("page_path", _notebook_pages())
def test_launch_buttons_and_downloads(page_path):
    source = require_site(page_path)
    if page_path == NO_CHAPTER:
        pytest.fail("no page of the site has launch buttons: is any chapter a notebook?")
    doc = page_path.removesuffix(".html")
    links = _links(source)
    by_title = {title: href for href, title in links if title}
    repo = CONFIG["repository"]["url"].rstrip("/").split("github.com/")[1]
    branch = CONFIG["repository"].get("branch", "main")

    binder = by_title.get("Launch on Binder")
    assert binder, f"{page_path} has no Binder button"
    assert binder == (
        f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{repo}/{branch}"
        f"?urlpath=lab/tree/{doc}.md"
    )
    assert (BOOK / f"{doc}.md").is_file(), f"Binder would open {doc}.md, not in the repository"

    colab = by_title.get("Launch on Colab")
    assert colab, f"{page_path} has no Colab button"
    colab_branch = CONFIG["sphinx"]["config"]["colab_branch"]
    assert colab == (
        f"{CONFIG['launch_buttons']['colab_url']}/github/{repo}/blob/{colab_branch}"
        f"/_colab/{doc}.ipynb"
    )
    colab_nb = json.loads((SITE / "_colab" / f"{doc}.ipynb").read_text(encoding="utf-8"))
    setup = next(c for c in colab_nb["cells"] if c["cell_type"] == "code")
    setup_source = "".join(setup["source"])
    assert "google.colab" in setup_source and f"git+{CONFIG['repository']['url']}" in setup_source
    assert not any(c.get("outputs") for c in colab_nb["cells"] if c["cell_type"] == "code")

    downloads = {Path(urlsplit(href).path).suffix: href for href, _ in links if "_sources/" in href}
    assert set(downloads) >= {".ipynb", ".md"}, f"{page_path} downloads: {downloads}"
    notebook = json.loads(_local(page_path, downloads[".ipynb"]).read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4 and notebook["cells"]
    markdown = _local(page_path, downloads[".md"]).read_text(encoding="utf-8")
    assert re.match(r"^---\s*\njupytext:", markdown), "the .md download lost its jupytext header"
