"""What the appendix "Why the encoder outputs the log-variance" says about its numbers,
checked on the values it glued and, where its settings are simple, recomputed."""

import math

import numpy as np
import pytest
from executed import glued

from vae_lib import descend_scale, largest_stable_lr, optimal_scale, scale_step


@pytest.fixture(scope="module")
def g():
    return glued("../appendix/log_variance")


def test_log_variance_steps(g):
    assert g["reparam-grad-ratio"] > 100
    # one step from sigma = 0.001 with the chapter's step sizes: far past sigma* = 0.05 in
    # sigma, a modest relative move in log sigma²
    assert g["reparam-step-from-tiny-sigma"] > 1000 * 0.05
    assert 1e-3 < g["reparam-step-from-tiny-logvar"] < 2e-3
    assert g["reparam-step-from-tiny-sigma"] == pytest.approx(scale_step(1e-3, 399.0, 0.2, "sigma"))
    assert g["reparam-step-from-tiny-logvar"] == pytest.approx(
        scale_step(1e-3, 399.0, 1.0, "logvar")
    )


def test_descent_runs(g):
    # in log sigma² the three runs coincide and converge
    assert g["reparam-logvar-runs-spread"] < 1e-9
    assert g["reparam-logvar-final"] == pytest.approx(1.0, abs=1e-3)
    for target in (0.5, 0.1, 0.02):
        assert g[f"reparam-run-logvar-{target}-left-at"] == 0
    # in sigma the step size 0.2 converges for sigma* = 0.5 only
    assert g["reparam-run-sigma-0.5-left-at"] == 0
    assert g["reparam-run-sigma-0.5-final"] == pytest.approx(1.0, abs=1e-3)
    assert g["reparam-run-sigma-0.1-left-at"] == 1
    assert g["reparam-run-sigma-0.02-left-at"] == 1
    assert math.isnan(g["reparam-run-sigma-0.1-final"])
    # the same, recomputed through the library with the chapter's settings
    for target in (0.5, 0.1, 0.02):
        c = 1 / target**2 - 1
        assert descend_scale(2 * target, c, 1.0, 25, "logvar")[-1] / target == pytest.approx(
            1.0, abs=1e-3
        )
        run = descend_scale(2 * target, c, 0.2, 25, "sigma")
        assert np.isnan(run).any() == (target < 0.5)


def test_largest_stable_steps_are_sigma_star_squared(g):
    for target in (0.5, 0.1, 0.02):
        assert g[f"reparam-stable-lr-sigma-{target}"] == pytest.approx(target**2)
        c = 1 / target**2 - 1
        assert optimal_scale(c) == pytest.approx(target)
        assert largest_stable_lr(c, "logvar") == 4.0
