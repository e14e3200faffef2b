"""Active units: which latent dimensions a trained model actually uses."""

from __future__ import annotations

import numpy as np

from ..core.validation import check_array, check_positive_float


def active_coordinates(means, threshold: float = 0.01) -> np.ndarray:
    r"""Which coordinates of a code are used: Var_x(E_q[z_k|x]) > threshold (Burda et al., 2016).

    Parameters
    ----------
    means : ndarray, shape (N, K)
        The posterior mean E_q[z | x] of each of N examples (one layer of a code).
    threshold : float
        Greater than 0; Burda et al. use 0.01.

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    threshold = check_positive_float(threshold, "threshold")
    means = check_array(means, "means", shape=(None, None), dtype=np.float64)
    if len(means) < 2:
        raise ValueError(f"a variance over examples needs at least 2 of them; got {len(means)}")
    return np.var(means, axis=0) > threshold


def active_units(model, x, threshold: float = 0.01) -> np.ndarray:
    r"""Which latent dimensions a model uses: :func:`active_coordinates` of its posterior means.

    Parameters
    ----------
    model : a model with ``encode(x) -> (mu, logvar)``
    x : what ``model.encode`` accepts
    threshold : float
        Greater than 0; Burda et al. use 0.01.

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    mu, _ = model.encode(x)
    return active_coordinates(mu, threshold)
