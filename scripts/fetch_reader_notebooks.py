"""Fetch the chapters' reader notebooks from the published site into this checkout.

Binder builds its image from the repository, where the chapters are MyST Markdown; the
reader notebooks (numbers filled in, solutions hidden) are made by the book's build and
published with the site under ``_notebooks/``. Binder's ``postBuild`` runs this, so that
the Binder button opens ``_notebooks/<chapter>.ipynb``. Each file is checked against the
SHA-256 in the site's ``_notebooks/manifest.json``. When the site cannot be reached this
says so and exits 0: the chapters' ``.md`` files still open as notebooks.

    python scripts/fetch_reader_notebooks.py [--base URL] [--dest FOLDER]
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


def fetch(base: str, dest: Path) -> list[Path]:
    """Every notebook of the site's manifest, checked, into ``dest/_notebooks``."""
    base = base if base.endswith("/") else base + "/"
    manifest = json.loads(fetch_bytes(base + "_notebooks/manifest.json"))
    if not isinstance(manifest, dict):
        raise DownloadError("the notebooks' manifest is not a JSON object")
    return [
        download_file(base + "_notebooks/" + name, dest / "_notebooks" / name, sha256)
        for name, sha256 in sorted(manifest.items())
        if ".." not in Path(name).parts
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="the site's URL (default: _config.yml)")
    parser.add_argument("--dest", type=Path, default=ROOT, help="where _notebooks/ goes")
    args = parser.parse_args(argv)
    base = args.base or site_url()
    try:
        paths = fetch(base, args.dest)
    except (DownloadError, ValueError) as err:
        print(f"reader notebooks not fetched from {base} ({err}); open the chapters' .md files")
        return 0
    print(f"fetched {len(paths)} reader notebooks from {base} into {args.dest / '_notebooks'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
