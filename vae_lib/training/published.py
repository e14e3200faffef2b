"""The book's trained models, fetched from where the book is published instead of trained again.

A reader running a chapter on Colab or Binder starts with an empty cache. The book's site
publishes every file of its cache (trained models, importance bounds) under ``_models/``,
with ``manifest.json`` giving each file's SHA-256, size and training time. When the
environment variable ``VAE_LIB_MODELS_URL`` names that folder (the reader notebooks set it),
the store of :mod:`vae_lib.training.cache` fetches a missing file from there with the
checked downloader before it would compute it (the published file with the same key, when
the book stored it under another page's name), and says which it did. A file whose SHA-256
does not match, or a server that cannot be reached, means the result is computed here.

The book's own build and tests never set the variable: nothing is downloaded there.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..core.validation import describe_value
from ..data.download import DownloadError, download_file, fetch_bytes

MODELS_URL_ENV = "VAE_LIB_MODELS_URL"
MANIFEST = "manifest.json"
#: No published file is larger than this (the book's largest model is about 2 MB).
MAX_FILE_BYTES = 1 << 27
#: A stored file's name, as the store makes them (:func:`vae_lib.training.cache.cache_path`):
#: a label for people, then the first 20 hex digits of the key that decides the result.
STORED_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}-([0-9a-f]{20}\.npz)")
#: The manifest is read whole; it lists a few hundred files.
MAX_MANIFEST_BYTES = 1 << 20
#: No published file took longer than this to compute (about 30 years: a sanity bound).
MAX_SECONDS = 1e9
#: Seconds to wait for each read, and for a whole file, before computing it here instead.
READ_TIMEOUT, FILE_SECONDS = 30.0, 300.0
#: Seconds the whole fetch of the manifest may take (None: 4 × READ_TIMEOUT).
MANIFEST_SECONDS: float | None = None

#: One fetch of the manifest per folder and process: the manifest, or why it failed.
_manifests: dict[str, dict | DownloadError] = {}


def published_models_url() -> str | None:
    """The folder URL in ``VAE_LIB_MODELS_URL`` (ending in ``/``), or None when unset."""
    url = os.environ.get(MODELS_URL_ENV, "").strip()
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def manifest(url: str) -> dict:
    """The published manifest at ``url``: file name -> {"sha256", "bytes", "seconds"}.

    Raises :class:`DownloadError` if it cannot be fetched or is not a JSON object, and again
    for every later file of this process without asking the server (a folder that is down
    or too slow costs one wait, not one per file); its entries are checked one at a time,
    by :func:`manifest_entry`.
    """
    if url not in _manifests:
        try:
            _manifests[url] = _fetch_manifest(url)
        except DownloadError as err:
            _manifests[url] = err
            raise
    known = _manifests[url]
    if isinstance(known, DownloadError):
        raise DownloadError(f"{known} (as when it was asked for first)")
    return known


def _fetch_manifest(url: str) -> dict:
    body = fetch_bytes(
        url + MANIFEST,
        timeout=READ_TIMEOUT,
        max_bytes=MAX_MANIFEST_BYTES,
        max_seconds=MANIFEST_SECONDS,
    )
    try:
        entries = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as err:
        raise DownloadError(f"{url}{MANIFEST} is not a JSON manifest ({err})") from err
    except RecursionError as err:
        raise DownloadError(f"{url}{MANIFEST} is not a JSON manifest (nested too deeply)") from err
    if not isinstance(entries, dict):
        raise DownloadError(f"{url}{MANIFEST} is not a JSON object of files")
    return entries


def manifest_entry(entry, name: str) -> tuple[str, int, float | None]:
    """The SHA-256, size and training time of the manifest's entry for the file ``name``.

    An entry is a JSON object with "sha256" (64 hexadecimal digits), "bytes" (a whole number
    from 0 to :data:`MAX_FILE_BYTES`) and optionally "seconds" (a number from 0 to
    :data:`MAX_SECONDS`, or null); other keys are ignored. Anything else raises
    ``ValueError`` saying which field is wrong.
    """
    where = f"the manifest's entry for {name}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a JSON object; got {describe_value(entry)}")
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(
            f"{where}: sha256 must be 64 hexadecimal digits; got {describe_value(sha256)}"
        )
    size = entry.get("bytes")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_BYTES:
        raise ValueError(
            f"{where}: bytes must be a whole number from 0 to {MAX_FILE_BYTES:,}; "
            f"got {describe_value(size)}"
        )
    seconds = entry.get("seconds")
    if seconds is not None:
        number = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
        if not number or not 0 <= seconds <= MAX_SECONDS:  # NaN fails too
            raise ValueError(
                f"{where}: seconds must be a number from 0 to {MAX_SECONDS:g}, or null; "
                f"got {describe_value(seconds)}"
            )
        seconds = float(seconds)
    return sha256.lower(), size, seconds


def stored_key_part(name: str) -> str | None:
    """The part of a stored file's name that its key decides, ``"<20 hex digits>.npz"``; None
    for a name the store does not make."""
    match = STORED_NAME.fullmatch(name)
    return match.group(1) if match else None


def fetch_published(path: Path) -> str:
    """Try to fetch the published copy of the cache file ``path``; say what happened.

    Returns one line for the reader: the file was fetched (and how long computing it took
    the book's build), or why it was not (it is then computed here). Returns "" when no
    published folder is configured. Every failure of this route (a server that cannot be
    reached, is too slow or sends something else, a malformed manifest, a file that cannot
    be written) is such a line, never an exception: the caller then computes the file.
    """
    url = published_models_url()
    if url is None:
        return ""
    name = Path(path).name
    try:
        files = manifest(url)
        # The key decides, the name before it is a label: the book may have stored this
        # result under another page's name.
        key_part = stored_key_part(name)
        twins = [o for o in sorted(files) if key_part and stored_key_part(o) == key_part]
        published = name if name in files else next(iter(twins), None)
        if published is None:
            return f"{name} is not among the published files; computing it here"
        sha256, size, seconds = manifest_entry(files[published], published)
        download_file(
            url + published,
            path,
            sha256,
            max_bytes=max(size, 1),
            timeout=READ_TIMEOUT,
            max_seconds=FILE_SECONDS,
        )
    except (DownloadError, ValueError) as err:
        return f"could not fetch {name} ({err}); computing it here instead"
    except Exception as err:  # anything else too: the caller computes the file instead
        return f"could not fetch {name} ({type(err).__name__}: {err}); computing it here instead"
    took = f"; computing it took the book's build {seconds:.0f} s" if seconds is not None else ""
    as_published = "" if published == name else f" (published as {published})"
    return f"fetched {name}{as_published}, the book's own copy (SHA-256 checked){took}"
