"""Each chapter runs as a reader runs a download of it: outside the book build.

The chapter's MyST Markdown is converted to a notebook with jupytext and executed top to
bottom with nbclient, in an empty temporary folder, as in a fresh Jupyter with
requirements.txt installed: so a chapter may not depend on files next to it or on the book
build. Trained models come from vae_lib's model cache as for any reader of the repository
(the book build has just filled it; training itself is exercised by that build). Set
BOOK_RUN_CHAPTERS=name,name to run only some chapters (as in _toc.yml: chapters/first_vae).
"""

import os
from pathlib import Path

import pytest
import yaml

BOOK = Path(__file__).resolve().parents[2]


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(str(node["file"]))
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


def notebook_chapters() -> list[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    chapters = []
    for name in _toc_files(toc):
        path = BOOK / f"{name}.md"
        if path.is_file() and "kernelspec:" in path.read_text(encoding="utf-8")[:1000]:
            chapters.append(name)
    wanted = os.environ.get("BOOK_RUN_CHAPTERS")
    if wanted:
        chapters = [c for c in chapters if c in wanted.split(",")]
    return chapters or ["<no notebook chapter in _toc.yml>"]


@pytest.mark.parametrize("chapter", notebook_chapters())
def test_chapter_runs_as_a_downloaded_notebook(chapter, tmp_path):
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    if chapter.startswith("<"):
        pytest.fail(chapter)
    notebook_path = tmp_path / f"{Path(chapter).name}.ipynb"
    jupytext.write(jupytext.read(BOOK / f"{chapter}.md"), notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)
    if "interactive_output(" in (BOOK / f"{chapter}.md").read_text(encoding="utf-8"):
        state = notebook.metadata.get("widgets", {})
        assert state.get("application/vnd.jupyter.widget-state+json", {}).get("state"), (
            f"{chapter} made widgets but the executed notebook holds no widget state"
        )
