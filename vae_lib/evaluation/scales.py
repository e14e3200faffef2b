r"""What a code keeps, scale by scale: how much of an image's coarse layout and of its fine
detail the decoder's samples from that image's code reproduce.

An image x splits into a **coarse** part, the means of its b × b blocks (7 × 7 numbers for a
28 × 28 digit and b = 4: where the ink is), and a **fine** part, what is left within each
block, x minus its block means (the strokes' exact pixels). For a model, draw samples x̂ from
p(x | z) with z the code of x, and compare them with x, scale by scale: the agreement

.. math:: A_\text{scale} = 1 - \frac{\sum_n \lVert P(\hat x_n) - P(x_n) \rVert^2}
                               {\sum_n \lVert P(\hat x_{\pi(n)}) - P(x_n) \rVert^2}

with P the coarse or the fine part and π a pairing of each image with *another* image's
samples. A = 1: the samples reproduce x at that scale; A = 0: the samples from x's own code
are no closer to x at that scale than those drawn for another image, so the code carries
nothing about that scale that the decoder uses. A code that keeps the layout and leaves the
strokes to the decoder has a high coarse and a low fine agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.validation import check_array, check_positive_int


@dataclass(frozen=True)
class Agreement:
    """A scale's agreement A over N images and its standard error (delta method, over the
    images), with the per-image squared distances it is made of."""

    value: float
    se: float
    own: np.ndarray  # (N,) ‖P(x̂_n) − P(x_n)‖², mean over the samples
    other: np.ndarray  # (N,) ‖P(x̂_π(n)) − P(x_n)‖², mean over the samples


def split_scales(x, image_shape: tuple[int, int], block: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The coarse and fine parts of images (N, D).

    Returns
    -------
    coarse : ndarray (N, height/block · width/block), the block means
    fine : ndarray (N, D), x minus the mean of its pixel's block
    """
    height, width = (check_positive_int(s, "image_shape entry") for s in image_shape)
    block = check_positive_int(block, "block")
    if height % block or width % block:
        raise ValueError(
            f"block={block} must divide the image's height and width; got {height}x{width}"
        )
    x = check_array(x, "x", shape=(None, height * width), dtype=np.float64)
    n = len(x)
    blocks = x.reshape(n, height // block, block, width // block, block)
    means = blocks.mean(axis=(2, 4))  # (N, h, w)
    fine = blocks - means[:, :, None, :, None]
    return means.reshape(n, -1), fine.reshape(n, -1)


def scale_agreement(
    x, samples, image_shape: tuple[int, int], block: int = 4, shift: int = 1
) -> dict[str, Agreement]:
    r"""The coarse and fine agreements A of samples with their images (module docstring).

    Parameters
    ----------
    x : ndarray (N, D)
        The images, N ≥ 2.
    samples : ndarray (N, S, D)
        S samples x̂ ~ p(x | z) from the code z of each image.
    image_shape : (height, width)
    block : int
        The side of the blocks whose means are the coarse part.
    shift : int
        π(n) = (n + shift) mod N: image n is compared with the samples of image n + shift
        (1 ≤ shift < N; with the test images in random order, a random other image).

    Returns
    -------
    {"coarse": Agreement, "fine": Agreement}
    """
    x = check_array(x, "x", shape=(None, None), dtype=np.float64)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"an agreement compares each image with another: need N ≥ 2; got {n}")
    samples = check_array(samples, "samples", shape=(n, None, d), dtype=np.float64)
    shift = check_positive_int(shift, "shift")
    if shift >= n:
        raise ValueError(f"shift must be below the number of images, {n}; got {shift}")
    s = samples.shape[1]
    parts = split_scales(x, image_shape, block)
    drawn = split_scales(samples.reshape(n * s, d), image_shape, block)
    out = {}
    for scale, mine, theirs in zip(("coarse", "fine"), parts, drawn):
        theirs = theirs.reshape(n, s, -1)
        own = np.mean(np.sum((theirs - mine[:, None]) ** 2, axis=2), axis=1)
        other = np.mean(
            np.sum((np.roll(theirs, -shift, axis=0) - mine[:, None]) ** 2, axis=2), axis=1
        )
        ratio = own.mean() / other.mean()
        # delta method: A = 1 − r, r = mean(own)/mean(other); var r ≈ var(own − r·other)/(N b̄²)
        se = float(np.std(own - ratio * other, ddof=1) / (np.sqrt(n) * other.mean()))
        out[scale] = Agreement(value=float(1 - ratio), se=se, own=own, other=other)
    return out
