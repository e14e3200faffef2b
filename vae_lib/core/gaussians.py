r"""Products of Gaussians: the precision-weighted merge of two diagonal Gaussians, and its
backward pass (the ladder VAE's posterior, Sønderby et al. 2016, eq. ``hvae-merge`` of the
chapter "The ladder VAE").

Computed in log space: no precision is formed, so no variance overflows.
"""

from __future__ import annotations

from .distributions import sigmoid, softplus_kernel
from .validation import check_array, check_broadcastable


def precision_weighted_merge_kernel(mu_a, logvar_a, mu_b, logvar_b):
    r""":func:`precision_weighted_merge` without its checks; also returns the weight w."""
    w = sigmoid(logvar_b - logvar_a)  # σ_b² / (σ_a² + σ_b²), the share of μ_a
    one_minus_w = sigmoid(logvar_a - logvar_b)
    softplus = softplus_kernel(logvar_a - logvar_b)
    mu = w * mu_a + one_minus_w * mu_b
    logvar = logvar_a - softplus  # log σ_a² + log w
    return mu, logvar, w, one_minus_w


def precision_weighted_merge(mu_a, logvar_a, mu_b, logvar_b):
    r"""The Gaussian proportional to the product of two diagonal Gaussians (eq. ``hvae-merge``).

    .. math:: \mathcal N(z; \mu_a, \sigma_a^2)\, \mathcal N(z; \mu_b, \sigma_b^2) \propto
              \mathcal N(z; \mu, \sigma^2), \qquad
              \sigma^{-2} = \sigma_a^{-2} + \sigma_b^{-2}, \qquad
              \mu = \frac{\mu_a \sigma_a^{-2} + \mu_b \sigma_b^{-2}}{\sigma_a^{-2} + \sigma_b^{-2}}

    computed in log space as :math:`\mu = w \mu_a + (1 - w) \mu_b` and
    :math:`\log\sigma^2 = \log\sigma_a^2 - \operatorname{softplus}(\log\sigma_a^2 -
    \log\sigma_b^2)`, with :math:`w = \sigma(\log\sigma_b^2 - \log\sigma_a^2)` the share of
    the first Gaussian's mean: no precision is formed, so no variance overflows.

    Parameters
    ----------
    mu_a, logvar_a, mu_b, logvar_b : ndarray, shape (..., K)
        Broadcastable against each other.

    Returns
    -------
    mu, logvar : ndarray, the broadcast shape
    """
    args = {
        name: check_array(a, name)
        for name, a in (
            ("mu_a", mu_a),
            ("logvar_a", logvar_a),
            ("mu_b", mu_b),
            ("logvar_b", logvar_b),
        )
    }
    check_broadcastable(**args)
    mu, logvar, _, _ = precision_weighted_merge_kernel(*args.values())
    return mu, logvar


def precision_weighted_merge_backward(dmu, dlogvar, mu_a, mu_b, w, one_minus_w):
    r"""Carry ∂L/∂μ and ∂L/∂log σ² of the merge back to its four inputs.

    With :math:`\mu = w\mu_a + (1-w)\mu_b`, :math:`\log\sigma^2 = \log\sigma_a^2 + \log w` and
    :math:`\partial w / \partial \log\sigma_a^2 = -w(1-w) = -\partial w / \partial \log\sigma_b^2`,

    .. math::
        \frac{\partial L}{\partial \mu_a} = w\,\frac{\partial L}{\partial \mu}, \quad
        \frac{\partial L}{\partial \mu_b} = (1-w)\,\frac{\partial L}{\partial \mu}, \quad
        \frac{\partial L}{\partial \log\sigma_a^2} = w\,\frac{\partial L}{\partial\log\sigma^2}
        - g, \quad
        \frac{\partial L}{\partial \log\sigma_b^2} = (1-w)\,
        \frac{\partial L}{\partial\log\sigma^2} + g,

    where :math:`g = w(1-w)(\mu_a - \mu_b)\,\partial L/\partial\mu`. Arrays of one shape,
    not checked (the model's backward pass calls it).

    Returns
    -------
    dmu_a, dlogvar_a, dmu_b, dlogvar_b : ndarray
    """
    g = dmu * (mu_a - mu_b) * (w * one_minus_w)
    return dmu * w, dlogvar * w - g, dmu * one_minus_w, dlogvar * one_minus_w + g
