"""Fetching the book's published models, against a server on 127.0.0.1 (good, corrupt,
missing, slow), and falling back to training with a line that says which happened."""

import hashlib
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import vae_lib
from tests.guards import returns
from vae_lib.testing import HANG_SECONDS
from vae_lib.training import published

CONFIG = vae_lib.VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=2)
SETTINGS = dict(epochs=2, seed=3, batch_size=16)


@pytest.fixture(scope="module")
def data():
    return vae_lib.patterns(64, np.random.default_rng(0))[0]


@pytest.fixture(scope="module")
def book_copy(data, tmp_path_factory):
    """The file the book's build would publish, trained once."""
    folder = tmp_path_factory.mktemp("book")
    vae_lib.load_or_train(CONFIG, data, cache_dir=folder, **SETTINGS)
    (path,) = folder.glob("*.npz")
    return path.name, path.read_bytes()


@pytest.fixture
def server(book_copy, monkeypatch):
    """A published folder whose behaviour each test chooses: ``state["mode"]``."""
    name, body = book_copy
    state = {"mode": "good", "hits": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["hits"].append(self.path)
            mode = state["mode"]
            if self.path.endswith("/manifest.json"):
                entry = {
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "bytes": len(body),
                    "seconds": 12.5,
                }
                key_part = name.rpartition("-")[2]
                files = {
                    "good": {name: entry},
                    "missing": {},
                    # the right key after names the store never makes
                    "hostile": {
                        other: entry
                        for other in (
                            f"a/b-{key_part}",
                            f"../x-{key_part}",
                            f"x?y-{key_part}",
                            key_part,
                            f"-{key_part}",
                            f"x-{key_part}.npz",
                        )
                    },
                }.get(mode, {name: entry})
                payload = json.dumps(files).encode()
            elif self.path.endswith("/" + name) and mode != "missing":
                payload = body if mode != "corrupt" else body[:-10] + b"0123456789"
                if mode == "slow":
                    time.sleep(2.0)
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv(published.MODELS_URL_ENV, f"http://127.0.0.1:{httpd.server_address[1]}/m/")
    monkeypatch.setattr(published, "_manifests", {})
    monkeypatch.setattr(published, "READ_TIMEOUT", 0.5)
    yield state
    httpd.shutdown()


def test_a_published_model_is_fetched_not_trained(data, server, book_copy, tmp_path, capsys):
    model, history = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    out = capsys.readouterr().out
    assert f"fetched {book_copy[0]}, the book's own copy (SHA-256 checked)" in out
    assert "computing it took the book's build 12 s" in out and "computed" not in out
    assert (tmp_path / book_copy[0]).read_bytes() == book_copy[1]
    assert history.epoch == [1, 2]


def test_a_model_published_under_another_pages_name_is_fetched(
    data, server, book_copy, tmp_path, capsys
):
    """The key decides: the book stored this model as "vae-<key>", the reader asks for it
    as "mine-<key>" and gets the published file under the name it asked for."""
    model, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, name="mine", **SETTINGS)
    out = capsys.readouterr().out
    mine = "mine-" + book_copy[0].rpartition("-")[2]
    assert f"fetched {mine} (published as {book_copy[0]}), the book's own copy" in out
    assert "computed" not in out
    assert [p.name for p in tmp_path.iterdir()] == [mine]
    assert (tmp_path / mine).read_bytes() == book_copy[1]
    assert server["hits"][-1].endswith("/" + book_copy[0])


@pytest.mark.parametrize(
    "mode, says",
    [
        ("corrupt", "could not fetch .* is corrupted or not the expected file"),
        ("missing", "is not among the published files; computing it here"),
        ("slow", "could not fetch .* timed out"),
        ("hostile", "is not among the published files; computing it here"),
    ],
)
def test_a_model_that_cannot_be_fetched_is_trained_and_says_so(
    data, server, book_copy, tmp_path, capsys, mode, says
):
    server["mode"] = mode
    returns(lambda: vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS))
    out = capsys.readouterr().out
    assert re.search(says, out), out
    assert "computed " in out and " here in " in out
    assert [p.name for p in tmp_path.iterdir()] == [book_copy[0]]  # trained, nothing else


def test_offline_the_model_is_trained(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(published.MODELS_URL_ENV, "http://127.0.0.1:9/m/")  # nothing listens
    monkeypatch.setattr(published, "_manifests", {})
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    out = capsys.readouterr().out
    assert "could not fetch" in out and "could not reach" in out and "computed " in out


def test_nothing_is_fetched_unless_asked(data, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(published.MODELS_URL_ENV, raising=False)
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------- hostile folders
BODY = b"the published file"
GOOD = {"sha256": hashlib.sha256(BODY).hexdigest(), "bytes": len(BODY), "seconds": 3.0}


@pytest.fixture
def folder(monkeypatch):
    """A published folder on 127.0.0.1 serving ``state["manifest"]`` (bytes) and f.npz."""
    state = {"manifest": b"{}", "hits": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["hits"].append(self.path)
            payload = state["manifest"] if self.path.endswith("/manifest.json") else BODY
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv(published.MODELS_URL_ENV, f"http://127.0.0.1:{httpd.server_address[1]}/m/")
    monkeypatch.setattr(published, "_manifests", {})
    monkeypatch.setattr(published, "READ_TIMEOUT", 0.5)
    yield state
    httpd.shutdown()


def entry(**fields):
    return json.dumps({"f.npz": {**GOOD, **fields}}).encode()


@pytest.mark.parametrize(
    "manifest, says",
    [
        (entry(bytes=float("inf")), "not a JSON manifest (Infinity is not a JSON number)"),
        (entry().replace(b'"bytes": 18', b'"bytes": 1e400'), "bytes must be a whole number"),
        (entry(seconds=float("nan")), "not a JSON manifest (NaN is not a JSON number)"),
        (b'{"f.npz": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
        (b"[" * 500_000, "nested too deeply"),
        (entry(bytes="18"), "bytes must be a whole number from 0 to 134,217,728; got '18'"),
        (entry(bytes=-1), "bytes must be a whole number from 0 to 134,217,728; got -1"),
        (entry(bytes=18.0), "bytes must be a whole number"),
        (entry(bytes=True), "bytes must be a whole number"),
        (entry(bytes=10**40), "bytes must be a whole number"),
        (entry(bytes=None), "bytes must be a whole number"),
        (entry(seconds="12"), "seconds must be a number from 0 to 1e+09, or null"),
        (entry(seconds=10**400), "seconds must be a number from 0 to 1e+09, or null"),
        (entry(seconds=-1), "seconds must be a number"),
        (json.dumps({"f.npz": [1, 2]}).encode(), "entry for f.npz must be a JSON object"),
        (json.dumps({"f.npz": "abc"}).encode(), "entry for f.npz must be a JSON object"),
    ],
)
def test_a_malformed_manifest_is_reported_and_the_file_computed_here(
    folder, tmp_path, manifest, says
):
    folder["manifest"] = manifest
    report = published.fetch_published(tmp_path / "f.npz")
    assert report.startswith("could not fetch f.npz (") and says in report, report
    assert report.endswith("computing it here instead") and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "fields, says",
    [
        ({"sha256": 12}, "sha256 must be 64 hexadecimal digits; got 12"),
        ({"sha256": "ab" * 31}, "sha256 must be 64 hexadecimal digits"),
        ({"sha256": "z" * 10**5}, "sha256 must be 64 hexadecimal digits; got 'zzz"),
        ({"bytes": 10}, "announces 18 bytes; at most 10 are accepted"),  # the file has 18
    ],
)
def test_a_wrong_entry_is_reported(folder, tmp_path, fields, says):
    folder["manifest"] = entry(**fields)
    report = published.fetch_published(tmp_path / "f.npz")
    assert "could not fetch f.npz (" in report and says in report, report
    assert len(report) < 500 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seconds, took", [(None, ""), (12.4, "; computing it took the")])
def test_a_sound_entry_is_fetched(folder, tmp_path, seconds, took):
    folder["manifest"] = entry(sha256=GOOD["sha256"].upper(), seconds=seconds)
    report = published.fetch_published(tmp_path / "f.npz")
    assert report == f"fetched f.npz, the book's own copy (SHA-256 checked){took}" + (
        " book's build 12 s" if took else ""
    )
    assert (tmp_path / "f.npz").read_bytes() == BODY


def test_a_file_that_cannot_be_written_is_reported(folder, tmp_path):
    folder["manifest"] = entry()
    (tmp_path / "blocked").write_text("a file where the folder should be")
    report = published.fetch_published(tmp_path / "blocked" / "f.npz")
    assert report.startswith("could not fetch f.npz (") and "computing it here" in report


def test_a_manifest_that_failed_is_not_asked_for_again(folder, tmp_path):
    folder["manifest"] = b"not json"
    first = published.fetch_published(tmp_path / "f.npz")
    second = published.fetch_published(tmp_path / "g.npz")
    assert "is not a JSON manifest" in first and "is not a JSON manifest" in second
    assert "(as when it was asked for first)" in second
    assert folder["hits"] == ["/m/manifest.json"]


def test_a_manifest_server_that_trickles_its_headers_is_cut_off(tmp_path, monkeypatch):
    """A raw server that sends its status line, then one header byte every 0.2 s."""
    listener, stop = socket.create_server(("127.0.0.1", 0)), threading.Event()

    def serve():
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                end = time.monotonic() + HANG_SECONDS
                while time.monotonic() < end and not stop.wait(0.2):
                    conn.sendall(b"x")

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    monkeypatch.setenv(published.MODELS_URL_ENV, f"http://127.0.0.1:{port}/m/")
    monkeypatch.setattr(published, "_manifests", {})
    monkeypatch.setattr(published, "READ_TIMEOUT", 0.5)  # a deadline of 4 × 0.5 s
    try:
        report = returns(lambda: published.fetch_published(tmp_path / "f.npz"))
    finally:
        stop.set()
    assert "could not fetch f.npz" in report and "took longer than 2 s (max_seconds)" in report
