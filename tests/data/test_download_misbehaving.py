"""The downloader against servers that misbehave, each a raw socket on 127.0.0.1.

Every case must end in a DownloadError that says what happened, within a bounded time, and
leave nothing behind where the file was to go.
"""

import socket
import threading
import time

import pytest

from vae_lib import DownloadError, download_file
from vae_lib.data.download import fetch_bytes
from vae_lib.testing import HANG_SECONDS

SHA = "0" * 64


@pytest.fixture
def raw_server():
    """``start(reply)``: serve every connection with ``reply(conn)``; returns the base URL."""
    sockets = []

    def start(reply):
        listener = socket.create_server(("127.0.0.1", 0))
        sockets.append(listener)

        def serve():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)  # the request
                    try:
                        reply(conn)
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for s in sockets:
        s.close()


def fetch(url, tmp_path, **kwargs):
    start = time.monotonic()
    with pytest.raises(DownloadError) as raised:
        download_file(url + "/file.gz", tmp_path / "file.gz", SHA, **kwargs)
    elapsed = time.monotonic() - start
    assert list(tmp_path.iterdir()) == [], "a failed download left a file behind"
    return str(raised.value), elapsed


def test_a_trickling_server_is_cut_off_at_the_deadline(raw_server, tmp_path):
    def trickle(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.1)

    message, elapsed = fetch(raw_server(trickle), tmp_path, timeout=5, max_seconds=1.0)
    assert "took longer than 1 s (max_seconds)" in message and elapsed < HANG_SECONDS


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
    message, elapsed = fetch(raw_server(reply), tmp_path, timeout=30, max_seconds=1.0)
    assert "took longer than 1 s (max_seconds)" in message, message
    assert "before the headers of its answer were complete" in message
    assert elapsed < HANG_SECONDS


def test_a_stalled_body_is_cut_off_at_the_deadline_not_the_read_timeout(raw_server, tmp_path, stop):
    reply = trickle(stop, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", drip=b"")
    message, elapsed = fetch(raw_server(reply), tmp_path, timeout=30, max_seconds=1.0)
    assert "took longer than 1 s (max_seconds); cut off after 3 bytes" in message, message
    assert elapsed < HANG_SECONDS


def test_a_trickled_tls_handshake_is_cut_off_at_the_deadline(raw_server, tmp_path, stop):
    # a TLS record header announcing 16 kB of handshake, whose bytes then come one by one
    reply = trickle(stop, b"\x16\x03\x03\x40\x00", drip=b"\x00")
    url = raw_server(reply).replace("http://", "https://")
    message, elapsed = fetch(url, tmp_path, timeout=30, max_seconds=1.0)
    assert "took longer than 1 s (max_seconds)" in message, message
    assert elapsed < HANG_SECONDS


def test_fetch_bytes_with_trickled_headers_ends_at_its_deadline(raw_server, stop):
    url = raw_server(trickle(stop, *TRICKLES["a header line"]))
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"took longer than 2 s \(max_seconds\)"):
        fetch_bytes(url + "/manifest.json", timeout=0.5)  # max_seconds: 4 × timeout
    assert time.monotonic() - start < HANG_SECONDS


def test_a_huge_announced_body_is_refused_before_anything_is_written(raw_server, tmp_path):
    def huge(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n" + b"x" * 1000)

    message, elapsed = fetch(raw_server(huge), tmp_path, max_bytes=1 << 20)
    assert "announces 3,000,000,000 bytes; at most 1,048,576" in message and elapsed < HANG_SECONDS


def test_a_body_longer_than_the_limit_is_cut_off(raw_server, tmp_path):
    def endless(conn):  # no Content-Length: the body runs until the connection closes
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x" * 65536)

    message, _ = fetch(raw_server(endless), tmp_path, max_bytes=100_000)
    assert "sent more than 100,000 bytes (max_bytes)" in message


def test_a_lying_content_length_is_a_truncation(raw_server, tmp_path):
    def short(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\nabc")

    message, _ = fetch(raw_server(short), tmp_path, timeout=5)
    assert "truncated" in message or "did not answer as an HTTP server should" in message


def test_a_reply_that_is_not_http(raw_server, tmp_path):
    message, _ = fetch(raw_server(lambda conn: conn.sendall(b"SSH-2.0-OpenSSH\r\n")), tmp_path)
    assert "did not answer as an HTTP server should (BadStatusLine" in message


def test_a_header_line_that_is_too_long(raw_server, tmp_path):
    def long_header(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 100_000 + b"\r\n\r\n")

    message, _ = fetch(raw_server(long_header), tmp_path)
    assert "did not answer as an HTTP server should (LineTooLong" in message


def test_too_many_headers(raw_server, tmp_path):
    def many(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 200 + b"\r\n")

    message, _ = fetch(raw_server(many), tmp_path)
    assert "did not answer as an HTTP server should (HTTPException" in message


def test_a_cut_chunked_body(raw_server, tmp_path):
    def cut(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123")

    message, elapsed = fetch(raw_server(cut), tmp_path, timeout=2)
    assert "IncompleteRead" in message and elapsed < HANG_SECONDS


def test_a_redirect_loop(raw_server, tmp_path):
    def loop(conn):
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /file.gz\r\nContent-Length: 0\r\n\r\n")

    message, elapsed = fetch(raw_server(loop), tmp_path)
    assert "answered HTTP 302" in message and elapsed < HANG_SECONDS


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
