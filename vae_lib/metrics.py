"""Measures of a trained VAE: importance-weighted bounds, active units, cluster quality."""

from __future__ import annotations

import numpy as np

from .distributions import (
    _bernoulli_log_likelihood,
    _gaussian_log_density,
    log_mean_exp,
)
from .vae import VAE
from .validation import check_array, check_positive_int, check_rng


def log_importance_weights(model: VAE, x, k: int, rng: np.random.Generator) -> np.ndarray:
    r"""log w = log p(x|z) + log p(z) - log q(z|x) for ``k`` draws z ~ q(z|x) per example.

    Returns
    -------
    ndarray, shape (k, N), float64
    """
    x = model.check_data(x)
    k = check_positive_int(k, "k")
    rng = check_rng(rng)
    mu, logvar = (a.copy() for a in model._encode(x))
    std = np.exp(0.5 * logvar)
    out = np.empty((k, len(x)))
    zeros = np.zeros_like(mu)
    for i in range(k):
        z = mu + std * rng.standard_normal(mu.shape, dtype=model.dtype)
        log_px_z = _bernoulli_log_likelihood(x, model.decoder.forward(z))
        log_pz = _gaussian_log_density(z, zeros, zeros)
        log_qz = _gaussian_log_density(z, mu, logvar)
        out[i] = log_px_z + log_pz - log_qz
    return out


def importance_weighted_bound(
    model: VAE, x, k: int, rng: np.random.Generator, batch_size: int = 500
) -> np.ndarray:
    r"""The importance-weighted bound L_K of each example {cite}`burda2016importance`.

    .. math:: \mathcal L_K(x) = \mathbb E\left[\log \frac1K \sum_{k=1}^K
              \frac{p(x, z_k)}{q(z_k|x)}\right] \le \log p(x)

    One draw of the K samples per example; L_1 is the ELBO, and L_K rises towards log p(x)
    as K grows, so a large K gives an estimate of the log-likelihood.

    Returns
    -------
    ndarray, shape (N,), nats
    """
    x = model.check_data(x)
    batch_size = check_positive_int(batch_size, "batch_size")
    parts = [
        log_mean_exp(log_importance_weights(model, x[i : i + batch_size], k, rng), axis=0)
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts)


def active_units(model: VAE, x, threshold: float = 0.01) -> np.ndarray:
    r"""Which latent dimensions are used: Var_x(E_q[z_k|x]) > threshold {cite}`burda2016importance`.

    Returns
    -------
    ndarray of bool, shape (K,)
    """
    mu, _ = model.encode(x)
    return np.var(mu.astype(np.float64), axis=0) > threshold


def nearest_centroid_accuracy(codes, labels) -> float:
    """Share of codes whose nearest class centroid (Euclidean) is their own class's.

    Parameters
    ----------
    codes : ndarray, shape (N, K)
    labels : ndarray, shape (N,), int
    """
    codes = check_array(codes, "codes", ndim=2)
    labels = np.asarray(labels)
    if labels.shape != (len(codes),):
        raise ValueError(f"labels must have shape ({len(codes)},); got {labels.shape}")
    classes = np.unique(labels)
    centroids = np.stack([codes[labels == c].mean(axis=0) for c in classes])
    d2 = ((codes[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)
    return float(np.mean(classes[np.argmin(d2, axis=1)] == labels))
