"""Categorical codes: one-hot vectors, a categorical prior over code strings, its log-
probability, and the perplexity of a code's usage.

Codes are integers 0 … K - 1; every function here refuses anything else (a -1 would index
the last code, a K would be out of range, a float would be cast), with an error that names
what was wrong.
"""

from __future__ import annotations

import numpy as np

from .validation import check_positive_int, check_size


def check_codes(codes, n_codes: int, name: str = "codes", ndim: int | None = None) -> np.ndarray:
    """``codes`` as an integer array with entries in 0 … n_codes - 1 (and ``ndim``
    dimensions, if given), or an error that names ``name``."""
    n_codes = check_positive_int(n_codes, "the number of codes")
    if isinstance(codes, (str, bytes)) or codes is None:
        raise TypeError(f"{name} must be an array of integer codes; got {type(codes).__name__}")
    a = np.asarray(codes)
    if a.dtype == bool or not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integer codes 0 to {n_codes - 1}; got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {a.shape}")
    if a.size and (a.min() < 0 or a.max() >= n_codes):
        raise ValueError(f"{name} must lie in 0 to {n_codes - 1}; got {a.min()} to {a.max()}")
    return a


def one_hot(y: np.ndarray, n_classes: int, dtype=np.float32) -> np.ndarray:
    """The one-hot rows e(y): shape (N, n_classes), 1 in column y_n of row n, 0 elsewhere.

    ``y`` must already be checked (integers in 0 … n_classes - 1, :func:`check_codes`).
    """
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def code_perplexity(counts) -> float:
    r"""exp(H) of the usage distribution p_j = c_j / Σ c: K when all K codes are used equally.

    ``counts`` are how often each code was used: whole numbers of at least 0, not all 0.
    """
    counts = np.asarray(counts)
    if counts.ndim != 1 or not (
        np.issubdtype(counts.dtype, np.integer) or np.issubdtype(counts.dtype, np.floating)
    ):
        raise ValueError(
            f"counts must be a 1-D array of numbers; got {counts.dtype} {counts.shape}"
        )
    counts = counts.astype(np.float64)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or counts.sum() == 0:
        raise ValueError(f"counts must be finite, at least 0 and not all 0; got {counts}")
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


def fit_categorical_prior(codes, codebook_size: int, alpha: float = 1.0) -> np.ndarray:
    r"""log p(k_l = j) of an independent categorical per position, counted with add-α smoothing.

    Parameters
    ----------
    codes : ndarray of int, shape (N, L), entries in 0 … codebook_size - 1
    codebook_size : int
        K.
    alpha : float
        The pseudo-count added to every (position, code), at least 0; with α = 0 a code never
        seen at a position gets probability 0 there (log-probability -inf).

    Returns
    -------
    ndarray, shape (L, K): each row a log-probability vector.
    """
    codebook_size = check_positive_int(codebook_size, "codebook_size")
    codes = check_codes(codes, codebook_size, "codes", ndim=2)
    if isinstance(alpha, bool) or not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number of at least 0; got {alpha!r}")
    if len(codes) == 0 and alpha == 0:
        raise ValueError("no codes and alpha = 0 leave every probability undefined")
    check_size(codes.shape[1] * codebook_size, f"a prior of {codebook_size} codes per position")
    counts = np.stack([np.bincount(c, minlength=codebook_size) for c in codes.T]) + alpha
    with np.errstate(divide="ignore"):  # α = 0: a code never seen has log-probability -inf
        return np.log(counts / counts.sum(axis=1, keepdims=True))


def categorical_log_prob(codes, log_probs: np.ndarray) -> np.ndarray:
    """log p(k) = Σ_l log p(k_l) of each row of codes (N, L) under per-position log_probs
    (L, K), such as :func:`fit_categorical_prior` returns."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2:
        raise ValueError(f"log_probs must have shape (L, K); got {log_probs.shape}")
    codes = check_codes(codes, log_probs.shape[1], "codes", ndim=2)
    if codes.shape[1] != log_probs.shape[0]:
        raise ValueError(
            f"codes have {codes.shape[1]} positions but log_probs {log_probs.shape[0]}"
        )
    return log_probs[np.arange(codes.shape[1]), codes].sum(axis=1)
