"""The first chapter's data set: four kinds of 4×4 pattern, lightly noised.

Each image is one of a horizontal line (row 1), a vertical line (column 2), the main
diagonal, or a 2×2 square in the top-left corner, plus Gaussian noise of standard deviation
``noise``; the result is clipped to [0, 1] as part of the data's definition, so that every
pixel can be read as a Bernoulli probability.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_positive_int, check_rng, check_size

PATTERN_NAMES = ("horizontal line", "vertical line", "diagonal", "corner square")


def pattern_templates() -> np.ndarray:
    """The four noiseless patterns, shape (4, 4, 4): kind, row, column."""
    t = np.zeros((4, 4, 4))
    t[0, 1, :] = 1.0
    t[1, :, 2] = 1.0
    t[2] = np.eye(4)
    t[3, :2, :2] = 1.0
    return t


def patterns(
    n: int, rng: np.random.Generator, noise: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` noisy patterns, the kinds in turn (0, 1, 2, 3, 0, …).

    Parameters
    ----------
    n : int
        Number of images.
    rng : numpy.random.Generator
    noise : float
        Standard deviation of the added Gaussian noise (at least 0).

    Returns
    -------
    x : ndarray, shape (n, 16), float64 in [0, 1]
        Images flattened row by row.
    labels : ndarray, shape (n,), int
        The kind of each image, an index into :data:`PATTERN_NAMES`.
    """
    n = check_positive_int(n, "n")
    check_size(16 * n, f"n={n} patterns")
    rng = check_rng(rng)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number of at least 0; got {noise}")
    labels = np.arange(n) % 4
    images = pattern_templates()[labels] + noise * rng.standard_normal((n, 4, 4))
    return np.clip(images, 0.0, 1.0).reshape(n, 16), labels
