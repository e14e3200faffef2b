r"""Why the encoder outputs log σ² and not σ: one scale, trained by gradient descent.

The smallest model where the question arises: a prior z ~ N(0, 1), a decoder
x | z ~ N(z, 1/c) with precision c (how sharply the decoder punishes a wrong code), and an
encoder q(z) = N(m, σ²). The part of the negative ELBO that depends on σ is

.. math:: \ell(\sigma) = \tfrac12\big((c + 1)\,\sigma^2 - 1 - \log\sigma^2\big)
          \qquad \text{(eq. reparam-scale-loss)}

(the decoder's expected squared error c σ²/2 plus the KL term's σ part). It is smallest at
σ* = 1/√(c + 1), the exact posterior's standard deviation. This module descends ℓ by
gradient descent either in σ itself or in log σ², so that the two choices can be compared
step by step.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_array, check_positive_float, check_positive_int

PARAMETERIZATIONS = ("sigma", "logvar")


def _check_parameterization(parameterization: str) -> str:
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"parameterization must be one of {PARAMETERIZATIONS}; got {parameterization!r}"
        )
    return parameterization


def _check_sigma(sigma) -> np.ndarray:
    sigma = check_array(sigma, "sigma")
    if np.any(sigma <= 0):
        raise ValueError(f"sigma must be greater than 0; got values down to {np.min(sigma):.4g}")
    return sigma


def optimal_scale(precision) -> float:
    """σ* = 1/√(c + 1), where eq. reparam-scale-loss is smallest (c = ``precision``)."""
    c = check_positive_float(precision, "precision")
    return float(1.0 / np.sqrt(c + 1.0))


def scale_loss(sigma, precision) -> np.ndarray:
    r"""ℓ(σ) of eq. reparam-scale-loss, elementwise.

    .. math:: \ell(\sigma) = \tfrac12\big((c + 1)\sigma^2 - 1 - \log\sigma^2\big)

    Parameters
    ----------
    sigma : ndarray, any shape, values > 0
    precision : float
        c > 0, the decoder's precision.

    Returns
    -------
    ndarray, shape of ``sigma``
    """
    sigma = _check_sigma(sigma)
    c = check_positive_float(precision, "precision")
    return 0.5 * ((c + 1.0) * sigma**2 - 1.0 - 2.0 * np.log(sigma))


def scale_loss_grad(sigma, precision, parameterization: str) -> np.ndarray:
    r"""The gradient of ℓ with respect to the parameter the optimiser moves.

    .. math:: \frac{\partial\ell}{\partial\sigma} = (c + 1)\,\sigma - \frac1\sigma, \qquad
              \frac{\partial\ell}{\partial\log\sigma^2} = \tfrac12\big((c + 1)\,\sigma^2 - 1\big)

    The first grows like 1/σ as σ → 0; the second stays between -1/2 and 0 there.

    Parameters
    ----------
    sigma : ndarray, any shape, values > 0
        The current scale (whatever the parameterization).
    precision : float
    parameterization : {"sigma", "logvar"}

    Returns
    -------
    ndarray, shape of ``sigma``
    """
    sigma = _check_sigma(sigma)
    c = check_positive_float(precision, "precision")
    if _check_parameterization(parameterization) == "sigma":
        return (c + 1.0) * sigma - 1.0 / sigma
    return 0.5 * ((c + 1.0) * sigma**2 - 1.0)


def scale_step(sigma, precision, lr, parameterization: str) -> np.ndarray:
    r"""σ after one gradient-descent step of size ``lr`` in the chosen parameter.

    .. math:: \sigma \leftarrow \sigma - \eta\,\frac{\partial\ell}{\partial\sigma}
              \quad\text{or}\quad
              \log\sigma^2 \leftarrow \log\sigma^2 - \eta\,\frac{\partial\ell}{\partial\log\sigma^2}

    so that in log σ² the step multiplies σ by exp(-η (∂ℓ/∂log σ²) / 2).

    A step in σ can leave the domain: where the new σ is 0 or negative it is no standard
    deviation at all, and the result is NaN there. A step in log σ² always gives σ > 0
    (though it may underflow to 0 in floating point for absurd steps).

    Returns
    -------
    ndarray, shape of ``sigma``
    """
    lr = check_positive_float(lr, "lr")
    grad = scale_loss_grad(sigma, precision, parameterization)
    sigma = np.asarray(sigma, dtype=np.float64)
    if parameterization == "sigma":
        new = sigma - lr * grad
        return np.where(new > 0, new, np.nan)
    return sigma * np.exp(-0.5 * lr * grad)


def descend_scale(sigma0, precision, lr, steps: int, parameterization: str) -> np.ndarray:
    """The trajectory σ₀, σ₁, …, σ_steps of gradient descent on eq. reparam-scale-loss.

    Once a step leaves the domain (σ ≤ 0, only possible in the ``"sigma"``
    parameterization) the rest of the trajectory is NaN.

    Returns
    -------
    ndarray, shape (steps + 1,)
    """
    steps = check_positive_int(steps, "steps")
    sigma = float(_check_sigma(sigma0))
    out = np.full(steps + 1, np.nan)
    out[0] = sigma
    for t in range(1, steps + 1):
        sigma = float(scale_step(sigma, precision, lr, parameterization))
        if not (np.isfinite(sigma) and sigma > 0):
            break
        out[t] = sigma
    return out


def largest_stable_lr(precision, parameterization: str) -> float:
    r"""The step size above which gradient descent cannot settle at σ*.

    Near the minimum, gradient descent on a parameter u multiplies the distance to the
    minimum by 1 - η ℓ''(u*) at each step; it converges for η < 2/ℓ''(u*). The curvature is

    .. math:: \frac{\partial^2\ell}{\partial\sigma^2}\Big|_{\sigma^*} = \frac{2}{\sigma^{*2}},
              \qquad \frac{\partial^2\ell}{(\partial\log\sigma^2)^2}\Big|_{\sigma^*} = \frac12,

    so the bound is σ*² in σ, and 4 in log σ² whatever σ* is.
    """
    sigma_star = optimal_scale(precision)
    if _check_parameterization(parameterization) == "sigma":
        return sigma_star**2
    return 4.0
