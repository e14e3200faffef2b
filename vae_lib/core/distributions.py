"""Probability distributions of the VAE, in log space, with their gradients.

The public functions check their arguments; the kernels beneath them (the same name with
``_kernel`` added) do the arithmetic and are what the models call on data already checked.
Equation labels refer to the chapter that derives each formula.
"""

from __future__ import annotations

import numpy as np

from .numerics import LOG_2, LOG_2PI
from .validation import (
    check_array,
    check_broadcastable,
    check_rng,
    check_unit_interval,
    finite_result,
)


# ----------------------------------------------------------------------------- kernels
def sigmoid_and_softplus_kernel(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""σ(a) and softplus(a) = log(1 + e^a) from one ``tanh``, without overflow.

    With :math:`t = \tanh(a/2)`, which never overflows,

    .. math:: \sigma(a) = \frac{1 + t}{2}, \qquad
              \mathrm{softplus}(a) = \max(a, 0) + \log 2 - \log(1 + |t|),

    the second because :math:`1 + e^{-|a|} = 2 / (1 + |t|)`. The logarithm's argument lies
    in [1, 2], so its rounding error stays that of a number near 1: the same stable value as
    ``np.logaddexp(0, a)`` at about a quarter of the cost, and the training step gets σ(a),
    which its gradient needs, from the same ``tanh``.
    """
    t = np.multiply(a, 0.5)
    np.tanh(t, out=t)
    softplus = np.abs(t)
    softplus += 1.0
    np.log(softplus, out=softplus)
    np.subtract(LOG_2, softplus, out=softplus)
    softplus += np.maximum(a, 0.0)
    t += 1.0
    t *= 0.5
    return t, softplus


def softplus_kernel(a: np.ndarray) -> np.ndarray:
    """log(1 + e^a), without overflow for large a (see :func:`sigmoid_and_softplus_kernel`)."""
    return sigmoid_and_softplus_kernel(a)[1]


def sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a), computed without overflow for either sign of ``a``."""
    # σ(a) = (1 + tanh(a/2)) / 2: one transcendental, and tanh never overflows.
    s = np.tanh(0.5 * np.asarray(a))
    s += 1.0
    s *= 0.5
    return s


def bernoulli_log_likelihood_kernel(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """:func:`bernoulli_log_likelihood` without its checks."""
    # log p = x log s(l) + (1 - x) log(1 - s(l)) = x l - softplus(l)
    return np.sum(x * logits - softplus_kernel(logits), axis=-1)


def kl_standard_normal_kernel(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """:func:`kl_standard_normal` without its checks."""
    return 0.5 * np.sum(mu * mu + np.exp(logvar) - 1.0 - logvar, axis=-1)


def gaussian_log_density_kernel(z: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """:func:`gaussian_log_density` without its checks."""
    return -0.5 * np.sum(LOG_2PI + logvar + (z - mu) ** 2 * np.exp(-logvar), axis=-1)


# ----------------------------------------------------------------------------- public API
def bernoulli_log_likelihood(x, logits) -> np.ndarray:
    r"""Log-likelihood of data ``x`` under independent Bernoullis with the given logits.

    .. math:: \log p(x \mid \ell) = \sum_d x_d \ell_d - \log(1 + e^{\ell_d})

    The softplus log(1 + e^ℓ) is computed in a form that cannot overflow (the value of
    ``np.logaddexp(0, logits)``, faster), so it stays finite for any finite logits.

    Parameters
    ----------
    x : ndarray, shape (..., D)
        Data in [0, 1]: binary pixels, or grey levels read as probabilities.
    logits : ndarray, shape (..., D)
        Decoder outputs, broadcastable against ``x``.

    Returns
    -------
    ndarray, shape (...)
        Log-likelihood in nats, summed over the last axis.
    """
    x = check_unit_interval(check_array(x, "x"), "x")
    logits = check_array(logits, "logits")
    if x.shape[-1:] != logits.shape[-1:]:
        raise ValueError(
            f"x and logits must have the same last dimension D; got x {x.shape} and "
            f"logits {logits.shape}"
        )
    return bernoulli_log_likelihood_kernel(x, logits)


def bernoulli_log_likelihood_grad(x, logits) -> np.ndarray:
    r"""Gradient of :func:`bernoulli_log_likelihood` with respect to the logits: x - σ(ℓ).

    Returns
    -------
    ndarray, shape of ``logits``
    """
    x = check_unit_interval(check_array(x, "x"), "x")
    logits = check_array(logits, "logits")
    check_broadcastable(x=x, logits=logits)
    return x - sigmoid(logits)


def gaussian_log_density(z, mu, logvar) -> np.ndarray:
    r"""Log-density of ``z`` under a diagonal Gaussian N(μ, diag exp(logvar)).

    .. math:: \log \mathcal N(z; \mu, \sigma^2) = -\tfrac12 \sum_k \left[\log 2\pi
              + \log\sigma_k^2 + (z_k - \mu_k)^2 / \sigma_k^2\right]

    Parameters
    ----------
    z, mu, logvar : ndarray, shape (..., K)
        Point, mean and log-variance; broadcastable against each other.

    Returns
    -------
    ndarray, shape (...)
        Log-density in nats, summed over the last axis.
    """
    z = check_array(z, "z")
    mu = check_array(mu, "mu")
    logvar = check_array(logvar, "logvar")
    check_broadcastable(z=z, mu=mu, logvar=logvar)
    with np.errstate(over="ignore", invalid="ignore"):
        out = gaussian_log_density_kernel(z, mu, logvar)
    return finite_result(out, "the log-density", "z, mu and logvar (a tiny logvar or huge z)")


def standard_normal_log_density_kernel(z: np.ndarray) -> np.ndarray:
    """:func:`standard_normal_log_density` without its checks."""
    return -0.5 * np.sum(LOG_2PI + z * z, axis=-1)


def standard_normal_log_density(z) -> np.ndarray:
    """Log-density of ``z`` (shape (..., K)) under N(0, I), summed over the last axis."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = standard_normal_log_density_kernel(check_array(z, "z"))
    return finite_result(out, "the log-density", "z (its entries are too large)")


def kl_standard_normal(mu, logvar) -> np.ndarray:
    r"""KL(N(μ, diag σ²) ‖ N(0, I)) in closed form, one value per row.

    .. math:: \mathrm{KL} = \tfrac12 \sum_k \left(\mu_k^2 + \sigma_k^2 - 1 - \log\sigma_k^2\right)

    Parameters
    ----------
    mu, logvar : ndarray, shape (..., K)

    Returns
    -------
    ndarray, shape (...)
        The divergence in nats (never negative).
    """
    mu = check_array(mu, "mu", dtype=np.float64)  # float32 overflows at log σ² ≈ 89
    logvar = check_array(logvar, "logvar", shape=mu.shape, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = kl_standard_normal_kernel(mu, logvar)
    return finite_result(out, "the KL divergence", "mu and logvar (log σ² above about 709)")


def kl_standard_normal_grad(mu, logvar) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradients of :func:`kl_standard_normal`: ∂KL/∂μ = μ and ∂KL/∂logvar = (σ² - 1)/2."""
    mu = check_array(mu, "mu")
    logvar = check_array(logvar, "logvar", shape=mu.shape)
    return mu.copy(), 0.5 * (np.exp(logvar) - 1.0)


def reparameterize(mu, logvar, rng) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw z ~ N(μ, diag σ²) as a differentiable function of μ and log σ².

    .. math:: z = \mu + \sigma \odot \varepsilon, \qquad \sigma = e^{\frac12 \log\sigma^2},
              \qquad \varepsilon \sim \mathcal N(0, I)

    Parameters
    ----------
    mu, logvar : ndarray, shape (..., K)
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    z : ndarray, shape (..., K)
    eps : ndarray, shape (..., K)
        The noise, kept for the backward pass (:func:`reparameterize_backward`).
    """
    mu = check_array(mu, "mu")
    logvar = check_array(logvar, "logvar", shape=mu.shape)
    rng = check_rng(rng)
    eps = rng.standard_normal(mu.shape, dtype=mu.dtype)
    return mu + np.exp(0.5 * logvar) * eps, eps


def reparameterize_backward(dz, logvar, eps) -> tuple[np.ndarray, np.ndarray]:
    r"""Carry ∂L/∂z back through z = μ + σ ⊙ ε to μ and log σ².

    .. math:: \frac{\partial L}{\partial \mu} = \frac{\partial L}{\partial z}, \qquad
              \frac{\partial L}{\partial \log\sigma^2} = \frac{\partial L}{\partial z}
              \odot \varepsilon \odot \tfrac12 \sigma

    The noise ε is a constant here: that is the whole trick. The gradient reaches μ and σ
    because the randomness was moved out of their way.

    Returns
    -------
    dmu, dlogvar : ndarray, shape of ``dz``
    """
    dz, logvar, eps = check_array(dz, "dz"), check_array(logvar, "logvar"), check_array(eps, "eps")
    if not dz.shape == logvar.shape == eps.shape:
        raise ValueError(
            f"dz, logvar and eps must have one shape; got dz {dz.shape}, logvar "
            f"{logvar.shape} and eps {eps.shape}"
        )
    return dz.copy(), dz * eps * 0.5 * np.exp(0.5 * logvar)
