r"""Vector quantization: the nearest codebook vector, and the codebook as online k-means.

A VQ-VAE (van den Oord et al. 2017) replaces each encoder output z by the nearest of K
codebook vectors; the codebook is learned by a loss or, as here in :func:`ema_codebook_update`,
by an exponential moving average of the outputs assigned to each code (online k-means, with
the Laplace smoothing of the counts of the reference implementation; Roy et al. 2018).
"""

from __future__ import annotations

import numpy as np

from .nn import Module
from .validation import check_array, check_positive_int, check_rng


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


def kmeans_plus_plus(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k rows of ``z`` (M, d) chosen by k-means++ seeding: each next with probability ∝ D²."""
    z = check_array(z, "z", shape=(None, None))
    k = check_positive_int(k, "k")
    rng = check_rng(rng)
    if len(z) < k:
        raise ValueError(f"k-means++ needs at least k={k} points; got {len(z)}")
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
        k = codebook_size
        shapes = self.shapes(codebook_size, code_dim, ema)
        self.arrays = {name: np.zeros(shape, dtype=dtype) for name, shape in shapes.items()}
        self.arrays["embeddings"][...] = rng.uniform(-1.0 / k, 1.0 / k, (k, code_dim))
        if ema:
            self.arrays["ema_count"][...] = 1.0
            self.arrays["ema_sum"][...] = self.arrays["embeddings"]
        self._grads = [np.zeros_like(a) for a in self.arrays.values()]

    @staticmethod
    def shapes(codebook_size: int, code_dim: int, ema: bool) -> dict[str, tuple[int, ...]]:
        """The shape of each array, by name, in ``params`` order."""
        k, d = codebook_size, code_dim
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
