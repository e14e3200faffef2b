"""Active units: which latent dimensions a trained model actually uses."""

from __future__ import annotations

import hashlib

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


def active_units(model, x, threshold: float = 0.01, rng=None) -> np.ndarray:
    r"""Which latent dimensions a model uses: :func:`active_coordinates` of its posterior means
    (``model.posterior_means(x, rng)``).

    A model with one layer of continuous code only: for a hierarchy, call
    :func:`active_coordinates` on each of its layers' means; a model whose code is discrete
    (the VQ-VAE) has no coordinates to count, and is refused.

    Parameters
    ----------
    model : a vae_lib model
    x : a batch the model accepts
    threshold : float
        Greater than 0; Burda et al. use 0.01.
    rng : numpy.random.Generator, optional
        For a model whose posterior mean is a Monte Carlo mean.

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    try:
        means = model.posterior_means(x, rng)
    except NotImplementedError as err:
        raise TypeError(f"active units are not defined for this model: {err}") from None
    if len(means) != 1:
        raise ValueError(
            f"the model has {len(means)} layers of code: take active_coordinates of each of "
            "model.posterior_means(x, rng)"
        )
    return active_coordinates(means[0], threshold)


class KLMonitor:
    r"""A monitor for :func:`vae_lib.fit`: the KL of each code unit and the active units, on
    held-out images, after every epoch.

    For a model with a Gaussian posterior q(z | x) = N(μ(x), diag σ²(x)) and the N(0, I)
    prior, the KL term splits over the units, KL_k = ½(μ_k² + σ_k² − 1 − log σ_k²), averaged
    over the images: the values ``kl_0``, ``kl_1``, …; ``active`` counts the units with
    Var_x μ_k(x) > 0.01 (:func:`active_coordinates`). Nothing is drawn at random, so
    training is the same watched or not.

    Parameters
    ----------
    x : ndarray (N, D)
        The held-out images; their SHA-256 is part of :attr:`name`, the monitor's name in a
        cache key.
    """

    def __init__(self, x):
        self.x = check_array(x, "x", shape=(None, None))
        digest = hashlib.sha256(np.ascontiguousarray(self.x).tobytes()).hexdigest()
        self.name = f"kl-per-unit-and-active-units-of-{len(self.x)}-images-{digest[:16]}"

    def __call__(self, model) -> dict[str, float]:
        mu, logvar = (a.astype(np.float64) for a in model.encode(self.x))
        kl = 0.5 * np.mean(mu * mu + np.exp(logvar) - 1 - logvar, axis=0)
        values = {f"kl_{k}": float(v) for k, v in enumerate(kl)}
        values["active"] = float(np.sum(active_coordinates(mu)))
        return values

    @staticmethod
    def per_unit(history) -> np.ndarray:
        """The monitored KL of every unit, (epochs, K), from a History."""
        names = sorted(
            (n for n in history.monitored if n.startswith("kl_")), key=lambda n: int(n[3:])
        )
        return np.array([history.monitored[n] for n in names]).T
