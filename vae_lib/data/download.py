"""Downloads that are checked: a file arrives whole, with the expected SHA-256, or not at all.

:func:`download_file` fetches a file with ``urllib`` to a temporary file beside its final
name, checks its length and SHA-256, and only then renames it: a failed, truncated,
corrupted, too slow or too large download never leaves a file there, and every failure is a
:class:`DownloadError` that says what happened. :func:`fetch_bytes` reads a small file whose
SHA-256 is not known in advance (a manifest) under the same limits.

The deadline (``max_seconds``) covers the whole exchange, not only the body: every socket
operation (connecting, the TLS handshake, each read of the status line, the headers and the
body) may block at most ``timeout`` seconds and never past the deadline, so a server that
trickles its headers a byte at a time is cut off like one that trickles its body.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

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


def fetch_bytes(
    url: str,
    *,
    timeout: float = 30.0,
    max_bytes: int = 1 << 20,
    max_seconds: float | None = None,
) -> bytes:
    """The body of ``url``, at most ``max_bytes`` long (for a small file such as a manifest,
    whose SHA-256 is not known in advance); every failure is a :class:`DownloadError`.

    ``timeout`` bounds each socket operation and ``max_seconds`` (default 4 × ``timeout``)
    the whole fetch, as in :func:`download_file`.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http:// or https:// address; got {url!r}")
    timeout = check_positive_float(timeout, "timeout")
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    max_seconds = (
        4 * timeout if max_seconds is None else check_positive_float(max_seconds, "max_seconds")
    )
    out = io.BytesIO()
    limits = _Limits(timeout, time.monotonic() + max_seconds, max_seconds, max_bytes)
    _, received, expected_length = _fetch(url, out, limits)
    if expected_length is not None and received != expected_length:
        raise DownloadError(f"{url} was truncated: received {received} of {expected_length} bytes")
    return out.getvalue()


class _OutOfTime(OSError):
    """The deadline of a download passed during a socket operation (reported as max_seconds).

    An ``OSError`` so that the standard library cleans up as after any socket error (the TLS
    layer closes its socket); :func:`_fetch` turns it into a :class:`DownloadError`.
    """


@dataclass(frozen=True)
class _Limits:
    timeout: float  # seconds per socket operation
    end: float  # time.monotonic() by which the whole download must be done
    max_seconds: float
    max_bytes: int

    def wait(self) -> float:
        """How long the next socket operation may block: ``timeout``, or the time left before
        the deadline if that is shorter; :class:`_OutOfTime` once the deadline has passed."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise _OutOfTime(f"the deadline of {self.max_seconds:g} s passed")
        return min(self.timeout, left)

    def timed_out(self, wait: float, err: TimeoutError) -> NoReturn:
        """Re-raise ``err``, the timeout of an operation allowed ``wait`` seconds: as
        :class:`_OutOfTime` if the deadline, not ``timeout``, is what cut it short."""
        if wait < self.timeout:
            raise _OutOfTime(f"the deadline of {self.max_seconds:g} s passed") from err
        raise err

    def bounded(self, sock, operation, *args):
        """``operation(*args)``, a blocking operation on ``sock``, within :meth:`wait`."""
        wait = self.wait()
        sock.settimeout(wait)
        try:
            return operation(*args)
        except TimeoutError as err:
            self.timed_out(wait, err)


class _DeadlineSocket(socket.socket):
    """A plain socket whose every read blocks at most ``limits.wait()`` seconds."""

    limits: _Limits

    def recv(self, *args):
        return self.limits.bounded(self, super().recv, *args)

    def recv_into(self, *args):
        return self.limits.bounded(self, super().recv_into, *args)


class _DeadlineSSLSocket(ssl.SSLSocket):
    """A TLS socket (made by a context that carries ``limits``) whose handshake and every
    read block at most ``limits.wait()`` seconds. The ssl module applies a socket's timeout
    to a whole operation, so a handshake or a record trickled a byte at a time ends too."""

    def do_handshake(self, block=False):
        return self.context.limits.bounded(self, super().do_handshake, block)

    def recv(self, *args):
        return self.context.limits.bounded(self, super().recv, *args)

    def recv_into(self, *args):
        return self.context.limits.bounded(self, super().recv_into, *args)


class _DeadlineConnection:
    """Mixed into an ``http.client`` connection: connecting waits at most ``limits.wait()``
    seconds, and the socket it leaves reads within the deadline (the response, status line
    and headers included, is read from it)."""

    def __init__(self, *args, limits: _Limits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits

    def connect(self):
        wait = self.limits.wait()
        self.timeout = wait  # connect() and, for https, the handshake's socket use it
        try:
            super().connect()
        except TimeoutError as err:
            self.limits.timed_out(wait, err)
        if type(self.sock) is socket.socket:  # plain http: re-wrap the connected socket
            sock = self.sock
            self.sock = _DeadlineSocket(sock.family, sock.type, sock.proto, sock.detach())
            self.sock.limits = self.limits
            self.sock.settimeout(wait)


class _HTTPConnection(_DeadlineConnection, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnection, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, limits: _Limits):
        super().__init__()
        self.limits = limits

    def http_open(self, req):
        return self.do_open(_HTTPConnection, req, limits=self.limits)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, limits: _Limits):
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineSSLSocket
        context.limits = limits
        super().__init__(context=context)
        self.limits = limits

    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context, limits=self.limits)


def _opener(limits: _Limits) -> urllib.request.OpenerDirector:
    """urllib's opener for http and https only (a redirect elsewhere, e.g. to ftp://, is an
    error), with every connection held to ``limits``; proxies from the environment apply."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
        _HTTPHandler(limits),
        _HTTPSHandler(limits),
    ):
        opener.add_handler(handler)
    return opener


def _fetch(url: str, out, limits: _Limits):
    """Stream ``url`` into ``out``; returns (sha256 object, bytes received, Content-Length)."""
    request = urllib.request.Request(url, headers={"User-Agent": "vae_lib"})
    h, received, expected_length = hashlib.sha256(), 0, None
    where = "before the headers of its answer were complete"
    try:
        with _opener(limits).open(request, timeout=limits.timeout) as response:
            where = "after 0 bytes"
            length = response.headers.get("Content-Length")
            expected_length = int(length) if length and length.isdigit() else None
            if expected_length is not None and expected_length > limits.max_bytes:
                raise DownloadError(
                    f"{url} announces {expected_length:,} bytes; at most {limits.max_bytes:,} "
                    "are accepted (max_bytes)"
                )
            # read1 returns what has arrived; each read waits no longer than the deadline
            while block := response.read1(_CHUNK):
                received += len(block)
                where = f"after {received} bytes"
                if received > limits.max_bytes:
                    raise DownloadError(
                        f"{url} sent more than {limits.max_bytes:,} bytes (max_bytes); cut off"
                    )
                out.write(block)
                h.update(block)
                if time.monotonic() > limits.end:
                    raise _OutOfTime
    except DownloadError:
        raise
    except _OutOfTime as err:
        raise _too_slow(url, limits, where) from err
    except urllib.error.HTTPError as err:
        err.close()  # it holds the connection of the error's answer
        raise DownloadError(f"{url} answered HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        if isinstance(err.reason, _OutOfTime):
            raise _too_slow(url, limits, where) from err
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


def _too_slow(url: str, limits: _Limits, where: str) -> DownloadError:
    return DownloadError(
        f"{url} took longer than {limits.max_seconds:g} s (max_seconds); cut off {where}"
    )
