import numpy as np
import pytest

from vae_lib import (
    descend_scale,
    kl_standard_normal,
    largest_stable_lr,
    optimal_scale,
    scale_loss,
    scale_loss_grad,
    scale_step,
)
from vae_lib.testing import assert_gradient

PRECISIONS = [0.5, 3.0, 399.0]


@pytest.mark.parametrize("c", PRECISIONS)
def test_loss_is_expected_error_plus_kl(c):
    # -ELBO's σ part: the decoder's c σ²/2 plus KL(N(0, σ²) ‖ N(0, 1)) from the library
    sigma = np.array([0.01, 0.3, 1.0, 2.5])
    logvar = np.log(sigma**2)[:, None]
    kl = kl_standard_normal(np.zeros_like(logvar), logvar)
    np.testing.assert_allclose(scale_loss(sigma, c), c * sigma**2 / 2 + kl, rtol=1e-12)


@pytest.mark.parametrize("c", PRECISIONS)
def test_optimum_is_the_exact_posterior_scale(c):
    s = optimal_scale(c)
    assert s == pytest.approx(1 / np.sqrt(1 + c))
    grid = s * np.exp(np.linspace(-0.5, 0.5, 1001))
    assert grid[np.argmin(scale_loss(grid, c))] == pytest.approx(s, rel=1e-3)
    np.testing.assert_allclose(scale_loss_grad(s, c, "sigma"), 0, atol=1e-9)
    np.testing.assert_allclose(scale_loss_grad(s, c, "logvar"), 0, atol=1e-12)


@pytest.mark.parametrize("c", PRECISIONS)
def test_gradients(c):
    sigma = np.array([0.02, 0.4, 1.7])
    assert_gradient(
        scale_loss_grad(sigma, c, "sigma"),
        lambda: float(np.sum(scale_loss(sigma, c))),
        sigma,
        "dℓ/dσ",
    )
    logvar = np.log(sigma**2)
    assert_gradient(
        scale_loss_grad(sigma, c, "logvar"),
        lambda: float(np.sum(scale_loss(np.exp(0.5 * logvar), c))),
        logvar,
        "dℓ/dlogσ²",
    )


@pytest.mark.parametrize("c", PRECISIONS)
@pytest.mark.parametrize("parameterization", ["sigma", "logvar"])
def test_largest_stable_lr_is_two_over_the_curvature(c, parameterization):
    s = optimal_scale(c)
    h = 1e-4 * (s if parameterization == "sigma" else 1.0)
    if parameterization == "sigma":
        curvature = (scale_loss_grad(s + h, c, "sigma") - scale_loss_grad(s - h, c, "sigma")) / (
            2 * h
        )
    else:
        u = np.log(s**2)
        up, down = np.exp(0.5 * (u + h)), np.exp(0.5 * (u - h))
        curvature = (scale_loss_grad(up, c, "logvar") - scale_loss_grad(down, c, "logvar")) / (
            2 * h
        )
    bound = largest_stable_lr(c, parameterization)
    assert bound == pytest.approx(2 / curvature, rel=1e-6)
    # just below the bound descent settles at σ*; just above it cannot
    start = s * 1.05
    below = descend_scale(start, c, 0.9 * bound, 400, parameterization)
    above = descend_scale(start, c, 1.1 * bound, 400, parameterization)
    assert below[-1] == pytest.approx(s, rel=1e-6)
    assert not (abs(above[-1] - s) < 1e-3 * s)  # NaN (left the domain) or far away


def test_log_variance_descent_is_the_same_problem_at_every_scale():
    # in log σ² the trajectories of σ/σ* do not depend on c
    runs = [
        descend_scale(2 * optimal_scale(c), c, 0.5, 30, "logvar") / optimal_scale(c)
        for c in PRECISIONS
    ]
    for run in runs[1:]:
        np.testing.assert_allclose(run, runs[0], rtol=1e-9)


def test_a_step_in_sigma_near_zero_overshoots_or_leaves_the_domain():
    c, lr = 399.0, 1e-2
    s_star = optimal_scale(c)
    tiny = np.array([1e-3, 1e-2])
    after = scale_step(tiny, c, lr, "sigma")
    assert np.all(after > 10 * s_star)  # thrown far past σ* = 0.05
    assert np.isnan(scale_step(1.0, c, lr, "sigma"))  # 1 - 0.01·(400 - 1) < 0
    after_log = scale_step(np.array([1e-3, 1e-2, 1.0]), c, lr, "logvar")
    assert np.all(after_log > 0) and np.all(after_log < 2 * np.array([1e-3, 1e-2, 1.0]))


def test_descent_trajectory_is_nan_after_leaving_the_domain():
    run = descend_scale(0.01, 399.0, 0.01, 5, "sigma")
    assert run[0] == 0.01 and np.isfinite(run[1]) and np.all(np.isnan(run[2:]))


def test_bad_input():
    with pytest.raises(ValueError, match="parameterization must be one of"):
        scale_loss_grad(1.0, 1.0, "std")
    with pytest.raises(ValueError, match="sigma must be greater than 0; got values down to -1"):
        scale_loss([1.0, -1.0], 1.0)
    with pytest.raises(ValueError, match="precision must be a finite number greater than 0"):
        optimal_scale(0.0)
    with pytest.raises(ValueError, match="lr must be a finite number greater than 0"):
        scale_step(1.0, 1.0, -0.1, "sigma")
    with pytest.raises(ValueError, match="steps must be at least 1"):
        descend_scale(1.0, 1.0, 0.1, 0, "logvar")
    with pytest.raises(ValueError, match="sigma must be finite"):
        scale_loss(np.nan, 1.0)
