"""Sphinx extension: a Colab-ready .ipynb of every chapter, and a Colab button that opens it.

Colab opens notebooks (``.ipynb``) from GitHub, while the chapters are MyST Markdown. So for
each notebook page this writes ``_colab/<page>.ipynb`` into the built site: the chapter's
cells, without outputs, after a first cell that (on Colab only) installs ``vae_lib`` from the
book's repository and the pinned ipywidgets (and myst-nb, for ``glue``, if the chapter uses
it) from ``requirements.txt``. The deployment
publishes the site to the ``colab_branch`` of the repository (``_config.yml``), and the
Colab launch button made by sphinx-book-theme is pointed at that file.

Loaded by ``_config.yml`` (``sphinx.local_extensions``).
"""

from __future__ import annotations

import re
from pathlib import Path

COLAB_DIR = "_colab"

SETUP = """\
# On Colab only: install the book's library, vae_lib, from the book's repository, and the
# packages of the book that Colab lacks. (Binder, and a local `pip install -r
# requirements.txt`, have them all.) If Colab asks to restart the session, do so and run
# this cell again.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", {packages}],
        check=True,
    )
"""


def _pin(confdir: Path, name: str) -> str:
    """The requirement line for ``name`` in requirements.txt (unpinned if absent)."""
    path = confdir / "requirements.txt"
    if path.is_file():
        for line in path.read_text().splitlines():
            if re.match(rf"^{re.escape(name)}\s*[=<>~!]", line.strip()):
                return line.split("#")[0].strip()
    return name


def _colab_button(context) -> dict | None:
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            for button in group.get("buttons", []):
                if button.get("text") == "Colab":
                    return button
    return None


def add_colab_notebook(app, pagename, templatename, context, doctree):
    button = _colab_button(context)
    if button is None:
        return
    import jupytext
    from nbformat.v4 import new_code_cell

    options = app.config.html_theme_options
    repo_url = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch") or "main"
    source = Path(app.env.doc2path(pagename))
    notebook = jupytext.read(source)
    # Colab has numpy, matplotlib and scikit-learn; add what it lacks or has too old.
    packages = [f"vae_lib @ git+{repo_url}@{branch}", _pin(Path(app.confdir), "ipywidgets")]
    if any("myst_nb" in cell.source for cell in notebook.cells if cell.cell_type == "code"):
        packages.append(_pin(Path(app.confdir), "myst-nb"))  # for `glue`
    first_code = next(
        (i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells)
    )
    setup = new_code_cell(SETUP.format(packages=", ".join(repr(p) for p in packages)))
    setup.metadata["tags"] = ["colab-setup"]
    notebook.cells.insert(first_code, setup)
    notebook.metadata.pop("jupytext", None)
    target = Path(app.outdir) / COLAB_DIR / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(notebook, target, fmt="ipynb")

    colab_url = options.get("launch_buttons", {}).get("colab_url", "").rstrip("/")
    github = repo_url.split("github.com/", 1)[-1]
    button["url"] = (
        f"{colab_url}/github/{github}/blob/{app.config.colab_branch}/{COLAB_DIR}/{pagename}.ipynb"
    )


def setup(app):
    app.add_config_value("colab_branch", "gh-pages", "html")
    # after sphinx-book-theme's launch buttons (priority 501)
    app.connect("html-page-context", add_colab_notebook, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
