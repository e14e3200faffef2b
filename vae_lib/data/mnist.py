"""Full MNIST for readers with a network: download once, check, cache, read.

MNIST (Yann LeCun, Corinna Cortes and Christopher J. C. Burges; licence CC BY-SA 3.0) comes
as four gzipped IDX files. :func:`download_mnist` fetches the missing ones with the checked
downloader of :mod:`vae_lib.data.download`, and :func:`load_mnist` returns a
:class:`~vae_lib.data.digits.Dataset` with MNIST's own split, 60,000 training and 10,000 test
images.

Offline, use :func:`vae_lib.mnist_subset` instead: 5,000 MNIST images shipped with vae_lib.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from .digits import Dataset
from .download import DownloadError, download_file

MNIST_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""Default mirror; another is ``https://storage.googleapis.com/cvdf-datasets/mnist/``."""
MNIST_URL_ENV = "VAE_LIB_MNIST_URL"
"""Environment variable that overrides :data:`MNIST_BASE_URL`."""
DATA_DIR_ENV = "VAE_LIB_DATA"
"""Environment variable naming the folder where downloads are kept."""
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}
"""SHA-256 of the four standard MNIST files (9,912,422, 28,881, 1,648,877, 4,542 bytes)."""


def default_data_dir() -> Path:
    """Where downloads go: ``$VAE_LIB_DATA`` if set, else ``~/.cache/vae_lib`` (or under
    ``$XDG_CACHE_HOME``)."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae_lib"


#: No MNIST file is larger than 10 MB (the training images, gzipped); a larger body is not one.
MNIST_MAX_BYTES = 1 << 25


def download_mnist(
    cache_dir=None,
    *,
    base_url: str | None = None,
    timeout: float = 60.0,
    checksums=None,
    max_seconds: float = 900.0,
) -> dict[str, Path]:
    """Download the four MNIST files into ``cache_dir/mnist`` (only those missing or bad).

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Default :func:`default_data_dir`.
    base_url : str, optional
        Folder URL holding the files; default ``$VAE_LIB_MNIST_URL``, else
        :data:`MNIST_BASE_URL`.
    timeout : float
        Seconds, per connection and per read.
    checksums : dict of str to str, optional
        File name to SHA-256; default :data:`MNIST_SHA256`. (Fashion-MNIST, say, has the
        same file names with other sums.)
    max_seconds : float
        Seconds each file's download may take in all, connecting, headers and body (a
        server that trickles bytes is cut off).

    Returns
    -------
    dict of str to pathlib.Path
        File name to the local, checked file.
    """
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a str or os.PathLike; got {type(cache_dir).__name__}")
    folder = (Path(cache_dir) if cache_dir is not None else default_data_dir()) / "mnist"
    base = base_url if base_url is not None else os.environ.get(MNIST_URL_ENV) or MNIST_BASE_URL
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http:// or https:// address; got {base!r}")
    checksums = MNIST_SHA256 if checksums is None else checksums
    if not isinstance(checksums, dict) or set(checksums) != set(MNIST_SHA256):
        raise ValueError(f"checksums must be a dict with keys {sorted(MNIST_SHA256)}")
    base = base if base.endswith("/") else base + "/"
    hint = (
        f"set {MNIST_URL_ENV} or pass base_url to use another mirror, or use "
        "vae_lib.mnist_subset() offline"
    )
    paths = {}
    for name, sha in checksums.items():
        try:
            paths[name] = download_file(
                base + name,
                folder / name,
                sha,
                timeout=timeout,
                max_seconds=max_seconds,
                max_bytes=MNIST_MAX_BYTES,
            )
        except DownloadError as err:
            raise DownloadError(f"{err}; {hint}") from err
    return paths


def read_idx(path) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes (MNIST's format) into a uint8 array.

    The header is two zero bytes, the type code 0x08 (unsigned byte), the number of
    dimensions, then each dimension as a big-endian 32-bit integer.
    """
    path = Path(path)
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (header {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(
            f"{path}: header announces shape {shape} ({int(np.prod(shape))} bytes); "
            f"the file holds {len(raw) - offset}"
        )
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(shape)


def load_mnist(
    cache_dir=None,
    *,
    base_url: str | None = None,
    timeout: float = 60.0,
    checksums=None,
    max_seconds: float = 900.0,
) -> Dataset:
    """Full MNIST with its standard split, downloaded once (see :func:`download_mnist`).

    Returns
    -------
    Dataset
        ``x_train`` shape (60000, 784), ``x_test`` shape (10000, 784), float32 grey levels
        pixel / 255 in [0, 1]; labels int64; ``image_shape`` (28, 28).
    """
    files = download_mnist(
        cache_dir,
        base_url=base_url,
        timeout=timeout,
        checksums=checksums,
        max_seconds=max_seconds,
    )
    arrays = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(files[f"{prefix}-images-idx3-ubyte.gz"])
        labels = read_idx(files[f"{prefix}-labels-idx1-ubyte.gz"])
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(
                f"MNIST {split} files hold images of shape {images.shape} and labels of "
                f"shape {labels.shape}; expected (N, 28, 28) and (N,)"
            )
        arrays[f"x_{split}"] = images.reshape(len(images), -1).astype(np.float32) / 255
        arrays[f"y_{split}"] = labels.astype(np.int64)
    n_train, n_test = len(arrays["y_train"]), len(arrays["y_test"])
    return Dataset(
        name="MNIST",
        image_shape=(28, 28),
        description=(
            "MNIST (Yann LeCun, Corinna Cortes and Christopher J. C. Burges; licence CC BY-SA "
            f"3.0) with its standard split: {n_train} training and {n_test} test images; grey "
            "level = pixel / 255 in [0, 1]."
        ),
        **arrays,
    )
