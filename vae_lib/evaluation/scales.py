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

:func:`load_or_measure_agreement` draws a model's samples and measures them once per model,
images and seed, and keeps the per-image distances in the store of
:func:`vae_lib.load_or_train`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.validation import check_array, check_positive_int
from ..training.cache import (
    check_seed,
    data_fingerprint,
    load_arrays_keyed,
    load_or_compute,
    model_fingerprint,
    save_arrays_keyed,
)

#: The library code that decides a stored agreement: the models' encoders and samplers, and
#: this module.
AGREEMENT_CODE = ("vae_lib.core", "vae_lib.models", __name__)
SCALES = ("coarse", "fine")
#: The arrays a stored agreement keeps, by name: each scale's per-image distances.
_STORED = {f"{scale}_{part}": (scale, part) for scale in SCALES for part in ("own", "other")}


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
    for scale, mine, theirs in zip(SCALES, parts, drawn):
        theirs = theirs.reshape(n, s, -1)
        own = np.mean(np.sum((theirs - mine[:, None]) ** 2, axis=2), axis=1)
        other = np.mean(
            np.sum((np.roll(theirs, -shift, axis=0) - mine[:, None]) ** 2, axis=2), axis=1
        )
        out[scale] = _agreement(own, other)
    return out


def _agreement(own: np.ndarray, other: np.ndarray) -> Agreement:
    """A and its standard error from the per-image distances."""
    ratio = own.mean() / other.mean()
    # delta method: A = 1 − r, r = mean(own)/mean(other); var r ≈ var(own − r·other)/(N b̄²)
    se = float(np.std(own - ratio * other, ddof=1) / (np.sqrt(len(own)) * other.mean()))
    return Agreement(value=float(1 - ratio), se=se, own=own, other=other)


def load_or_measure_agreement(
    model,
    x,
    image_shape: tuple[int, int],
    *,
    n_samples: int,
    seed: int,
    block: int = 4,
    shift: int = 1,
    cache_dir=None,
    name: str = "agreement",
) -> dict[str, Agreement]:
    """:func:`scale_agreement` of a model's samples from the codes z = μ(x), computed once.

    Computing, when needed, is exactly::

        mu, _ = model.encode(x)
        drawn = model.sample_images(np.repeat(mu, n_samples, axis=0), np.random.default_rng(seed))
        scale_agreement(x, drawn.reshape(len(x), n_samples, -1), image_shape, block, shift)

    The per-image distances are stored in the folder of :func:`vae_lib.default_cache_dir`
    (or ``cache_dir``) under a hash of the model's weights and config, the bytes of ``x``
    and the settings; A and its standard error are made from them again on loading, by the
    same arithmetic, so a loaded agreement is bit for bit a computed one.

    Parameters
    ----------
    model : a model with ``encode`` and ``sample_images`` (an autoregressive decoder's VLAE)
    x : ndarray (N, D)
        The images, N ≥ 2.
    image_shape : (height, width)
    n_samples : int
        Samples drawn from each image's code.
    seed : int
        Of the generator the samples are drawn with, at least 0.
    block, shift : int
        As for :func:`scale_agreement`.
    cache_dir : str or os.PathLike, optional
    name : str
        Prefix of the file name, for people reading the folder.

    Returns
    -------
    {"coarse": Agreement, "fine": Agreement}
    """
    for method in ("encode", "sample_images"):
        if not callable(getattr(model, method, None)):
            raise TypeError(
                f"model must have {method}() (a model whose decoder draws images, such as "
                f"a VLAE); got {type(model).__name__}"
            )
    image_shape = tuple(check_positive_int(v, "image_shape entry") for v in image_shape)
    x = check_array(x, "x", shape=(None, image_shape[0] * image_shape[1]))
    n_samples = check_positive_int(n_samples, "n_samples")
    seed = check_seed(seed)
    block = check_positive_int(block, "block")
    shift = check_positive_int(shift, "shift")
    key_fields = {
        "estimate": "coarse and fine agreement of samples from z = mu(x)",
        **model_fingerprint(model),
        "data": data_fingerprint(np.ascontiguousarray(x)),
        "image_shape": list(image_shape),
        "n_samples": n_samples,
        "seed": seed,
        "block": block,
        "shift": shift,
    }

    def measure() -> dict[str, np.ndarray]:
        mu, _ = model.encode(x)
        drawn = model.sample_images(np.repeat(mu, n_samples, axis=0), np.random.default_rng(seed))
        found = scale_agreement(x, drawn.reshape(len(x), n_samples, -1), image_shape, block, shift)
        return {name: getattr(found[scale], part) for name, (scale, part) in _STORED.items()}

    def load(path, key) -> dict[str, np.ndarray]:
        arrays = load_arrays_keyed(path, key)
        if sorted(arrays) != sorted(_STORED):
            raise ValueError(f"it holds the arrays {sorted(arrays)}, expected {sorted(_STORED)}")
        for label, a in arrays.items():
            if a.shape != (len(x),):
                raise ValueError(f"its array {label} has shape {a.shape}")
        return arrays

    arrays = load_or_compute(
        name,
        key_fields,
        measure,
        save=save_arrays_keyed,
        load=load,
        code=AGREEMENT_CODE,
        cache_dir=cache_dir,
        redo="measuring the agreement again",
    )
    return {scale: _agreement(arrays[f"{scale}_own"], arrays[f"{scale}_other"]) for scale in SCALES}
