"""Central finite differences in float64, for checking hand-written gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TOLERANCE = 1e-6  # worst relative error allowed between a gradient and its estimate


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, perturbing the array ``x`` in place entry by entry."""
    assert x.dtype == np.float64, "finite differences need float64"
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


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a - n| relative to the largest magnitude in either array."""
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), 1e-12)
    return float(np.max(np.abs(analytic - numeric)) / scale)


def assert_gradient(analytic: np.ndarray, f: Callable[[], float], x: np.ndarray, name: str):
    numeric = numerical_gradient(f, x)
    err = relative_error(analytic, numeric)
    assert err <= TOLERANCE, f"gradient of {name}: relative error {err:.2e} > {TOLERANCE:.0e}"
    return err
