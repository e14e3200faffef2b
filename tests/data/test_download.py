"""The MNIST downloader, against an HTTP server on 127.0.0.1 started here (no internet).

The server serves small fake MNIST files in IDX format: good ones, a corrupted one (one byte
flipped), a truncated one (fewer bytes than its Content-Length), a slow one, and 404s.
"""

import gzip
import hashlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import vae_lib
from tests.guards import returns
from vae_lib.core.files import FILE_MODE
from vae_lib.data import mnist


def idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def fake_mnist():
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (30, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(30) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (10, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(10),
    }
    files = {name: idx_gz(a) for name, a in arrays.items()}
    return arrays, files, {name: sha(data) for name, data in files.items()}


@pytest.fixture(scope="module")
def server(fake_mnist):
    """Base URL of a local server; ``routes`` maps a path to (body, mode)."""
    _, files, _ = fake_mnist
    routes = {f"/good/{name}": (data, "ok") for name, data in files.items()}
    big = files["train-images-idx3-ubyte.gz"]
    corrupted = bytearray(big)
    corrupted[len(big) // 2] ^= 0xFF
    routes["/corrupt/file.gz"] = (bytes(corrupted), "ok")
    routes["/truncated/file.gz"] = (big, "truncate")
    routes["/slow/file.gz"] = (big, "slow")
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if self.path not in routes:
                self.send_error(404, "Not Found")
                return
            body, mode = routes[self.path]
            if mode == "slow":
                time.sleep(1.0)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if mode == "truncate" else body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def leftovers(folder):
    return sorted(p.name for p in folder.rglob("*.part"))


def test_load_mnist_from_local_server(server, fake_mnist, tmp_path):
    url, hits = server
    arrays, files, checksums = fake_mnist
    ds = vae_lib.load_mnist(tmp_path, base_url=url + "/good", checksums=checksums, timeout=5)
    assert ds.x_train.shape == (30, 784) and ds.x_test.shape == (10, 784)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_allclose(
        ds.x_train * 255, arrays["train-images-idx3-ubyte.gz"].reshape(30, -1)
    )
    assert np.array_equal(ds.y_test, np.arange(10))
    for name, data in files.items():
        assert (tmp_path / "mnist" / name).read_bytes() == data
        # readable by others as any file the user makes is, not 0600 as a temporary file
        assert (tmp_path / "mnist" / name).stat().st_mode & 0o777 == FILE_MODE
    assert leftovers(tmp_path) == []
    # a second call finds every file in place and asks the server for nothing
    before = len(hits)
    vae_lib.load_mnist(tmp_path, base_url=url + "/good/", checksums=checksums, timeout=5)
    assert len(hits) == before


def test_base_url_from_environment(server, fake_mnist, tmp_path, monkeypatch):
    url, _ = server
    monkeypatch.setenv(mnist.MNIST_URL_ENV, url + "/good")
    paths = vae_lib.download_mnist(tmp_path, checksums=fake_mnist[2], timeout=5)
    assert sorted(paths) == sorted(mnist.MNIST_SHA256)
    assert all(p.is_file() for p in paths.values())


def test_cache_dir_from_environment(server, fake_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv(mnist.DATA_DIR_ENV, str(tmp_path / "data"))
    assert vae_lib.data.mnist.default_data_dir() == tmp_path / "data"
    vae_lib.download_mnist(base_url=server[0] + "/good", checksums=fake_mnist[2], timeout=5)
    assert (tmp_path / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_corrupted_file_is_rejected_and_not_kept(server, fake_mnist, tmp_path):
    target = tmp_path / "file.gz"
    expected = fake_mnist[2]["train-images-idx3-ubyte.gz"]
    with pytest.raises(
        vae_lib.DownloadError, match=f"SHA-256 is [0-9a-f]{{64}}.*expected {expected}"
    ):
        vae_lib.download_file(server[0] + "/corrupt/file.gz", target, expected, timeout=5)
    assert not target.exists() and leftovers(tmp_path) == []


def test_truncated_file_is_rejected_and_not_kept(server, fake_mnist, tmp_path):
    target = tmp_path / "file.gz"
    expected = fake_mnist[2]["train-images-idx3-ubyte.gz"]
    with pytest.raises(vae_lib.DownloadError, match="truncated: received [0-9]+ of [0-9]+ bytes"):
        vae_lib.download_file(server[0] + "/truncated/file.gz", target, expected, timeout=5)
    assert not target.exists() and leftovers(tmp_path) == []


def test_http_404(server, tmp_path):
    with pytest.raises(vae_lib.DownloadError, match="answered HTTP 404 Not Found"):
        vae_lib.download_file(server[0] + "/nothing.gz", tmp_path / "f", "0" * 64, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_mnist_download_says_how_to_use_another_mirror(server, tmp_path):
    with pytest.raises(vae_lib.DownloadError, match="HTTP 404.*VAE_LIB_MNIST_URL.*offline"):
        vae_lib.download_mnist(tmp_path, base_url=server[0] + "/nowhere/", timeout=5)


def test_unreachable_server(tmp_path):
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(vae_lib.DownloadError, match="could not reach.*mnist_subset"):
        vae_lib.download_mnist(tmp_path, base_url=f"http://127.0.0.1:{port}/", timeout=5)
    assert leftovers(tmp_path) == [] and not list((tmp_path / "mnist").glob("*.gz"))


def test_timeout(server, fake_mnist, tmp_path):
    expected = fake_mnist[2]["train-images-idx3-ubyte.gz"]
    url = server[0] + "/slow/file.gz"
    with pytest.raises(vae_lib.DownloadError, match="timed out after 0.2 s"):
        returns(lambda: vae_lib.download_file(url, tmp_path / "f", expected, timeout=0.2))
    assert list(tmp_path.iterdir()) == []


def test_bad_file_in_cache_is_replaced(server, fake_mnist, tmp_path):
    _, files, checksums = fake_mnist
    name = "t10k-labels-idx1-ubyte.gz"
    target = tmp_path / name
    target.write_bytes(b"not the file")
    vae_lib.download_file(f"{server[0]}/good/{name}", target, checksums[name], timeout=5)
    assert target.read_bytes() == files[name]


def test_failed_download_leaves_the_old_file_alone(server, tmp_path):
    target = tmp_path / "file.gz"
    target.write_bytes(b"old")
    with pytest.raises(vae_lib.DownloadError):
        vae_lib.download_file(server[0] + "/corrupt/file.gz", target, "1" * 64, timeout=5)
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab"))
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes"):
        mnist.read_idx(bad)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05abc"))
    with pytest.raises(ValueError, match=r"announces shape \(5,\).*holds 3"):
        mnist.read_idx(short)


def test_known_checksums_are_the_standard_ones():
    assert mnist.MNIST_SHA256["train-images-idx3-ubyte.gz"].startswith("440fcabf73cc546f")
    assert mnist.MNIST_SHA256["t10k-labels-idx1-ubyte.gz"] == (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    )
    assert all(len(v) == 64 for v in mnist.MNIST_SHA256.values())
    assert mnist.MNIST_BASE_URL.startswith("https://") and mnist.MNIST_BASE_URL.endswith("/")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(url="ftp://x/f", sha256="0" * 64), ValueError, "url must be an http"),
        (dict(url="http://127.0.0.1:9/f", sha256="xyz"), ValueError, "sha256 must be 64"),
        (dict(url="http://127.0.0.1:9/f", sha256="0" * 64, timeout=0), ValueError, "timeout"),
        (dict(url="http://127.0.0.1:9/f", sha256="0" * 64, path=3), TypeError, "path must be"),
    ],
)
def test_download_file_bad_input(kwargs, error, message, tmp_path):
    kwargs.setdefault("path", tmp_path / "f")
    with pytest.raises(error, match=message):
        vae_lib.download_file(**kwargs)


def test_download_mnist_bad_input(tmp_path):
    with pytest.raises(ValueError, match="base_url must be an http"):
        vae_lib.download_mnist(tmp_path, base_url="file:///tmp/")
    with pytest.raises(ValueError, match="checksums must be a dict with keys"):
        vae_lib.download_mnist(tmp_path, base_url="http://127.0.0.1:9/", checksums={"a": "0"})
    with pytest.raises(TypeError, match="cache_dir must be"):
        vae_lib.download_mnist(5)
