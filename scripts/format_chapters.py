"""Format the code cells of the chapters with ruff, or check that they are formatted.

Each code cell is formatted on its own (written to a temporary ``.py`` file, formatted by
``ruff format`` with the project's settings, read back), so a cell boundary never asks for
blank lines the notebook cannot keep. The markdown and the cells' metadata are untouched.

    python scripts/format_chapters.py [--check] CHAPTER.md ...

With ``--check`` nothing is written, and the exit status is 1 if any cell would change.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parent.parent


def formatted_cells(cells: list[str]) -> list[str]:
    """The cells' sources as ``ruff format`` writes them (one call for all of them)."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"cell_{i:04d}.py" for i in range(len(cells))]
        for path, source in zip(paths, cells):
            path.write_text(source + "\n", encoding="utf-8")
        config = ["--config", str(ROOT / "pyproject.toml")]
        subprocess.run([ruff, "format", "--quiet", *config, folder], check=True)
        return [path.read_text(encoding="utf-8").rstrip("\n") for path in paths]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    parser.add_argument("chapters", nargs="+", type=Path)
    args = parser.parse_args(argv)
    unformatted = []
    for path in args.chapters:
        text = path.read_text(encoding="utf-8")
        notebook = jupytext.reads(text, fmt="md:myst")
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        new_sources = formatted_cells([cell.source for cell in code])
        changed = [cell for cell, new in zip(code, new_sources) if cell.source != new]
        if not changed:
            continue
        unformatted.append(f"{path}: {len(changed)} code cell(s) not formatted")
        if not args.check:
            for cell, new in zip(code, new_sources):
                cell.source = new
            path.write_text(jupytext.writes(notebook, fmt="md:myst"), encoding="utf-8")
    for line in unformatted:
        print(("would reformat " if args.check else "reformatted ") + line)
    return 1 if args.check and unformatted else 0


if __name__ == "__main__":
    sys.exit(main())
