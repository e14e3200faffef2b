"""The reader notebooks: what Colab, Binder and the .ipynb download open.

Read from the built site: each chapter's notebook holds no MyST syntax, every number glued
into the page, the page's equation numbers and its hidden solutions; and each runs top to
bottom with nbclient in a fresh kernel, in an empty folder with an empty model cache, as on
Colab: the book's trained models come from the site's published copies (served here on
127.0.0.1), within a minute on one core. Set BOOK_RUN_CHAPTERS=name,name to run only some
(as in _toc.yml: chapters/first_vae).
"""

import functools
import html
import http.server
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest
import yaml

BOOK = Path(__file__).resolve().parents[2]
SITE = BOOK / "_build" / "html"
MYST = ("{glue", "{eq}", "{cite", "{numref}", "{doc}", "```{", ":::")


def _toc_files(node) -> list[str]:
    if isinstance(node, dict):
        return ([str(node["file"])] if "file" in node else []) + [
            f for value in node.values() for f in _toc_files(value)
        ]
    if isinstance(node, list):
        return [f for item in node for f in _toc_files(item)]
    return []


def chapters() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    found = [
        name
        for name in _toc_files(toc)
        if (BOOK / f"{name}.md").is_file()
        and "kernelspec:" in (BOOK / f"{name}.md").read_text(encoding="utf-8")[:1000]
    ]
    wanted = os.environ.get("BOOK_RUN_CHAPTERS")
    return [c for c in found if not wanted or c in wanted.split(",")] or ["<no chapter>"]


def reader_notebook(chapter: str):
    import nbformat

    path = SITE / "_notebooks" / f"{chapter}.ipynb"
    if not path.is_file():
        pytest.fail(f"no reader notebook at {path}: run `make book` first")
    return nbformat.read(path, as_version=4)


def markdown(notebook) -> str:
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def unescaped(text: str) -> str:
    return re.sub(r"\\([\\`*_$<>\[\]])", r"\1", text)


@pytest.mark.parametrize("chapter", chapters())
def test_the_notebook_reads_like_the_page(chapter):
    notebook = reader_notebook(chapter)
    text = markdown(notebook)
    page = (SITE / f"{chapter}.html").read_text(encoding="utf-8")
    assert "numbers in the text are the ones the book's build computed" in notebook.cells[0].source
    for syntax in MYST:
        assert syntax not in text, f"{chapter}: MyST syntax {syntax!r} left in the notebook"
    glued = [
        html.unescape(re.sub(r"<[^>]+>", "", g))
        for g in re.findall(r'class="pasted-text">(.*?)</span>', page, re.S)
    ]
    plain = unescaped(text)
    missing = sorted({g for g in glued if g.strip() and g not in plain})
    assert glued and not missing, f"{chapter}: glued values not in the notebook: {missing[:10]}"
    page_numbers = re.findall(r'<span class="eqno">\((\d+)\)', page)
    assert re.findall(r"\\tag\{(\d+)\}", text) == page_numbers
    assert text.count("<details>") == page.count('class="dropdown admonition"')
    if "bibtex-citation" in page:
        assert "## References" in text
    includes = (BOOK / f"{chapter}.md").read_text(encoding="utf-8").count("{literalinclude}")
    assert text.count("```python") >= includes


@pytest.mark.parametrize("chapter", chapters())
def test_the_notebook_has_every_code_cell_of_the_chapter(chapter):
    from myst_nb.core.read import read_myst_markdown_notebook

    source = read_myst_markdown_notebook((BOOK / f"{chapter}.md").read_text(encoding="utf-8"))
    wanted = [c.source for c in source.cells if c.cell_type == "code"]
    got = [c.source for c in reader_notebook(chapter).cells if c.cell_type == "code"]
    assert got[1:] == wanted and "VAE_LIB_MODELS_URL" in got[0]


@pytest.fixture(scope="module")
def published_site():
    """The built site on 127.0.0.1, as the published models' server."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def chapters_longest_first():
    """The chapters, each marked slow with its warm execution time as the appendix records
    it (``_ext/chapter_warm_seconds.json``), which the test processes start longest first."""
    record = json.loads((BOOK / "_ext" / "chapter_warm_seconds.json").read_text(encoding="utf-8"))
    warm = record["seconds"]
    return [pytest.param(c, marks=pytest.mark.slow(seconds=warm.get(c, 0))) for c in chapters()]


@pytest.mark.parametrize("chapter", chapters_longest_first())
def test_the_notebook_runs_with_the_published_models(
    chapter, tmp_path, published_site, monkeypatch
):
    from nbclient import NotebookClient

    notebook = reader_notebook(chapter)
    monkeypatch.setenv("VAE_LIB_MODELS_URL", published_site + "_models/")
    monkeypatch.setenv("VAE_LIB_CACHE", str(tmp_path / "empty-cache"))
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")  # one core, as the promise says
    from _ext.parallel_execution import kernel_manager_class

    (tmp_path / "sockets").mkdir()
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        # Unix sockets, not TCP ports that two test processes could both pick
        kernel_manager_class=kernel_manager_class(str(tmp_path / "sockets")),
    )
    start = time.monotonic()
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    seconds = time.monotonic() - start
    printed = "".join(
        o.get("text", "")
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "computing it here" not in printed and "computed " not in printed, printed
    trains = "load_or_train(" in (BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    assert ("fetched " in printed) == trains
    print(f"{chapter}: {seconds:.1f} s with the published models")
    if "interactive_output(" in (BOOK / f"{chapter}.md").read_text(encoding="utf-8"):
        state = notebook.metadata.get("widgets", {})
        assert state.get("application/vnd.jupyter.widget-state+json", {}).get("state")
    Path(tmp_path / "timing.json").write_text(json.dumps({chapter: seconds}))
