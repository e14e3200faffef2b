"""The book's trained models, fetched from where the book is published instead of trained again.

A reader running a chapter on Colab or Binder starts with an empty cache. The book's site
publishes every file of its cache (trained models, importance bounds) under ``_models/``,
with ``manifest.json`` giving each file's SHA-256, size and training time. When the
environment variable ``VAE_LIB_MODELS_URL`` names that folder (the reader notebooks set it),
the store of :mod:`vae_lib.training.cache` fetches a missing file from there with the
checked downloader before it would compute it, and says which it did. A file whose SHA-256
does not match, or a server that cannot be reached, means the result is computed here.

The book's own build and tests never set the variable: nothing is downloaded there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..data.download import DownloadError, download_file, fetch_bytes

MODELS_URL_ENV = "VAE_LIB_MODELS_URL"
MANIFEST = "manifest.json"
#: No published file is larger than this (the book's largest model is about 2 MB).
MAX_FILE_BYTES = 1 << 27
#: Seconds to wait for each read, and for a whole file, before computing it here instead.
READ_TIMEOUT, FILE_SECONDS = 30.0, 300.0

_manifests: dict[str, dict] = {}  # one fetch of the manifest per folder and process


def published_models_url() -> str | None:
    """The folder URL in ``VAE_LIB_MODELS_URL`` (ending in ``/``), or None when unset."""
    url = os.environ.get(MODELS_URL_ENV, "").strip()
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


def manifest(url: str) -> dict:
    """The published manifest at ``url``: file name -> {"sha256", "bytes", "seconds"}."""
    if url not in _manifests:
        try:
            entries = json.loads(
                fetch_bytes(url + MANIFEST, timeout=READ_TIMEOUT, max_bytes=1 << 20)
            )
        except (ValueError, UnicodeDecodeError) as err:
            raise DownloadError(f"{url}{MANIFEST} is not a JSON manifest ({err})") from err
        if not isinstance(entries, dict):
            raise DownloadError(f"{url}{MANIFEST} is not a JSON object of files")
        _manifests[url] = entries
    return _manifests[url]


def fetch_published(path: Path) -> str:
    """Try to fetch the published copy of the cache file ``path``; say what happened.

    Returns one line for the reader: the file was fetched (and how long computing it took
    the book's build), or why it was not (it is then computed here). Returns "" when no
    published folder is configured.
    """
    url = published_models_url()
    if url is None:
        return ""
    try:
        entry = manifest(url).get(path.name)
        if not isinstance(entry, dict):
            return f"{path.name} is not among the published files; computing it here"
        size = int(entry.get("bytes", MAX_FILE_BYTES))
        download_file(
            url + path.name,
            path,
            str(entry.get("sha256")),
            max_bytes=min(size, MAX_FILE_BYTES),
            timeout=READ_TIMEOUT,
            max_seconds=FILE_SECONDS,
        )
    except (DownloadError, ValueError, TypeError) as err:
        return f"could not fetch {path.name} ({err}); computing it here instead"
    seconds = entry.get("seconds")
    took = (
        f"; computing it took the book's build {seconds:.0f} s"
        if isinstance(seconds, (int, float))
        else ""
    )
    return f"fetched {path.name}, the book's own copy (SHA-256 checked){took}"
