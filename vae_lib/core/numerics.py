"""Numerical building blocks shared by the whole library: constants, log-sum-exp, one grid.

Every module that needs log 2π, a log-sum-exp or a trapezoid grid takes it from here, so
that each exists once and is tested once.
"""

from __future__ import annotations

import numpy as np

from .validation import check_array, check_positive_float, check_positive_int, check_size

LOG_2PI = float(np.log(2.0 * np.pi))
LOG_2 = float(np.log(2.0))
#: The widest trapezoid grid: [-limit, limit] must have a finite width.
MAX_GRID_LIMIT = float(np.finfo(np.float64).max / 4)


def all_finite(a: np.ndarray) -> bool:
    """True if no entry of ``a`` is NaN or infinite: one pass in ``a``'s own dtype and no
    temporary array (a NaN or an infinity makes the sum non-finite; so does a sum beyond the
    dtype's range, which only values that are useless anyway reach)."""
    return bool(np.isfinite(np.add.reduce(a, axis=None)))


def logsumexp_kernel(a: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""log Σ exp(a) along ``axis``, the maximum subtracted first; ``a`` is not checked.

    .. math:: \log \sum_k e^{a_k} = m + \log \sum_k e^{a_k - m}, \quad m = \max_k a_k
    """
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def _check_reducible(a, axis: int) -> np.ndarray:
    a = check_array(a, "a")
    if a.ndim == 0 or not -a.ndim <= axis < a.ndim or a.shape[axis] == 0:
        raise ValueError(f"a must have a non-empty axis {axis} to reduce; got shape {a.shape}")
    return a


def logsumexp(a, axis: int = -1) -> np.ndarray:
    """log Σ exp(a) along ``axis``, without overflow (see :func:`logsumexp_kernel`)."""
    return logsumexp_kernel(_check_reducible(a, axis), axis=axis)


def log_mean_exp(a, axis: int = 0) -> np.ndarray:
    r"""log(mean(exp(a))) along ``axis``, computed by subtracting the maximum first.

    .. math:: \log \frac1K \sum_k e^{a_k} = m + \log \frac1K \sum_k e^{a_k - m},
              \quad m = \max_k a_k
    """
    a = _check_reducible(a, axis)
    m = np.max(a, axis=axis, keepdims=True)
    out = m + np.log(np.mean(np.exp(a - m), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


def trapezoid_grid(limit: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The trapezoid rule on [-limit, limit]: n points and the log of their weights.

    .. math:: \int_{-L}^{L} f(z)\,dz \approx \sum_{i=1}^{n} w_i f(z_i), \qquad
              w_i = h \text{ inside}, \; h/2 \text{ at the two ends}, \; h = \frac{2L}{n-1}

    Parameters
    ----------
    limit : float
        L, greater than 0.
    n : int
        Points, at least 3.

    Returns
    -------
    z : ndarray, shape (n,)
    log_w : ndarray, shape (n,)
        log w_i, so that sums can stay in log space.
    """
    limit = check_positive_float(limit, "limit")
    if limit > MAX_GRID_LIMIT:  # beyond it the grid's width 2·limit overflows float64
        raise ValueError(f"limit must be at most {MAX_GRID_LIMIT:.3g}; got {limit:.3g}")
    n = check_positive_int(n, "n")
    if n < 3:
        raise ValueError(f"n must be at least 3 grid points; got {n}")
    check_size(n, f"n={n}")
    z = np.linspace(-limit, limit, n)
    log_w = np.full(n, np.log(z[1] - z[0]))
    log_w[[0, -1]] -= np.log(2.0)
    return z, log_w
