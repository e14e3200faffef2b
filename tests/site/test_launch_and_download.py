"""Each chapter page offers Binder and Colab buttons and an .ipynb download, all opening the
chapter's reader notebook, and the .md download of its source.

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

    notebook_path = f"_notebooks/{doc}.ipynb"
    assert (SITE / notebook_path).is_file(), f"{page_path}: no reader notebook in the site"

    binder = by_title.get("Launch on Binder")
    assert binder, f"{page_path} has no Binder button"
    assert binder == (
        f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{repo}/{branch}"
        f"?urlpath=lab/tree/{notebook_path}"
    )
    manifest = json.loads((SITE / "_notebooks" / "manifest.json").read_text(encoding="utf-8"))
    assert f"{doc}.ipynb" in manifest, "Binder's postBuild would not fetch this notebook"

    colab = by_title.get("Launch on Colab")
    assert colab, f"{page_path} has no Colab button"
    colab_branch = CONFIG["sphinx"]["config"]["colab_branch"]
    assert colab == (
        f"{CONFIG['launch_buttons']['colab_url']}/github/{repo}/blob/{colab_branch}/{notebook_path}"
    )
    reader = json.loads((SITE / notebook_path).read_text(encoding="utf-8"))
    setup = next(c for c in reader["cells"] if c["cell_type"] == "code")
    setup_source = "".join(setup["source"])
    assert "google.colab" in setup_source and f"git+{CONFIG['repository']['url']}" in setup_source
    assert "VAE_LIB_MODELS_URL" in setup_source
    assert not any(c.get("outputs") for c in reader["cells"] if c["cell_type"] == "code")

    hrefs = [href for href, _ in links]
    ipynb = [h for h in hrefs if h.endswith(".ipynb") and "_notebooks/" in h and "://" not in h]
    assert ipynb, f"{page_path}: the .ipynb download does not offer the reader notebook"
    assert _local(page_path, ipynb[0]) == SITE / notebook_path
    sources = [h for h in hrefs if "_sources/" in h and h.endswith(".md")]
    assert sources, f"{page_path}: no .md download"
    markdown = _local(page_path, sources[0]).read_text(encoding="utf-8")
    assert re.match(r"^---\s*\njupytext:", markdown), "the .md download lost its jupytext header"


def test_binder_fetches_the_reader_notebooks(tmp_path):
    """What Binder's postBuild does, against the built site served on 127.0.0.1."""
    import functools
    import http.server
    import subprocess
    import sys
    import threading

    require_site("index.html")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    script = BOOK / "scripts" / "fetch_reader_notebooks.py"
    try:
        run = subprocess.run(
            [sys.executable, str(script), "--base", base, "--dest", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        offline = subprocess.run(
            [
                sys.executable,
                str(script),
                "--base",
                "http://127.0.0.1:9/",
                "--dest",
                str(tmp_path / "offline"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        httpd.shutdown()
    manifest = json.loads((SITE / "_notebooks" / "manifest.json").read_text(encoding="utf-8"))
    assert f"fetched {len(manifest)} reader notebooks" in run.stdout
    for name in manifest:
        assert (tmp_path / "_notebooks" / name).read_bytes() == (
            SITE / "_notebooks" / name
        ).read_bytes()
    assert "reader notebooks not fetched" in offline.stdout
    assert not (tmp_path / "offline").exists()
