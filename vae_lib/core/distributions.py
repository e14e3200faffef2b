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
    """log(1 + e^a), without overflow for large a: the softplus of
    :func:`sigmoid_and_softplus_kernel`, the same operations, without the passes that make σ."""
    softplus = np.multiply(a, 0.5)
    np.tanh(softplus, out=softplus)
    np.abs(softplus, out=softplus)
    softplus += 1.0
    np.log(softplus, out=softplus)
    np.subtract(LOG_2, softplus, out=softplus)
    softplus += np.maximum(a, 0.0)
    return softplus


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


def gaussian_entropy_kernel(logvar: np.ndarray) -> np.ndarray:
    """The entropy of N(μ, diag exp(log σ²)) in nats, -E[log N(z; μ, σ²)] = ½ Σ (log 2πe +
    log σ²), summed over the last axis."""
    return 0.5 * np.sum(LOG_2PI + 1.0 + logvar, axis=-1)


def gaussian_log_density_grad_kernel(z, mu, logvar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The gradient of log N(z; μ, diag exp(log σ²)) in z, μ and log σ², per coordinate:

    .. math:: \frac{\partial}{\partial z} = -\frac{z - \mu}{\sigma^2}, \qquad
              \frac{\partial}{\partial \mu} = \frac{z - \mu}{\sigma^2}, \qquad
              \frac{\partial}{\partial \log\sigma^2} = \frac12\Big(\frac{(z - \mu)^2}{\sigma^2}
              - 1\Big)

    A training step whose prior term is a sampled density, not a closed-form KL, calls this.
    """
    scaled = (z - mu) * np.exp(-logvar)
    return -scaled, scaled, 0.5 * (scaled * (z - mu) - 1.0)


def reparameterize_kernel(mu, logvar, eps) -> tuple[np.ndarray, np.ndarray]:
    """z = μ + σ ⊙ ε and σ (kept for the backward pass): :func:`reparameterize` with the
    noise given and no checks. ``eps`` may hold several draws along a leading axis."""
    std = np.exp(0.5 * logvar)
    return mu + std * eps, std


def reparameterize_backward_kernel(dz, eps, std, sample_axis: int | None = None):
    r""":func:`reparameterize_backward` without its checks, with σ from the forward pass.

    .. math:: \frac{\partial L}{\partial \mu} = \frac{\partial L}{\partial z}, \qquad
              \frac{\partial L}{\partial \log\sigma^2} = \frac{\partial L}{\partial z}
              \odot \varepsilon \odot \tfrac12 \sigma

    With ``sample_axis``, ``dz`` and ``eps`` hold several draws z_k = μ + σ ε_k along that
    axis (an importance sampler's K codes per example) and the gradients sum over them.
    Every Gaussian-latent model's training step calls this.

    Returns
    -------
    dmu, dlogvar : ndarray, shape of ``std``
    """
    if sample_axis is None:
        return dz, dz * eps * (0.5 * std)
    return dz.sum(axis=sample_axis), np.sum(dz * eps, axis=sample_axis) * (0.5 * std)


def kl_standard_normal_grad_kernel(mu, std, weight) -> tuple[np.ndarray, np.ndarray]:
    r"""The gradient of ``weight`` · KL(N(μ, diag σ²) ‖ N(0, I)) in μ and log σ², with σ from
    the forward pass: ``weight`` · μ and ``weight`` · (σ² - 1)/2 (a number, or one per unit).

    Every training step with a closed-form KL to N(0, I) calls this.
    """
    return weight * mu, (0.5 * weight) * (std * std - 1.0)


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
    r"""Gradients of :func:`kl_standard_normal`: ∂KL/∂μ = μ and ∂KL/∂logvar = (σ² - 1)/2
    (:func:`kl_standard_normal_grad_kernel`, which the training steps call)."""
    mu = check_array(mu, "mu")
    logvar = check_array(logvar, "logvar", shape=mu.shape)
    return kl_standard_normal_grad_kernel(mu, np.exp(0.5 * logvar), 1.0)


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
    z, _ = reparameterize_kernel(mu, logvar, eps)
    return z, eps


def reparameterize_backward(dz, logvar, eps) -> tuple[np.ndarray, np.ndarray]:
    r"""Carry ∂L/∂z back through z = μ + σ ⊙ ε to μ and log σ².

    .. math:: \frac{\partial L}{\partial \mu} = \frac{\partial L}{\partial z}, \qquad
              \frac{\partial L}{\partial \log\sigma^2} = \frac{\partial L}{\partial z}
              \odot \varepsilon \odot \tfrac12 \sigma

    The noise ε is a constant here: that is the whole trick. The gradient reaches μ and σ
    because the randomness was moved out of their way. This checks its arguments and calls
    :func:`reparameterize_backward_kernel`, which every model's training step calls.

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
    dmu, dlogvar = reparameterize_backward_kernel(dz, eps, np.exp(0.5 * logvar))
    return dmu.copy(), dlogvar


# ----------------------------------------------------------------------------- continuous Bernoulli
#: Below this |logit| the continuous Bernoulli's normaliser is its Taylor series (λ near 1/2),
#: where the closed form would subtract two nearly equal numbers.
CB_TAYLOR_BELOW = 0.1
# log C(ℓ) - log 2 = ℓ²/12 - 7ℓ⁴/1440 + 31ℓ⁶/90720 - 127ℓ⁸/4838400 + ..., and its derivative
_CB_LOG_NORM_SERIES = (1 / 12, -7 / 1440, 31 / 90720, -127 / 4838400)
_CB_LOG_NORM_GRAD_SERIES = (1 / 6, -7 / 360, 31 / 15120, -127 / 604800, 73 / 3421440)


def continuous_bernoulli_log_norm_kernel(logits: np.ndarray) -> np.ndarray:
    r""":func:`continuous_bernoulli_log_norm` without its checks (elementwise, float64 inside)."""
    a = np.abs(np.asarray(logits, dtype=np.float64))
    small = a < CB_TAYLOR_BELOW
    out = np.empty_like(a)
    # away from 1/2: log C = log a - log tanh(a/2), tanh(a/2) = (1 - e^-a)/(1 + e^-a)
    big = a[~small]
    e = np.exp(-big)
    out[~small] = np.log(big) - np.log(-np.expm1(-big)) + np.log1p(e)
    s = a[small] ** 2
    out[small] = LOG_2 + s * (
        _CB_LOG_NORM_SERIES[0]
        + s * (_CB_LOG_NORM_SERIES[1] + s * (_CB_LOG_NORM_SERIES[2] + s * _CB_LOG_NORM_SERIES[3]))
    )
    return out


def continuous_bernoulli_log_norm_grad_kernel(logits: np.ndarray) -> np.ndarray:
    r""":func:`continuous_bernoulli_log_norm_grad` without its checks (float64 inside)."""
    ell = np.asarray(logits, dtype=np.float64)
    a = np.abs(ell)
    small = a < CB_TAYLOR_BELOW
    out = np.empty_like(a)
    big = a[~small]
    # 1/a - 1/sinh(a), with 1/sinh(a) = 2 e^-a / (1 - e^-2a), which cannot overflow
    out[~small] = 1.0 / big - 2.0 * np.exp(-big) / -np.expm1(-2.0 * big)
    s = a[small] ** 2
    c = _CB_LOG_NORM_GRAD_SERIES
    out[small] = a[small] * (c[0] + s * (c[1] + s * (c[2] + s * (c[3] + s * c[4]))))
    return np.sign(ell) * out  # an odd function of ℓ


def continuous_bernoulli_log_likelihood_kernel(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """:func:`continuous_bernoulli_log_likelihood` without its checks."""
    return bernoulli_log_likelihood_kernel(x, logits) + np.sum(
        continuous_bernoulli_log_norm_kernel(logits), axis=-1
    )


def continuous_bernoulli_log_norm(logits) -> np.ndarray:
    r"""log C(λ), the log normalising constant of the continuous Bernoulli, from the logits.

    The continuous Bernoulli (Loaiza-Ganem & Cunningham 2019) is the density on [0, 1]
    :math:`p(x \mid \lambda) = C(\lambda)\, \lambda^x (1 - \lambda)^{1 - x}`, with

    .. math:: C(\lambda) = \frac{2 \operatorname{artanh}(1 - 2\lambda)}{1 - 2\lambda}
              \;(\lambda \ne \tfrac12), \qquad C(\tfrac12) = 2.

    With λ = σ(ℓ), 1 - 2λ = -tanh(ℓ/2) and artanh(1 - 2λ) = -ℓ/2, so
    :math:`C = \ell / \tanh(\ell/2)`: the density is :math:`\propto e^{\ell x}`, an exponential
    truncated to [0, 1]. Computed as log|ℓ| - log tanh(|ℓ|/2) from ``expm1``/``log1p``, and
    by its Taylor series :math:`\log 2 + \ell^2/12 - 7\ell^4/1440 + \dots` for
    |ℓ| < :data:`CB_TAYLOR_BELOW` (λ near 1/2), where the closed form loses digits.

    Parameters
    ----------
    logits : ndarray, any shape

    Returns
    -------
    ndarray, shape of ``logits``, float64
        Between log 2 (at ℓ = 0) and about log|ℓ| (for large |ℓ|).
    """
    return continuous_bernoulli_log_norm_kernel(check_array(logits, "logits"))


def continuous_bernoulli_log_norm_grad(logits) -> np.ndarray:
    r"""d log C / dℓ = 1/ℓ - 1/sinh ℓ (0 at ℓ = 0), elementwise; a Taylor series near 0."""
    return continuous_bernoulli_log_norm_grad_kernel(check_array(logits, "logits"))


def continuous_bernoulli_log_likelihood(x, logits) -> np.ndarray:
    r"""Log-density of grey levels ``x`` under independent continuous Bernoullis.

    .. math:: \log p(x \mid \ell) = \sum_d x_d \ell_d - \log(1 + e^{\ell_d})
              + \log C(\ell_d)

    The Bernoulli log-likelihood plus the log normalisers that make each factor a density
    on [0, 1] (see :func:`continuous_bernoulli_log_norm`). Its gradient in the logits is
    :math:`x - \sigma(\ell) + \frac{1}{\ell} - \frac{1}{\sinh \ell} = x - \mathbb E[x]`.

    Parameters
    ----------
    x : ndarray, shape (..., D), values in [0, 1]
    logits : ndarray, shape (..., D), broadcastable against ``x``

    Returns
    -------
    ndarray, shape (...), nats (a density: it can be positive)
    """
    x = check_unit_interval(check_array(x, "x"), "x")
    logits = check_array(logits, "logits")
    check_broadcastable(x=x, logits=logits)
    return continuous_bernoulli_log_likelihood_kernel(x, logits)


def continuous_bernoulli_mean(logits) -> np.ndarray:
    r"""The mean of the continuous Bernoulli, :math:`\sigma(\ell) - 1/\ell + 1/\sinh\ell`
    (1/2 at ℓ = 0); unlike the Bernoulli's σ(ℓ), it is pulled towards 1/2."""
    logits = check_array(logits, "logits")
    return sigmoid(logits) - continuous_bernoulli_log_norm_grad_kernel(logits)
