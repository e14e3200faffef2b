"""Active units: which latent dimensions a trained model actually uses."""

from __future__ import annotations

import numpy as np

from ..core.validation import check_positive_float


def active_units(model, x, threshold: float = 0.01) -> np.ndarray:
    r"""Which latent dimensions are used: Var_x(E_q[z_k|x]) > threshold (Burda et al., 2016).

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
    threshold = check_positive_float(threshold, "threshold")
    mu, _ = model.encode(x)
    return np.var(mu.astype(np.float64), axis=0) > threshold
