"""Sphinx extension: a reader's notebook of every chapter, written from the executed page.

A chapter's source is MyST Markdown, and as a notebook it would show ``{glue:text}`` roles,
``{eq}`` labels, citation keys, directives and every solution in the open. So once Sphinx
has resolved a chapter (glued values filled in from the executed build, equations and
figures numbered, citations formatted), this walks the resolved document and writes
``_notebooks/<page>.ipynb`` into the site:

- markdown cells in plain CommonMark and LaTeX: the glued numbers as the page shows them,
  display equations with the page's numbers (``\\tag{n}``, with an anchor that the
  references link to), citations as author-year links with the list of references at the
  end, figure numbers and captions, library source that the page includes as a fenced code
  block (shown, never executed, so it cannot shadow the import), solutions in ``<details>``;
- the chapter's code cells, all of them (a cell the page hides is still run), without
  outputs, after a first cell that installs what Colab lacks and tells ``vae_lib`` where
  the book's trained models are published (:mod:`vae_lib.training.published`);
- a first markdown cell that says the numbers in the text come from the book's build.

``_notebooks/manifest.json`` lists every notebook with its SHA-256, for Binder's
``postBuild`` to fetch them. The model cache is published beside them, in ``_models/`` with
its own manifest (exactly the files the chapters read), for the notebooks to fetch the book's
trained models. The page's Colab
button and ``.ipynb`` download point at the notebook (``html-page-context``), the Binder
button at its copy in the Binder image.

Loaded by ``_config.yml`` (``sphinx.local_extensions``).
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from pathlib import Path

import nbformat
from docutils import nodes
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from parallel_execution import book_cache_files
from sphinx.util import logging

from vae_lib.core.files import load_arrays, sha256_file
from vae_lib.training.cache import default_cache_dir

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = "_notebooks"

SETUP = """\
# Set-up. On Colab: install the book's library, vae_lib, and what Colab lacks. Everywhere:
# tell vae_lib where the book's trained models are published, so that a model the book
# trained is fetched (and its SHA-256 checked) instead of trained again; offline, or if a
# file does not match, the model is trained here. (If Colab asks to restart, do so and run
# this cell again.)
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", {packages}],
        check=True,
    )
os.environ.setdefault("VAE_LIB_MODELS_URL", {models_url!r})
"""

INTRO = """\
*This notebook is the chapter "{title}" of the interactive textbook* Variational \
Autoencoders, interactively *([read it online]({page_url})). Run the cells from the top. \
The numbers in the text are the ones the book's build computed; on another machine the \
same code may give numbers that differ slightly (in the last digits, or more where training \
is involved).*"""

_MD_SPECIAL = re.compile(r"([\\`*_$<>\[\]])")


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _pin(confdir: Path, name: str) -> str:
    """The requirement line for ``name`` in requirements.txt (unpinned if absent)."""
    path = confdir / "requirements.txt"
    if path.is_file():
        for line in path.read_text().splitlines():
            if re.match(rf"^{re.escape(name)}\s*[=<>~!]", line.strip()):
                return line.split("#")[0].strip()
    return name


class _Markdown:
    """Turns resolved docutils nodes into CommonMark with LaTeX, for one chapter."""

    def __init__(self, app, docname: str):
        self.app, self.docname = app, docname
        self.base_url = app.config.html_baseurl.rstrip("/") + "/"
        self.fignumbers = app.env.toc_fignumbers.get(docname, {})
        self.references: dict[str, str] = {}  # citation URL -> formatted entry, in order

    # ----------------------------------------------------------------------------- links
    def site_url(self, refuri: str) -> str:
        """An absolute URL for a link of this page (relative to the page's folder)."""
        if re.match(r"^[a-z]+://", refuri) or refuri.startswith("mailto:"):
            return refuri
        folder = posixpath.dirname(self.docname)
        return self.base_url + posixpath.normpath(posixpath.join(folder, refuri))

    def equation_number(self, node) -> str | None:
        ids = node.get("ids") or []
        if not ids:
            return None
        number = self.fignumbers.get("displaymath", {}).get(ids[0])
        return ".".join(map(str, number)) if number else None

    # ----------------------------------------------------------------------------- inline
    def inline(self, node) -> str:
        out = []
        for child in node.children:
            out.append(self.inline_node(child))
        return "".join(out)

    def inline_node(self, node) -> str:
        if isinstance(node, nodes.Text):
            return _escape(node.astext())
        if isinstance(node, nodes.math):
            return f"${node.astext().strip()}$"
        if isinstance(node, nodes.literal):
            text = node.astext()
            fence = "``" if "`" in text else "`"
            return f"{fence}{text}{fence}"
        if isinstance(node, nodes.strong):
            return f"**{self.inline(node)}**"
        if isinstance(node, nodes.emphasis):
            return f"*{self.inline(node)}*"
        if isinstance(node, nodes.reference):
            return self.reference(node)
        if isinstance(node, nodes.inline) and "bibtex-citation" in node.get("classes", []):
            return self.inline(node)
        if isinstance(node, (nodes.target, nodes.substitution_definition)):
            return ""
        if isinstance(node, nodes.raw):
            return node.astext() if node.get("format") == "html" else ""
        if isinstance(node, nodes.image):
            return ""
        return self.inline(node) if isinstance(node, nodes.Element) else _escape(node.astext())

    def reference(self, node) -> str:
        text = self.inline(node)
        if node.get("refid"):  # on this page: an equation, a figure, a section
            return f"[{text}](#{node['refid']})"
        refuri = node.get("refuri", "")
        if not refuri:
            return text
        url = self.site_url(refuri)
        title = node.get("reftitle")
        if title and "#id" in refuri:  # a citation: its formatted entry goes to the end
            self.references.setdefault(url, title)
        return f"[{text}]({url})"

    # ----------------------------------------------------------------------------- blocks
    def blocks(self, children, depth: int) -> list[str]:
        out = []
        for child in children:
            text = self.block(child, depth)
            if text:
                out.append(text)
        return out

    def block(self, node, depth: int) -> str:
        if isinstance(node, nodes.paragraph):
            return self.inline(node).strip()
        if isinstance(node, nodes.title):
            return "#" * depth + " " + self.inline(node).strip()
        if isinstance(node, nodes.math_block):
            body = node.astext().strip()
            number = self.equation_number(node)
            anchor = f'<a id="{node["ids"][0]}"></a>\n\n' if node.get("ids") else ""
            tag = f" \\tag{{{number}}}" if number else ""
            return f"{anchor}$$\n{body}{tag}\n$$"
        if isinstance(node, nodes.literal_block):
            language = node.get("language", "")
            language = "python" if language in ("", "ipython3", "default") else language
            return f"```{language}\n{node.astext().rstrip()}\n```"
        if isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            return self.listing(node, depth)
        if isinstance(node, nodes.admonition):
            return self.admonition(node, depth)
        if isinstance(node, nodes.figure):
            return self.figure(node)
        if isinstance(node, nodes.table):
            return self.table(node)
        if isinstance(node, nodes.block_quote):
            inner = "\n\n".join(self.blocks(node.children, depth))
            return "\n".join("> " + line if line else ">" for line in inner.splitlines())
        if isinstance(node, nodes.raw):
            return node.astext() if node.get("format") == "html" else ""
        if isinstance(node, nodes.target):  # (an equation's anchor comes with the equation)
            refid = node.get("refid", "")
            return f'<a id="{refid}"></a>' if refid and not refid.startswith("equation-") else ""
        if isinstance(node, (nodes.comment, nodes.substitution_definition)):
            return ""
        if isinstance(node, nodes.Element):
            return "\n\n".join(self.blocks(node.children, depth))
        return _escape(node.astext())

    def listing(self, node, depth: int) -> str:
        ordered = isinstance(node, nodes.enumerated_list)
        lines = []
        for i, item in enumerate(node.children, start=1):
            marker = f"{i}. " if ordered else "- "
            body = "\n\n".join(self.blocks(item.children, depth)).splitlines() or [""]
            lines.append(marker + body[0])
            lines += [(" " * len(marker) + line) if line else "" for line in body[1:]]
        return "\n".join(lines)

    def admonition(self, node, depth: int) -> str:
        title_nodes = [c for c in node.children if isinstance(c, nodes.title)]
        title = self.inline(title_nodes[0]).strip() if title_nodes else "Note"
        body = "\n\n".join(
            self.blocks([c for c in node.children if not isinstance(c, nodes.title)], depth)
        )
        if "dropdown" in node.get("classes", []):  # a solution: hidden until asked for
            return f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>"
        quoted = f"**{title}.** {body}".splitlines()
        return "\n".join(f"> {line}" if line else ">" for line in quoted)

    def figure(self, node) -> str:
        ids = node.get("ids") or []
        number = self.fignumbers.get("figure", {}).get(ids[0]) if ids else None
        captions = [c for c in node.children if isinstance(c, nodes.caption)]
        caption = self.inline(captions[0]).strip() if captions else ""
        label = f"Fig. {'.'.join(map(str, number))}" if number else "Figure"
        anchor = f'<a id="{ids[0]}"></a>' if ids else ""
        return f"{anchor}**{label}.** {caption}".strip()

    def table(self, node) -> str:
        rows = []
        for row in node.findall(nodes.row):
            cells = [self.inline_cell(entry) for entry in row.children]
            rows.append("| " + " | ".join(cells) + " |")
        if not rows:
            return ""
        width = rows[0].count(" | ") + 1
        return "\n".join([rows[0], "|" + " --- |" * width, *rows[1:]])

    def inline_cell(self, entry) -> str:
        return " ".join(self.blocks(entry.children, 6)).replace("\n", " ").replace("|", "\\|")


def _cell_figures(md: _Markdown, cell_node) -> list[str]:
    return [md.figure(f) for f in cell_node.findall(nodes.figure)]


def reader_notebook(app, doctree, docname: str) -> nbformat.NotebookNode:
    """The reader's notebook of one resolved chapter."""
    from myst_nb.core.read import read_myst_markdown_notebook

    source = Path(app.env.doc2path(docname)).read_text(encoding="utf-8")
    cells = read_myst_markdown_notebook(source).cells  # cell_index counts into these
    md = _Markdown(app, docname)
    title = next(iter(doctree.findall(nodes.title))).astext()
    options = app.config.html_theme_options
    repo_url = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch") or "main"
    packages = [f"vae_lib @ git+{repo_url}@{branch}", _pin(Path(app.confdir), "ipywidgets")]
    if "myst_nb" in source:
        packages.append(_pin(Path(app.confdir), "myst-nb"))  # for `glue`
    page_url = md.base_url + docname + ".html"
    out = [
        new_markdown_cell(INTRO.format(title=title, page_url=page_url)),
        new_code_cell(
            SETUP.format(
                packages=", ".join(repr(p) for p in packages),
                models_url=md.base_url + app.config.published_models_dir + "/",
            ),
            metadata={"tags": ["reader-setup"]},
        ),
    ]
    pending: list[str] = []
    next_code = 0  # the first code cell of the source not yet written

    def flush():
        text = "\n\n".join(p for p in pending if p.strip())
        if text:
            out.append(new_markdown_cell(text))
        pending.clear()

    def code_cells_until(index: int):
        """Write the source's code cells before ``index`` that the page does not show."""
        nonlocal next_code
        for i in range(next_code, index):
            if cells[i].cell_type == "code":
                flush()
                out.append(new_code_cell(cells[i].source, metadata={"tags": ["hidden-on-page"]}))
        next_code = max(next_code, index)

    def walk(node, depth: int):
        nonlocal next_code
        for child in node.children:
            if isinstance(child, nodes.section):
                walk(child, depth + 1)
            elif isinstance(child, nodes.container) and child.get("nb_element") == "cell_code":
                index = int(child["cell_index"])
                code_cells_until(index)
                flush()
                meta = child.get("cell_metadata") or {}
                meta = json.loads(meta) if isinstance(meta, str) else meta
                tags = meta.get("tags", [])
                cell = new_code_cell(cells[index].source)
                if "hide-input" in tags or "hide-cell" in tags:
                    cell.metadata["jupyter"] = {"source_hidden": True}
                out.append(cell)
                next_code = index + 1
                pending.extend(_cell_figures(md, child))
            else:
                pending.append(md.block(child, depth))

    walk(doctree, 0)
    code_cells_until(len(cells))
    if md.references:
        pending.append(
            "## References\n\n"
            + "\n".join(f"- [{entry}]({url})" for url, entry in md.references.items())
        )
    flush()
    notebook = new_notebook(cells=out)
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def _is_chapter(app, docname: str) -> bool:
    path = Path(app.env.doc2path(docname))
    return path.suffix == ".md" and "kernelspec:" in path.read_text(encoding="utf-8")[:2000]


def write_notebook(app, doctree, docname):
    if app.builder.format != "html" or not _is_chapter(app, docname):
        return
    notebook = reader_notebook(app, doctree, docname)
    target = Path(app.outdir) / NOTEBOOK_DIR / f"{docname}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(target))


def write_manifest(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    folder = Path(app.outdir) / NOTEBOOK_DIR
    if not folder.is_dir():
        return
    entries = {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*.ipynb"))
    }
    (folder / "manifest.json").write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")


def publish_models(app, exception):
    """Copy the stored models and results that the book's chapters read into the site
    (``_models/``), with a manifest of SHA-256s, so that the reader notebooks fetch them
    instead of computing them again. Nothing else goes: not a stale file the store still
    holds, not a file an earlier build published."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / app.config.published_models_dir
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    entries = {}
    for name in sorted(book_cache_files(app)):
        path = default_cache_dir() / name
        try:
            _, meta = load_arrays(path)  # only sound files are published
        except (OSError, ValueError) as err:
            logger.warning(f"a file the book read is not published: {path} ({err})")
            continue
        history = meta.get("extra", {}).get("history", {}) if isinstance(meta, dict) else {}
        seconds = (history.get("seconds") or [None])[-1] if isinstance(history, dict) else None
        shutil.copyfile(path, target / path.name)
        entries[path.name] = {
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "seconds": seconds,
        }
    (target / "manifest.json").write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")


def _button(context, group_label: str, text: str) -> dict | None:
    for group in context.get("header_buttons", []):
        if group.get("label") == group_label:
            for button in group.get("buttons", []):
                if button.get("text") == text:
                    return button
    return None


def point_buttons(app, pagename, templatename, context, doctree):
    """The Colab button, the Binder button and the .ipynb download open the reader notebook."""
    if doctree is None or not _is_chapter(app, pagename):
        return
    options = app.config.html_theme_options
    repo_url = options.get("repository_url", "").rstrip("/")
    github = repo_url.split("github.com/", 1)[-1]
    branch = options.get("repository_branch") or "main"
    launch = options.get("launch_buttons", {})
    notebook = f"{NOTEBOOK_DIR}/{pagename}.ipynb"
    colab = _button(context, "launch-buttons", "Colab")
    if colab is not None:
        colab_url = launch.get("colab_url", "").rstrip("/")
        colab["url"] = f"{colab_url}/github/{github}/blob/{app.config.colab_branch}/{notebook}"
    binder = _button(context, "launch-buttons", "Binder")
    if binder is not None:
        binder_url = launch.get("binderhub_url", "").rstrip("/")
        binder["url"] = f"{binder_url}/v2/gh/{github}/{branch}?urlpath=lab/tree/{notebook}"
    download = _button(context, "download-buttons", ".ipynb")
    if download is not None:
        depth = pagename.count("/")
        download["url"] = "../" * depth + notebook


def setup(app):
    app.add_config_value("colab_branch", "gh-pages", "html")
    app.add_config_value("published_models_dir", "_models", "html")
    app.connect("doctree-resolved", write_notebook)
    # after sphinx-book-theme's launch and download buttons (priority 501)
    app.connect("html-page-context", point_buttons, priority=600)
    app.connect("build-finished", write_manifest)
    app.connect("build-finished", publish_models)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
