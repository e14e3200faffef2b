"""Downloads that are checked: a file arrives whole, with the expected SHA-256, or not at all.

:func:`download_file` fetches a file with ``urllib`` to a temporary file beside its final
name, checks its length and SHA-256, and only then renames it: a failed, truncated,
corrupted, too slow or too large download never leaves a file there, and every failure is a
:class:`DownloadError` that says what happened. :func:`fetch_bytes` reads a small file whose
SHA-256 is not known in advance (a manifest) under the same limits.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..core.files import atomic_file, check_sha256, sha256_file
from ..core.validation import check_positive_float, check_positive_int

_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be fetched, or arrived truncated or with the wrong SHA-256."""


#: Largest body :func:`download_file` accepts unless told otherwise (1 GiB).
MAX_DOWNLOAD_BYTES = 1 << 30


def download_file(
    url: str,
    path,
    sha256: str,
    *,
    timeout: float = 60.0,
    max_seconds: float = 900.0,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Download ``url`` to ``path`` unless a file with the right SHA-256 is already there.

    The bytes go to a temporary file beside ``path``; it is renamed to ``path`` only after
    its length (against the ``Content-Length`` header) and its SHA-256 are checked.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` address.
    path : str or os.PathLike
        The final file; its folder is created if needed.
    sha256 : str
        The expected SHA-256, 64 hexadecimal digits.
    timeout : float
        Seconds to wait for the connection and for each read.
    max_seconds : float
        Seconds the whole download may take (a server that trickles bytes is cut off).
    max_bytes : int
        Largest body accepted: a larger ``Content-Length`` is refused before anything is
        written, and a body that runs past it is cut off.

    Returns
    -------
    pathlib.Path
        ``path``, holding exactly the expected bytes.

    Raises
    ------
    DownloadError
        The server could not be reached, did not answer HTTP, answered with an HTTP error,
        timed out, was too slow or too large, sent fewer bytes than announced, or sent bytes
        with another SHA-256.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http:// or https:// address; got {url!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    path, sha256 = Path(path), check_sha256(sha256)
    timeout = check_positive_float(timeout, "timeout")
    max_seconds = check_positive_float(max_seconds, "max_seconds")
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    if path.is_file() and sha256_file(path) == sha256:
        return path
    limits = _Limits(timeout, time.monotonic() + max_seconds, max_seconds, max_bytes)
    with atomic_file(path, suffix=".part") as out:  # renamed to path only if every check passes
        h, received, expected_length = _fetch(url, out, limits)
        if expected_length is not None and received != expected_length:
            raise DownloadError(
                f"{url} was truncated: received {received} of {expected_length} bytes"
            )
        if h.hexdigest() != sha256:
            raise DownloadError(
                f"{url} is corrupted or not the expected file: its SHA-256 is "
                f"{h.hexdigest()} ({received} bytes), expected {sha256}"
            )
    return path


def fetch_bytes(url: str, *, timeout: float = 30.0, max_bytes: int = 1 << 20) -> bytes:
    """The body of ``url``, at most ``max_bytes`` long (for a small file such as a manifest,
    whose SHA-256 is not known in advance); every failure is a :class:`DownloadError`."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http:// or https:// address; got {url!r}")
    timeout = check_positive_float(timeout, "timeout")
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    out = io.BytesIO()
    limits = _Limits(timeout, time.monotonic() + 4 * timeout, 4 * timeout, max_bytes)
    _, received, expected_length = _fetch(url, out, limits)
    if expected_length is not None and received != expected_length:
        raise DownloadError(f"{url} was truncated: received {received} of {expected_length} bytes")
    return out.getvalue()


@dataclass(frozen=True)
class _Limits:
    timeout: float  # seconds per read
    end: float  # time.monotonic() by which the whole download must be done
    max_seconds: float
    max_bytes: int


def _fetch(url: str, out, limits: _Limits):
    """Stream ``url`` into ``out``; returns (sha256 object, bytes received, Content-Length)."""
    request = urllib.request.Request(url, headers={"User-Agent": "vae_lib"})
    h, received = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(request, timeout=limits.timeout) as response:
            length = response.headers.get("Content-Length")
            expected_length = int(length) if length and length.isdigit() else None
            if expected_length is not None and expected_length > limits.max_bytes:
                raise DownloadError(
                    f"{url} announces {expected_length:,} bytes; at most {limits.max_bytes:,} "
                    "are accepted (max_bytes)"
                )
            # read1 returns what has arrived, so the deadline is checked between reads
            while block := response.read1(_CHUNK):
                received += len(block)
                if received > limits.max_bytes:
                    raise DownloadError(
                        f"{url} sent more than {limits.max_bytes:,} bytes (max_bytes); cut off"
                    )
                out.write(block)
                h.update(block)
                if time.monotonic() > limits.end:
                    raise DownloadError(
                        f"{url} took longer than {limits.max_seconds:g} s (max_seconds); "
                        f"cut off after {received} bytes"
                    )
    except DownloadError:
        raise
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url} answered HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise DownloadError(f"could not reach {url} ({err.reason})") from err
    except TimeoutError as err:
        raise DownloadError(f"{url} timed out after {limits.timeout:g} s") from err
    except http.client.HTTPException as err:  # not HTTP, bad headers, a cut chunked body ...
        raise DownloadError(
            f"{url} did not answer as an HTTP server should ({type(err).__name__}: {err})"
        ) from err
    except OSError as err:  # the connection broke mid-transfer (reset, ...)
        raise DownloadError(f"{url} broke off after {received} bytes ({err!r})") from err
    return h, received, expected_length
