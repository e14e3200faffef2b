r"""Two Monte Carlo estimators of the gradient of a Gaussian expectation.

The quantity is the gradient of

.. math:: J(\mu, \log\sigma^2) = \mathbb E_{z \sim \mathcal N(\mu, \sigma^2)}[f(z)]
          \qquad \text{(eq. reparam-objective)}

with respect to the mean μ and the log-variance log σ², for a scalar function f of a
scalar z. Writing z = μ + σε with ε ~ N(0, 1), each estimator averages one of two
per-sample formulas over draws of ε:

- **pathwise** (reparameterization), eq. reparam-pathwise:
  ``(f'(z), f'(z) ε σ/2)``, the chain rule through z = μ + σε;
- **score function** (REINFORCE, likelihood ratio), eq. reparam-score:
  ``((f(z) - b) ε/σ, (f(z) - b)(ε² - 1)/2)``, f times the gradient of log N(z; μ, σ²),
  with an optional constant baseline b.

Both have expectation ∇J; they differ in variance, which is what the chapter "The
reparameterization trick" measures. :func:`exact_gradient` gives ∇J by quadrature, to test
them against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.distributions import reparameterize_backward, sigmoid
from ..core.numerics import LOG_2PI, trapezoid_grid
from ..core.validation import check_array, check_positive_float, check_positive_int, check_rng

METHODS = ("pathwise", "score")


# ----------------------------------------------------------------------------- objectives
@dataclass(frozen=True)
class ScalarObjective:
    """A function f of a scalar z, with its derivative, to take Gaussian expectations of.

    Attributes
    ----------
    name : str
        Short plain-text name, e.g. ``"z²"``.
    f, df : callable, ndarray -> ndarray
        f(z) and f'(z), elementwise, any shape.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]


def _square(z):
    return z * z


def _square_grad(z):
    return 2.0 * z


def _square_plus_10(z):
    return z * z + 10.0


def _steep_logistic(z):
    return sigmoid(10.0 * z)


def _steep_logistic_grad(z):
    s = sigmoid(10.0 * z)
    return 10.0 * s * (1.0 - s)


OBJECTIVES = {
    "z²": ScalarObjective("z²", _square, _square_grad),
    "z² + 10": ScalarObjective("z² + 10", _square_plus_10, _square_grad),
    "logistic(10z)": ScalarObjective("logistic(10z)", _steep_logistic, _steep_logistic_grad),
}
"""Three objectives: a smooth one (closed form ∇J = (2μ, σ²)), the same shifted by a
constant (same gradient), and a steep, step-like logistic 1/(1 + e^(-10 z))."""


# ----------------------------------------------------------------------------- checks
def _check_scalar(value, name: str) -> float:
    arr = check_array(value, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number; got an array of shape {arr.shape}")
    return float(arr)


def _check_callable(f, name: str):
    if not callable(f):
        raise TypeError(f"{name} must be a function of z (callable); got {type(f).__name__}")
    return f


def _evaluate(f, z: np.ndarray, name: str) -> np.ndarray:
    """f(z) as a float64 array of z's shape, checked to be finite."""
    values = check_array(f(z), f"{name}(z)").astype(np.float64, copy=False)
    if values.shape != z.shape:
        raise ValueError(
            f"{name} must act elementwise: {name}(z) should have shape {z.shape}; "
            f"got {values.shape}"
        )
    return values


# ----------------------------------------------------------------------------- exact values
def _quadrature_grid(n_points: int, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ε and trapezoid weights w with Σ w g(ε) ≈ ∫ g(ε) N(ε; 0, 1) dε."""
    eps, log_w = trapezoid_grid(width, n_points)
    return eps, np.exp(log_w - 0.5 * (LOG_2PI + eps * eps))


def gaussian_expectation(f, mu, logvar, *, n_points: int = 8001, width: float = 12.0) -> float:
    r"""J(μ, log σ²) = E[f(z)], z ~ N(μ, σ²), by quadrature (eq. reparam-objective).

    .. math:: J = \int f(\mu + \sigma\varepsilon)\,\mathcal N(\varepsilon; 0, 1)\,d\varepsilon

    computed with the trapezoid rule on ``n_points`` equally spaced ε in [-width, width].
    For a smooth f that grows at most polynomially, the error is at the level of rounding
    as long as the grid resolves f's features (a spacing in z of σ·2·width/n_points).

    Parameters
    ----------
    f : callable, ndarray -> ndarray
        Elementwise function of z.
    mu, logvar : float
        Mean and log-variance of the Gaussian.
    n_points : int
    width : float
        Half-width of the ε interval, in standard deviations.

    Returns
    -------
    float
    """
    f = _check_callable(f, "f")
    mu, logvar = _check_scalar(mu, "mu"), _check_scalar(logvar, "logvar")
    n_points = check_positive_int(n_points, "n_points")
    eps, w = _quadrature_grid(n_points, check_positive_float(width, "width"))
    return float(w @ _evaluate(f, mu + np.exp(0.5 * logvar) * eps, "f"))


def exact_gradient(f, mu, logvar, *, n_points: int = 8001, width: float = 12.0) -> np.ndarray:
    r"""∇J = (∂J/∂μ, ∂J/∂log σ²) by quadrature, the value both estimators aim at.

    .. math:: \frac{\partial J}{\partial \mu} = \mathbb E\Big[f(z)\,\frac{\varepsilon}{\sigma}\Big],
              \qquad \frac{\partial J}{\partial \log\sigma^2}
              = \mathbb E\Big[f(z)\,\frac{\varepsilon^2 - 1}{2}\Big]

    (differentiating the Gaussian density under the integral), each integral computed as in
    :func:`gaussian_expectation`. Needs only f, not f'.

    Returns
    -------
    ndarray, shape (2,)
    """
    f = _check_callable(f, "f")
    mu, logvar = _check_scalar(mu, "mu"), _check_scalar(logvar, "logvar")
    n_points = check_positive_int(n_points, "n_points")
    eps, w = _quadrature_grid(n_points, check_positive_float(width, "width"))
    sigma = np.exp(0.5 * logvar)
    fz = _evaluate(f, mu + sigma * eps, "f")
    return np.array([w @ (fz * eps) / sigma, w @ (fz * 0.5 * (eps * eps - 1.0))])


# ----------------------------------------------------------------------------- estimators
def pathwise_gradient(df, mu, logvar, eps) -> np.ndarray:
    r"""Per-sample pathwise (reparameterization) estimates of ∇J (eq. reparam-pathwise).

    .. math:: z = \mu + \sigma\varepsilon, \qquad
              \hat g = \Big(f'(z),\ f'(z)\,\varepsilon\,\frac{\sigma}{2}\Big)

    The chain rule through z is :func:`vae_lib.reparameterize_backward`, the same function
    that carries the VAE's gradient from z back to the encoder.

    Parameters
    ----------
    df : callable, ndarray -> ndarray
        f', elementwise.
    mu, logvar : float
    eps : ndarray, shape (...)
        Standard normal draws, one estimate per entry.

    Returns
    -------
    ndarray, shape (..., 2)
        The estimates of ∂J/∂μ (``[..., 0]``) and ∂J/∂log σ² (``[..., 1]``); their mean
        over draws is an unbiased estimate of ∇J.
    """
    df = _check_callable(df, "df")
    mu, logvar = _check_scalar(mu, "mu"), _check_scalar(logvar, "logvar")
    eps = check_array(eps, "eps").astype(np.float64, copy=False)
    z = mu + np.exp(0.5 * logvar) * eps
    dz = _evaluate(df, z, "df")  # ∂f/∂z at each draw
    dmu, dlogvar = reparameterize_backward(dz, np.full_like(eps, logvar), eps)
    return np.stack([dmu, dlogvar], axis=-1)


def score_function_gradient(f, mu, logvar, eps, baseline: float = 0.0) -> np.ndarray:
    r"""Per-sample score-function (REINFORCE) estimates of ∇J (eq. reparam-score).

    .. math:: \hat g = \big(f(z) - b\big)\,\nabla \log \mathcal N(z; \mu, \sigma^2)
              = \big(f(z) - b\big)\Big(\frac{\varepsilon}{\sigma},\ \frac{\varepsilon^2 - 1}{2}\Big)

    with z = μ + σε. A constant baseline b leaves the mean unchanged, since the score has
    mean zero, but can change the variance a lot.

    Parameters
    ----------
    f : callable, ndarray -> ndarray
        f, elementwise; f' is not needed.
    mu, logvar : float
    eps : ndarray, shape (...)
        Standard normal draws.
    baseline : float
        The constant b.

    Returns
    -------
    ndarray, shape (..., 2)
    """
    f = _check_callable(f, "f")
    mu, logvar = _check_scalar(mu, "mu"), _check_scalar(logvar, "logvar")
    baseline = _check_scalar(baseline, "baseline")
    eps = check_array(eps, "eps").astype(np.float64, copy=False)
    sigma = np.exp(0.5 * logvar)
    centred = _evaluate(f, mu + sigma * eps, "f") - baseline  # f(z) - b
    score_mu, score_logvar = eps / sigma, 0.5 * (eps * eps - 1.0)
    return np.stack([centred * score_mu, centred * score_logvar], axis=-1)


def gradient_estimates(
    method: str,
    objective: ScalarObjective,
    mu,
    logvar,
    *,
    n_samples: int,
    n_repeats: int,
    rng: np.random.Generator,
    baseline: float = 0.0,
) -> np.ndarray:
    """``n_repeats`` independent estimates of ∇J, each the mean of ``n_samples`` draws.

    Their spread across repeats is the estimator's variance at that sample size. Two calls
    with generators in the same state use the same ε, so the two methods can be compared on
    common random numbers.

    Parameters
    ----------
    method : {"pathwise", "score"}
    objective : ScalarObjective
    mu, logvar : float
    n_samples, n_repeats : int
    rng : numpy.random.Generator
    baseline : float
        For ``"score"`` only (see :func:`score_function_gradient`).

    Returns
    -------
    ndarray, shape (n_repeats, 2)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if not isinstance(objective, ScalarObjective):
        raise TypeError(f"objective must be a ScalarObjective; got {type(objective).__name__}")
    n_samples = check_positive_int(n_samples, "n_samples")
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    rng = check_rng(rng)
    eps = rng.standard_normal((n_repeats, n_samples))
    if method == "pathwise":
        if baseline != 0.0:
            raise ValueError(f"baseline applies to method 'score' only; got {baseline}")
        per_sample = pathwise_gradient(objective.df, mu, logvar, eps)
    else:
        per_sample = score_function_gradient(objective.f, mu, logvar, eps, baseline)
    return per_sample.mean(axis=1)
