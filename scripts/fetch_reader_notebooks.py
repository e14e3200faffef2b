"""Fetch the chapters' reader notebooks from the published site into this checkout.

Binder builds its image from the repository, where the chapters are MyST Markdown; the
reader notebooks (numbers filled in, solutions hidden) are made by the book's build and
published with the site under ``_notebooks/``. Binder's ``postBuild`` runs this, so that
the Binder button opens ``_notebooks/<chapter>.ipynb``. Each file is checked against the
SHA-256 in the site's ``_notebooks/manifest.json``. When the site cannot be reached this
says so and exits 0, as it does when an entry of the manifest is refused or fails: the
chapters' ``.md`` files still open as notebooks.

    python scripts/fetch_reader_notebooks.py [--base URL] [--dest FOLDER] [--timeout S]
        [--max-seconds S]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from vae_lib.data.download import DownloadError, download_file, fetch_bytes

ROOT = Path(__file__).resolve().parent.parent


def site_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["html"]["baseurl"]


def notebook_path(folder: Path, name) -> Path:
    """Where the manifest entry ``name`` goes: a file strictly inside ``folder``.

    A name is a relative POSIX path of plain parts ending in ``.ipynb``, as the book's build
    writes them (``chapters/elbo.ipynb``). Anything else is refused before a folder is made
    or a byte is written: absolute paths, drive letters, backslashes, empty, ``.`` or ``..``
    parts, and any path that a symbolic link already in ``folder`` would lead outside it.
    """
    if not isinstance(name, str) or not name.endswith(".ipynb"):
        raise ValueError(f"notebook name {name!r} is not a relative path ending in .ipynb")
    parts = name.split("/")
    if (
        name.startswith("/")
        or "\\" in name
        or ":" in name
        or "\0" in name
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise ValueError(f"notebook name {name!r} is not a plain relative path")
    root = folder.resolve()
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root):
        raise ValueError(f"notebook name {name!r} leads outside {root}")
    return path


def fetch(
    base: str, dest: Path, *, timeout: float = 30.0, max_seconds: float = 120.0
) -> tuple[list[Path], list[str]]:
    """Every notebook of the site's manifest, checked, into ``dest/_notebooks``.

    Returns the files fetched and, for each entry that was refused or failed, why; one bad
    entry does not stop the others. Each file, the manifest too, may take ``timeout``
    seconds per socket operation and ``max_seconds`` in all (connecting, headers, body).
    """
    base = base if base.endswith("/") else base + "/"
    manifest = json.loads(
        fetch_bytes(base + "_notebooks/manifest.json", timeout=timeout, max_seconds=max_seconds)
    )
    if not isinstance(manifest, dict):
        raise DownloadError("the notebooks' manifest is not a JSON object")
    folder = dest / "_notebooks"
    fetched, problems = [], []
    for name, sha256 in sorted(manifest.items()):
        try:
            path = notebook_path(folder, name)
            fetched.append(
                download_file(
                    base + "_notebooks/" + name,
                    path,
                    sha256,
                    timeout=timeout,
                    max_seconds=max_seconds,
                )
            )
        except (DownloadError, ValueError, TypeError, OSError) as err:
            problems.append(f"{name!r}: {err}")
    return fetched, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="the site's URL (default: _config.yml)")
    parser.add_argument("--dest", type=Path, default=ROOT, help="where _notebooks/ goes")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per read")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="seconds per file")
    args = parser.parse_args(argv)
    base = args.base or site_url()
    try:
        paths, problems = fetch(base, args.dest, timeout=args.timeout, max_seconds=args.max_seconds)
    except (DownloadError, ValueError, OSError) as err:
        print(f"reader notebooks not fetched from {base} ({err}); open the chapters' .md files")
        return 0
    print(f"fetched {len(paths)} reader notebooks from {base} into {args.dest / '_notebooks'}")
    for problem in problems:
        print(f"skipped {problem}")
    return 0  # Binder's postBuild goes on: the chapters' .md files still open as notebooks


if __name__ == "__main__":
    sys.exit(main())
