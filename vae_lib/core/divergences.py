r"""The Kullback–Leibler divergence: closed forms and a Monte Carlo estimate.

Equation labels (``kl-…``) refer to the chapter *The KL divergence*. Every KL is in nats;
divide by ``log 2`` for bits. :mod:`vae_lib.gaussian_fit` uses these ideas to fit one
Gaussian to a two-mode target by forward and by reverse KL.
"""

from __future__ import annotations

import numpy as np

from .distributions import gaussian_log_density_kernel, standard_normal_log_density_kernel
from .validation import (
    check_array,
    check_broadcastable,
    check_positive_int,
    check_rng,
    finite_result,
)


# ----------------------------------------------------------------------------- closed forms
def kl_categorical(p, q) -> np.ndarray:
    r"""KL(p ‖ q) between distributions over the same finite set of outcomes.

    .. math:: \mathrm{KL}(p\,\|\,q) = \sum_i p_i \log \frac{p_i}{q_i}
       \qquad \text{(eq. kl-definition)}

    Outcomes with ``p_i = 0`` add nothing (``0 log 0 = 0``); an outcome with ``p_i > 0`` and
    ``q_i = 0`` makes the divergence infinite.

    Parameters
    ----------
    p, q : ndarray, shape (..., M)
        Probabilities, each row non-negative and summing to 1.

    Returns
    -------
    ndarray, shape (...)
        The divergence in nats, in [0, ∞].
    """
    p = check_array(p, "p", dtype=np.float64)
    q = check_array(q, "q", shape=p.shape, dtype=np.float64)
    for name, a in (("p", p), ("q", q)):
        if np.any(a < 0) or np.any(np.abs(a.sum(axis=-1) - 1.0) > 1e-8):
            raise ValueError(
                f"{name} must be non-negative with each row summing to 1; got row sums "
                f"{np.atleast_1d(a.sum(axis=-1)).tolist()} and minimum {a.min():.4g}"
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return np.sum(terms, axis=-1)


def kl_diag_gaussians(mu_q, logvar_q, mu_p, logvar_p) -> np.ndarray:
    r"""KL(N(μ_q, diag σ_q²) ‖ N(μ_p, diag σ_p²)) in closed form, one value per row.

    .. math:: \mathrm{KL} = \tfrac12 \sum_k \left( \frac{\sigma_{q,k}^2
       + (\mu_{q,k} - \mu_{p,k})^2}{\sigma_{p,k}^2} - 1
       + \log\sigma_{p,k}^2 - \log\sigma_{q,k}^2 \right)

    With μ_p = 0 and log σ_p² = 0 this is :func:`vae_lib.kl_standard_normal`,
    eq. ``kl-diag-gauss``.

    Parameters
    ----------
    mu_q, logvar_q, mu_p, logvar_p : ndarray, shape (..., K)
        Broadcastable against each other.

    Returns
    -------
    ndarray, shape (...)
        The divergence in nats.
    """
    mu_q, logvar_q = check_array(mu_q, "mu_q"), check_array(logvar_q, "logvar_q")
    mu_p, logvar_p = check_array(mu_p, "mu_p"), check_array(logvar_p, "logvar_p")
    check_broadcastable(mu_q=mu_q, logvar_q=logvar_q, mu_p=mu_p, logvar_p=logvar_p)
    with np.errstate(over="ignore", invalid="ignore"):
        out = kl_diag_gaussians_kernel(mu_q, logvar_q, mu_p, logvar_p)
    return finite_result(out, "the KL divergence", "mu_q, logvar_q, mu_p and logvar_p")


def kl_diag_gaussians_kernel(mu_q, logvar_q, mu_p, logvar_p) -> np.ndarray:
    """:func:`kl_diag_gaussians` without its checks (for models, on arrays already checked)."""
    ratio = np.exp(logvar_q - logvar_p) + (mu_q - mu_p) ** 2 * np.exp(-logvar_p)
    return 0.5 * np.sum(ratio - 1.0 + logvar_p - logvar_q, axis=-1)


def kl_diag_gaussians_grad_kernel(mu_q, logvar_q, mu_p, logvar_p):
    r"""The four partial derivatives of :func:`kl_diag_gaussians`, entry by entry.

    With :math:`\delta = \mu_q - \mu_p` and :math:`r = \sigma_q^2 / \sigma_p^2`,

    .. math::
        \frac{\partial\,\mathrm{KL}}{\partial \mu_q} = \frac{\delta}{\sigma_p^2}
        = -\frac{\partial\,\mathrm{KL}}{\partial \mu_p}, \qquad
        \frac{\partial\,\mathrm{KL}}{\partial \log\sigma_q^2} = \tfrac12 (r - 1), \qquad
        \frac{\partial\,\mathrm{KL}}{\partial \log\sigma_p^2}
        = \tfrac12 \left(1 - r - \frac{\delta^2}{\sigma_p^2}\right).

    Returns
    -------
    d_mu_q, d_logvar_q, d_mu_p, d_logvar_p : ndarray
        New arrays, each of the shape its formula broadcasts to (the arguments' common
        shape when they all have one).
    """
    delta = mu_q - mu_p
    scaled = delta * np.exp(-logvar_p)  # δ / σ_p²
    ratio = np.exp(logvar_q - logvar_p)
    d_logvar_q = 0.5 * (ratio - 1.0)
    d_logvar_p = 0.5 * (1.0 - ratio - delta * scaled)
    return scaled, d_logvar_q, -scaled, d_logvar_p


def kl_diag_gaussians_grad(mu_q, logvar_q, mu_p, logvar_p):
    """Gradients of :func:`kl_diag_gaussians` with respect to each of its four arguments
    (see :func:`kl_diag_gaussians_grad_kernel`), each of the arguments' broadcast shape."""
    mu_q, logvar_q = check_array(mu_q, "mu_q"), check_array(logvar_q, "logvar_q")
    mu_p, logvar_p = check_array(mu_p, "mu_p"), check_array(logvar_p, "logvar_p")
    shape = check_broadcastable(mu_q=mu_q, logvar_q=logvar_q, mu_p=mu_p, logvar_p=logvar_p)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = kl_diag_gaussians_grad_kernel(mu_q, logvar_q, mu_p, logvar_p)
    return tuple(
        finite_result(
            np.broadcast_to(g, shape).copy(),
            "the KL divergence's gradient",
            "mu_q, logvar_q, mu_p and logvar_p",
        )
        for g in grads
    )


def kl_per_dimension(mu, logvar) -> np.ndarray:
    r"""The terms of :func:`vae_lib.kl_standard_normal`, one per latent dimension.

    .. math:: \mathrm{KL}_k = \tfrac12 \left(\mu_k^2 + \sigma_k^2 - 1 - \log\sigma_k^2\right)
       \qquad \text{(eq. kl-diag-gauss)}

    Summed over the last axis they give ``kl_standard_normal(mu, logvar)``.

    Parameters
    ----------
    mu, logvar : ndarray, shape (..., K)

    Returns
    -------
    ndarray, shape (..., K)
        Nats per dimension, each at least 0.
    """
    mu = check_array(mu, "mu")
    logvar = check_array(logvar, "logvar", shape=mu.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        out = 0.5 * (mu * mu + np.exp(logvar) - 1.0 - logvar)
    return finite_result(out, "the KL divergence", "mu and logvar")


# ----------------------------------------------------------------------------- Monte Carlo
def kl_monte_carlo(mu, logvar, n_samples: int, rng: np.random.Generator):
    r"""Monte Carlo estimate of KL(N(μ, diag σ²) ‖ N(0, I)) and its standard error.

    .. math:: \widehat{\mathrm{KL}} = \frac1S \sum_{s=1}^S \left[\log q(z_s) - \log p(z_s)\right],
       \qquad z_s \sim q \qquad \text{(eq. kl-monte-carlo)}

    The estimate is unbiased; its standard error is the sample standard deviation of the
    log-ratio over √S.

    Parameters
    ----------
    mu, logvar : ndarray, shape (..., K)
        Parameters of q, computed in float64.
    n_samples : int
        S, at least 2 (one sample has no standard error).
    rng : numpy.random.Generator

    Returns
    -------
    estimate, stderr : ndarray, shape (...)
        In nats.
    """
    mu = check_array(mu, "mu", dtype=np.float64)
    logvar = check_array(logvar, "logvar", shape=mu.shape, dtype=np.float64)
    n_samples = check_positive_int(n_samples, "n_samples")
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2 to give a standard error; got {n_samples}")
    rng = check_rng(rng)
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((n_samples, *mu.shape))
    log_ratio = gaussian_log_density_kernel(z, mu, logvar) - standard_normal_log_density_kernel(z)
    return log_ratio.mean(axis=0), log_ratio.std(axis=0, ddof=1) / np.sqrt(n_samples)


__all__ = [
    "kl_categorical",
    "kl_diag_gaussians",
    "kl_diag_gaussians_grad",
    "kl_diag_gaussians_grad_kernel",
    "kl_diag_gaussians_kernel",
    "kl_monte_carlo",
    "kl_per_dimension",
]
