"""Gradient checks by central finite differences in float64, for tests and for readers.

Two ways to check a hand-written gradient ``g`` of a scalar function ``f``:

- **entrywise** (:func:`numerical_gradient`, :func:`assert_gradient`): perturb each entry
  of an array in turn; exact about which entry is wrong, but two evaluations per entry;
- **along random directions** (:func:`directional_derivative_error`,
  :func:`check_model_gradients`): compare ⟨g, v⟩ with (f(θ + hv) - f(θ - hv)) / 2h for a
  few random directions v over *all* parameters at once, as autograd's ``check_grads``
  does. Any wrong entry changes ⟨g, v⟩ for almost every v, so a few directions check a
  model of 10⁵ parameters in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .core.validation import check_positive_int, check_rng

#: Worst relative error allowed between a gradient and its finite-difference estimate.
TOLERANCE = 1e-6

#: How long a test lets a call run before calling it a hang. A guard against hanging, far
#: above any call's time on a loaded machine: tests never bound how fast anything runs.
HANG_SECONDS = 60.0


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, perturbing the array ``x`` in place entry by entry.

    ``x`` is restored afterwards; it must be float64 (float32 cannot resolve the steps).
    """
    if x.dtype != np.float64:
        raise TypeError(f"finite differences need a float64 array; got {x.dtype}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(analytic, numeric) -> float:
    """max |a - n| relative to the largest magnitude in either (at least 1e-12)."""
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), 1e-12)
    return float(np.max(np.abs(analytic - numeric)) / scale)


def assert_gradient(analytic: np.ndarray, f: Callable[[], float], x: np.ndarray, name: str):
    """Raise ``AssertionError`` unless ``analytic`` matches the entrywise estimate of ∂f/∂x."""
    err = relative_error(analytic, numerical_gradient(f, x))
    if err > TOLERANCE:
        raise AssertionError(f"gradient of {name}: relative error {err:.2e} > {TOLERANCE:.0e}")
    return err


def directional_derivative_error(
    f: Callable[[], float],
    params: Sequence[np.ndarray],
    grads: Sequence[np.ndarray],
    rng: np.random.Generator,
    n_directions: int = 3,
    h: float = 1e-5,
) -> float:
    """Worst relative error of ⟨grads, v⟩ against a central difference of f along v.

    ``params`` are perturbed in place (and restored); ``grads`` are the gradient of ``f`` at
    the current ``params``, which must all be float64. Each direction v has independent
    standard-normal entries.
    """
    rng = check_rng(rng)
    n_directions = check_positive_int(n_directions, "n_directions")
    if any(p.dtype != np.float64 for p in params):
        raise TypeError("finite differences need float64 parameters")
    originals = [p.copy() for p in params]

    def f_at(step: float, v) -> float:
        for p, p0, d in zip(params, originals, v):
            np.add(p0, step * d, out=p)
        return f()

    worst = 0.0
    for _ in range(n_directions):
        v = [rng.standard_normal(p.shape) for p in params]
        analytic = sum(float(np.vdot(g, d)) for g, d in zip(grads, v))
        numeric = (f_at(h, v) - f_at(-h, v)) / (2 * h)
        for p, p0 in zip(params, originals):
            p[...] = p0
        worst = max(worst, abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-12))
    return worst


def check_model_gradients(
    model, batch, rng: np.random.Generator, *, n_directions: int = 3, entrywise: bool = False
) -> float:
    """Check ``model.loss_and_grads`` against finite differences of its loss; returns the error.

    The noise is drawn once (``model.draw_noise``) and held fixed, so the loss is a
    deterministic function of the parameters. The model must be float64. With
    ``entrywise=True`` every parameter entry is checked on its own (small models only).

    Raises
    ------
    AssertionError
        The worst relative error is above :data:`TOLERANCE`.
    """
    rng = check_rng(rng)
    batch = model.check_batch(batch)
    noise = model.draw_noise(batch, rng)

    def loss() -> float:
        return model.loss_and_grads(batch, noise).loss

    loss()
    grads = [g.copy() for g in model.grads]
    if entrywise:
        err = max(
            relative_error(g, numerical_gradient(loss, p)) for p, g in zip(model.params, grads)
        )
    else:
        err = directional_derivative_error(loss, model.params, grads, rng, n_directions)
    if err > TOLERANCE:
        raise AssertionError(
            f"{type(model).__name__}: gradient relative error {err:.2e} > {TOLERANCE:.0e}"
        )
    return err
