"""The downloader against servers that misbehave, each a raw socket on 127.0.0.1.

Every case must end in a DownloadError that says what happened, and leave nothing behind
where the file was to go; a call that does not return is caught as a hang
(:func:`tests.guards.returns`), and no test reads a clock. The last part puts every function
that fetches over HTTP (the downloader's two, MNIST's two and the reader notebooks' fetcher)
against the same hostile servers.
"""

import hashlib
import json
import re
import socket
import struct
import threading
import time

import pytest

from scripts import fetch_reader_notebooks
from tests.guards import returns
from vae_lib import DownloadError, download_file, download_mnist, load_mnist
from vae_lib.data.download import fetch_bytes
from vae_lib.testing import HANG_SECONDS
from vae_lib.training import published

SHA = "0" * 64
#: The deadline a trickle runs into: short, as every test that waits for it sleeps until then.
DEADLINE = 0.5


@pytest.fixture
def raw_server():
    """``start(reply, routes)``: serve every connection with ``reply(conn)``, or with
    ``routes[path]`` for a request of that path; returns the base URL."""
    sockets = []

    def start(reply, routes=None):
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def serve():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    request = conn.recv(65536).split(b" ")  # GET /path HTTP/1.1 ...
                    path = request[1].decode("latin-1") if len(request) > 1 else ""
                    try:
                        (routes or {}).get(path, reply)(conn)
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for s in sockets:
        s.close()


def fetch(url, tmp_path, **kwargs):
    """The message of the DownloadError that downloading ``url``/file.gz ends in."""
    with pytest.raises(DownloadError) as raised:
        returns(lambda: download_file(url + "/file.gz", tmp_path / "file.gz", SHA, **kwargs))
    assert list(tmp_path.iterdir()) == [], "a failed download left a file behind"
    return str(raised.value)


def test_a_trickling_server_is_cut_off_at_the_deadline(raw_server, tmp_path):
    def trickle(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.1)

    message = fetch(raw_server(trickle), tmp_path, timeout=5, max_seconds=DEADLINE)
    assert f"took longer than {DEADLINE:g} s (max_seconds)" in message


@pytest.fixture
def stop():
    """Set when the test ends: a trickling server stops then (or after HANG_SECONDS)."""
    event = threading.Event()
    yield event
    event.set()


def trickle(stop, prefix: bytes, drip: bytes = b"x", every: float = 0.2):
    """A reply: ``prefix``, then the bytes of ``drip`` over and over, one every ``every``
    seconds, never finishing on its own (an empty ``drip`` stalls). Each byte comes well
    within any per-read timeout, so only a deadline on the whole exchange ends the download."""

    def reply(conn):
        conn.sendall(prefix)
        end, i = time.monotonic() + HANG_SECONDS, 0
        while time.monotonic() < end and not stop.wait(every):
            if drip:
                conn.sendall(drip[i % len(drip) : i % len(drip) + 1])
                i += 1

    return reply


TRICKLES = {  # what comes whole, and what then comes a byte at a time
    "the status line": (b"", b"HTTP/1.1 200 " + b"O" * 100_000),
    "a header line": (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Slow: ", b"x"),
    "header after header": (b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n"),
}


@pytest.mark.parametrize("part", TRICKLES)
def test_trickled_headers_are_cut_off_at_the_deadline(raw_server, tmp_path, stop, part):
    reply = trickle(stop, *TRICKLES[part])
    message = fetch(raw_server(reply), tmp_path, timeout=30, max_seconds=DEADLINE)
    assert f"took longer than {DEADLINE:g} s (max_seconds)" in message, message
    assert "before the headers of its answer were complete" in message


def test_a_stalled_body_is_cut_off_at_the_deadline_not_the_read_timeout(raw_server, tmp_path, stop):
    reply = trickle(stop, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", drip=b"")
    message = fetch(raw_server(reply), tmp_path, timeout=30, max_seconds=DEADLINE)
    assert f"took longer than {DEADLINE:g} s (max_seconds); cut off after 3 bytes" in message, (
        message
    )


def test_a_trickled_tls_handshake_is_cut_off_at_the_deadline(raw_server, tmp_path, stop):
    # a TLS record header announcing 16 kB of handshake, whose bytes then come one by one
    reply = trickle(stop, b"\x16\x03\x03\x40\x00", drip=b"\x00")
    url = raw_server(reply).replace("http://", "https://")
    message = fetch(url, tmp_path, timeout=30, max_seconds=DEADLINE)
    assert f"took longer than {DEADLINE:g} s (max_seconds)" in message, message


def test_fetch_bytes_with_trickled_headers_ends_at_its_deadline(raw_server, stop):
    url = raw_server(trickle(stop, *TRICKLES["a header line"]))
    with pytest.raises(DownloadError, match=r"took longer than 2 s \(max_seconds\)"):
        returns(lambda: fetch_bytes(url + "/manifest.json", timeout=0.5))  # 4 × timeout


def test_a_huge_announced_body_is_refused_before_anything_is_written(raw_server, tmp_path):
    def huge(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n" + b"x" * 1000)

    message = fetch(raw_server(huge), tmp_path, max_bytes=1 << 20)
    assert "announces 3,000,000,000 bytes; at most 1,048,576" in message


def test_a_body_longer_than_the_limit_is_cut_off(raw_server, tmp_path):
    def endless(conn):  # no Content-Length: the body runs until the connection closes
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x" * 65536)

    message = fetch(raw_server(endless), tmp_path, max_bytes=100_000)
    assert "sent more than 100,000 bytes (max_bytes)" in message


def test_a_lying_content_length_is_a_truncation(raw_server, tmp_path):
    def short(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\nabc")

    message = fetch(raw_server(short), tmp_path, timeout=5)
    assert "truncated" in message or "did not answer as an HTTP server should" in message


def test_a_reply_that_is_not_http(raw_server, tmp_path):
    message = fetch(raw_server(lambda conn: conn.sendall(b"SSH-2.0-OpenSSH\r\n")), tmp_path)
    assert "did not answer as an HTTP server should (BadStatusLine" in message


def test_a_header_line_that_is_too_long(raw_server, tmp_path):
    def long_header(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 100_000 + b"\r\n\r\n")

    message = fetch(raw_server(long_header), tmp_path)
    assert "did not answer as an HTTP server should (LineTooLong" in message


def test_too_many_headers(raw_server, tmp_path):
    def many(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 200 + b"\r\n")

    message = fetch(raw_server(many), tmp_path)
    assert "did not answer as an HTTP server should (HTTPException" in message


def test_a_cut_chunked_body(raw_server, tmp_path):
    def cut(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123")

    message = fetch(raw_server(cut), tmp_path, timeout=2)
    assert "IncompleteRead" in message


def test_a_redirect_loop(raw_server, tmp_path):
    def loop(conn):
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /file.gz\r\nContent-Length: 0\r\n\r\n")

    message = fetch(raw_server(loop), tmp_path)
    assert "answered HTTP 302" in message


def test_a_killed_download_leaves_nothing_after_the_next_one(raw_server, tmp_path):
    import hashlib

    body = b"the file"

    def good(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n" + body)

    dead = tmp_path / "file.gz.999999999.abcdefgh.part"  # as a killed download leaves it
    dead.write_bytes(b"the f")
    url = raw_server(good) + "/file.gz"
    path = download_file(url, tmp_path / "file.gz", hashlib.sha256(body).hexdigest())
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == body


# ---------------------------------------------------------------------- every fetcher
#: What each fetcher may take: every read within 30 s, and the whole exchange within DEADLINE
#: when the server trickles (every byte comes well within a read's timeout, so only the
#: deadline ends it), else within 30 s: a misbehaviour that ends by itself must end with its
#: own error however busy the machine, never with a deadline that a loaded machine misses.
TRICKLE_LIMITS = {"timeout": 30.0, "max_seconds": DEADLINE}
PROMPT_LIMITS = {"timeout": 30.0, "max_seconds": 30.0}
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


def via_download_file(url, folder, limits):
    download_file(url + "/file.gz", folder / "file.gz", SHA, **limits)


def via_fetch_bytes(url, folder, limits):
    fetch_bytes(url + "/manifest.json", **limits)


def via_download_mnist(url, folder, limits):
    download_mnist(folder, base_url=url, **limits)


def via_load_mnist(url, folder, limits):
    load_mnist(folder, base_url=url, **limits)


def via_reader_notebooks_manifest(url, folder, limits):
    fetch_reader_notebooks.fetch(url, folder, **limits)


def via_reader_notebook(url, folder, limits):
    """The manifest comes whole (:func:`notebooks_manifest`); its one notebook misbehaves,
    which the fetcher reports as a problem and does not raise."""
    fetched, problems = fetch_reader_notebooks.fetch(url, folder, **limits)
    assert fetched == [] and len(problems) == 1, problems
    raise DownloadError(problems[0])


def via_reader_notebooks_main(url, folder, limits):
    """The script as Binder's postBuild runs it: it prints why and exits 0."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        argv = [
            "--base",
            url,
            "--dest",
            str(folder),
            "--timeout",
            str(limits["timeout"]),
            "--max-seconds",
            str(limits["max_seconds"]),
        ]
        assert fetch_reader_notebooks.main(argv) == 0
    assert "reader notebooks not fetched" in out.getvalue(), out.getvalue()
    raise DownloadError(out.getvalue())


def via_published_models(url, folder, limits):
    """The book's published models (a manifest, then the file), as the model cache asks:
    a failure is a line that says why, never an exception."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(published.MODELS_URL_ENV, url + "/_notebooks/")
        patch.setattr(published, "_manifests", {})
        patch.setattr(published, "READ_TIMEOUT", limits["timeout"])
        patch.setattr(published, "MANIFEST_SECONDS", limits["max_seconds"])
        patch.setattr(published, "FILE_SECONDS", limits["max_seconds"])
        report = published.fetch_published(folder / "a.ipynb")
    assert report.startswith("could not fetch a.ipynb"), report
    raise DownloadError(report)


def manifest(entry):
    """A reply: a manifest that lists one file, a.ipynb, as ``entry``."""
    body = json.dumps({"a.ipynb": entry}).encode()
    return lambda conn: conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )


SHA_NOTEBOOK = hashlib.sha256(NOTEBOOK).hexdigest()
#: Every function that fetches over HTTP (``urlopen`` is called in one place, the
#: downloader's, which all of these reach), and, for a fetcher that reads a manifest and
#: then the file it lists, the honest manifest (only the file misbehaves) or None.
FETCHERS = {
    "download_file": (via_download_file, None),
    "fetch_bytes": (via_fetch_bytes, None),
    "download_mnist": (via_download_mnist, None),
    "load_mnist": (via_load_mnist, None),
    "reader notebooks: the manifest": (via_reader_notebooks_manifest, None),
    "reader notebooks: a notebook": (via_reader_notebook, manifest(SHA_NOTEBOOK)),
    "reader notebooks: the script": (via_reader_notebooks_main, None),
    "published models: the manifest": (via_published_models, None),
    "published models: a model": (
        via_published_models,
        manifest({"sha256": SHA_NOTEBOOK, "bytes": 1000}),  # the most a reply announces
    ),
}


def answer(raw: bytes):
    return lambda stop: lambda conn: conn.sendall(raw)


def reset(stop):
    def reply(conn):  # a close with SO_LINGER 0 sends a reset, not a polite end
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return reply


CUT_BEFORE_HEADERS = rf"took longer than {DEADLINE:g} s \(max_seconds\); cut off before the headers"
#: Each misbehaviour: (the server's reply, made with the ``stop`` event; what the error says).
BEHAVIOURS = {
    "trickled status line": (
        lambda stop: trickle(stop, b"", b"HTTP/1.1 200 " + b"O" * 100_000),
        CUT_BEFORE_HEADERS,
    ),
    "status line, then trickled headers": (
        lambda stop: trickle(stop, b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n"),
        CUT_BEFORE_HEADERS,
    ),
    "trickled body": (
        lambda stop: trickle(stop, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        rf"took longer than {DEADLINE:g} s \(max_seconds\); cut off after \d+ bytes",
    ),
    "wrong Content-Length": (
        answer(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\nabc"),
        r"truncated: received 3 of 500 bytes|IncompleteRead",
    ),
    "redirect loop": (
        answer(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        r"answered HTTP 302",
    ),
    "server error": (
        answer(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
        r"answered HTTP 500 Internal Server Error",
    ),
    "connection closed unanswered": (
        lambda stop: lambda conn: None,
        r"did not answer as an HTTP server should \(RemoteDisconnected",
    ),
    "connection reset": (reset, r"broke off after 0 bytes \(ConnectionResetError"),
    "connection refused": (None, r"could not reach .*(Connection refused|Errno 111)"),
}

#: The misbehaviours that never end by themselves: only the deadline stops them.
ENDLESS = {"trickled status line", "status line, then trickled headers", "trickled body"}


def refused_url():
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


#: Every fetcher against every misbehaviour, but one: a notebook comes from the server that
#: has just given the manifest, which cannot then refuse the connection.
PAIRS = [
    (fetcher, behaviour)
    for fetcher in FETCHERS
    for behaviour in BEHAVIOURS
    if not (FETCHERS[fetcher][1] is not None and behaviour == "connection refused")
]


@pytest.mark.parametrize("fetcher, behaviour", PAIRS)
def test_every_fetcher_ends_with_a_clear_error(raw_server, stop, tmp_path, fetcher, behaviour):
    call, honest_manifest = FETCHERS[fetcher]
    make_reply, expected = BEHAVIOURS[behaviour]
    if make_reply is None:
        url = refused_url()
    else:
        routes = {"/_notebooks/manifest.json": honest_manifest} if honest_manifest else None
        url = raw_server(make_reply(stop), routes)
    limits = TRICKLE_LIMITS if behaviour in ENDLESS else PROMPT_LIMITS
    with pytest.raises(DownloadError) as raised:
        returns(lambda: call(url, tmp_path, limits), f"{fetcher} against a {behaviour}")
    assert re.search(expected, str(raised.value)), str(raised.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [], "a failed fetch left a file"
