r"""Vector quantization: the nearest codebook vector, and the codebook as online k-means.

A VQ-VAE (van den Oord et al. 2017) replaces each encoder output z by the nearest of K
codebook vectors; the codebook is learned by a loss or, as here in :func:`ema_codebook_update`,
by an exponential moving average of the outputs assigned to each code (online k-means, with
the Laplace smoothing of the counts of the reference implementation; Roy et al. 2018).
"""

from __future__ import annotations

import numpy as np

from .nn import Module
from .validation import (
    NonFiniteError,
    check_array,
    check_float_dtype,
    check_number,
    check_positive_int,
    check_rng,
    check_size,
)


def nearest_codes(z: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    r"""The index of the nearest codebook vector of each row: argmin_j ‖z - e_j‖².

    Parameters
    ----------
    z : ndarray, shape (M, d)
    embeddings : ndarray, shape (K, d)

    Returns
    -------
    ndarray of int, shape (M,); ties go to the lower index.
    """
    z = check_array(z, "z", shape=(None, None), nonfinite_error=NonFiniteError)
    embeddings = check_array(
        embeddings, "embeddings", shape=(None, None), nonfinite_error=NonFiniteError
    )
    if len(embeddings) == 0:
        raise ValueError("embeddings is empty; expected at least one codebook vector")
    if z.shape[1] != embeddings.shape[1]:
        raise ValueError(
            f"z (shape {z.shape}) and embeddings (shape {embeddings.shape}) must have the "
            "same number of columns, the size d of a code"
        )
    # ‖z - e‖² = ‖z‖² - 2 z·e + ‖e‖²; ‖z‖² is the same for every j and is left out
    dist = np.sum(embeddings * embeddings, axis=1) - 2.0 * (z @ embeddings.T)
    return np.argmin(dist, axis=1)


def ema_codebook_update(count, total, codes, z, decay: float, epsilon: float) -> np.ndarray:
    r"""One step of online k-means: update the moving counts and sums in place, return e.

    .. math:: N_j \leftarrow \gamma N_j + (1-\gamma) n_j, \quad
              m_j \leftarrow \gamma m_j + (1-\gamma) \textstyle\sum_{i: k_i = j} z_i, \quad
              e_j = m_j / \tilde N_j, \quad
              \tilde N_j = \frac{N_j + \varepsilon}{\sum_i N_i + K\varepsilon} \sum_i N_i

    Parameters
    ----------
    count : ndarray, shape (K,);  total : ndarray, shape (K, d)
        N and m, updated in place.
    codes : ndarray of int, shape (M,);  z : ndarray, shape (M, d)
    """
    codes, z, decay, epsilon = _check_ema_arguments(count, total, codes, z, decay, epsilon)
    k = len(count)
    onehot = np.zeros((len(codes), k), dtype=z.dtype)
    onehot[np.arange(len(codes)), codes] = 1.0
    count *= decay
    count += (1.0 - decay) * onehot.sum(axis=0)
    total *= decay
    total += (1.0 - decay) * (onehot.T @ z)
    n = count.sum()
    smoothed = (count + epsilon) / (n + k * epsilon) * n
    return total / smoothed[:, None]


def _check_ema_arguments(count, total, codes, z, decay, epsilon):
    """The arguments of :func:`ema_codebook_update`, checked: ``count`` and ``total`` float
    arrays (K,) and (K, d) that can be updated in place, ``codes`` integers in 0 … K - 1,
    one per row of a finite ``z`` (M, d), ``decay`` in [0, 1) and ``epsilon`` > 0."""
    for name, a, ndim in (("count", count, 1), ("total", total, 2)):
        if not (isinstance(a, np.ndarray) and a.ndim == ndim and a.dtype.kind == "f"):
            raise TypeError(
                f"{name} must be a {ndim}-D float ndarray (it is updated in place); got "
                f"{type(a).__name__}"
                + (f" of dtype {a.dtype} and shape {a.shape}" if isinstance(a, np.ndarray) else "")
            )
    k = len(count)
    check_array(count, "count", shape=(k,))
    if k == 0:
        raise ValueError("count is empty; expected one moving count per codebook vector")
    d = check_array(total, "total", shape=(k, None)).shape[1]
    codes = np.asarray(codes) if not isinstance(codes, (str, bytes)) else codes
    if not (isinstance(codes, np.ndarray) and codes.ndim == 1 and codes.dtype.kind in "iu"):
        raise TypeError(f"codes must be a 1-D integer array; got {type(codes).__name__}")
    if codes.size and (codes.min() < 0 or codes.max() >= k):
        raise ValueError(f"codes must lie in 0 to {k - 1}; got {codes.min()} to {codes.max()}")
    z = check_array(z, "z", shape=(None, d), nonfinite_error=NonFiniteError)
    if len(z) != len(codes):
        raise ValueError(f"codes has {len(codes)} entries for {len(z)} rows of z; one per row")
    decay, epsilon = check_number(decay, "decay"), check_number(epsilon, "epsilon")
    if not 0 <= decay < 1:
        raise ValueError(f"decay must lie in [0, 1); got {decay}")
    if not 0 < epsilon < np.inf:
        raise ValueError(f"epsilon must be a finite number greater than 0; got {epsilon}")
    return codes, z, decay, epsilon


def kmeans_plus_plus(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k rows of ``z`` (M, d) chosen by k-means++ seeding: each next with probability ∝ D²."""
    z = check_array(z, "z", shape=(None, None))
    k = check_positive_int(k, "k")
    rng = check_rng(rng)
    if len(z) < k:
        raise ValueError(f"k-means++ needs at least k={k} points; z has {len(z)} rows")
    chosen = [int(rng.integers(len(z)))]
    d2 = np.sum((z - z[chosen[0]]) ** 2, axis=1)
    for _ in range(k - 1):
        total = float(d2.sum())
        i = int(rng.choice(len(z), p=d2 / total)) if total > 0 else int(rng.integers(len(z)))
        chosen.append(i)
        np.minimum(d2, np.sum((z - z[i]) ** 2, axis=1), out=d2)
    return z[chosen].copy()


class Codebook(Module):
    """The K codebook vectors, and the buffers that training updates outside the optimizer:
    with an EMA codebook its moving counts and sums, and the usage counts and the step count.

    A :class:`~vae_lib.core.nn.Module`, so a model's parameters, saving and copying include
    it; the buffers' gradients are always zero, so the optimizer never moves them.

    Parameters
    ----------
    codebook_size, code_dim : int
        K and d.
    ema : bool
        Whether the codebook follows a moving average (:func:`ema_codebook_update`).
    rng : numpy.random.Generator
        Draws the codebook, uniform on [-1/K, 1/K].
    dtype : numpy dtype
    """

    def __init__(self, codebook_size: int, code_dim: int, ema: bool, rng, dtype):
        shapes = self.shapes(codebook_size, code_dim, ema)
        k = codebook_size
        rng, dtype = check_rng(rng), check_float_dtype(dtype)
        # the arrays, their gradients and the uniform draw of the codebook
        check_size(
            2 * sum(int(np.prod(s)) for s in shapes.values()) + k * code_dim,
            f"a codebook of codebook_size={k} vectors of code_dim={code_dim} numbers",
        )
        self.arrays = {name: np.zeros(shape, dtype=dtype) for name, shape in shapes.items()}
        self.arrays["embeddings"][...] = rng.uniform(-1.0 / k, 1.0 / k, (k, code_dim))
        if ema:
            self.arrays["ema_count"][...] = 1.0
            self.arrays["ema_sum"][...] = self.arrays["embeddings"]
        self._grads = [np.zeros_like(a) for a in self.arrays.values()]

    @staticmethod
    def shapes(codebook_size: int, code_dim: int, ema: bool) -> dict[str, tuple[int, ...]]:
        """The shape of each array, by name, in ``params`` order."""
        k = check_positive_int(codebook_size, "codebook_size")
        d = check_positive_int(code_dim, "code_dim")
        shapes = {"embeddings": (k, d)}
        if ema:
            shapes.update(ema_count=(k,), ema_sum=(k, d))
        shapes.update(usage=(k,), steps=(1,))
        return shapes

    @property
    def params(self) -> list[np.ndarray]:
        return list(self.arrays.values())

    @property
    def grads(self) -> list[np.ndarray]:
        return self._grads

    def param_names(self) -> list[str]:
        return list(self.arrays)
