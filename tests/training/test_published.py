"""Fetching the book's published models, against a server on 127.0.0.1 (good, corrupt,
missing, slow), and falling back to training with a line that says which happened."""

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import vae_lib
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
                files = (
                    {}
                    if mode == "missing"
                    else {
                        name: {
                            "sha256": hashlib.sha256(body).hexdigest(),
                            "bytes": len(body),
                            "seconds": 12.5,
                        }
                    }
                )
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


@pytest.mark.parametrize(
    "mode, says",
    [
        ("corrupt", "could not fetch .* is corrupted or not the expected file"),
        ("missing", "is not among the published files; computing it here"),
        ("slow", "could not fetch .* timed out"),
    ],
)
def test_a_model_that_cannot_be_fetched_is_trained_and_says_so(
    data, server, book_copy, tmp_path, capsys, mode, says
):
    server["mode"] = mode
    start = time.monotonic()
    model, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    out = capsys.readouterr().out
    assert __import__("re").search(says, out), out
    assert "computed " in out and " here in " in out
    assert time.monotonic() - start < HANG_SECONDS  # it ends: a hang guard, not a speed test
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
