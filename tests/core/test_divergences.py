import numpy as np
import pytest

from vae_lib import (
    kl_categorical,
    kl_diag_gaussians,
    kl_monte_carlo,
    kl_per_dimension,
    kl_standard_normal,
)


# ----------------------------------------------------------------------------- categorical
def test_categorical_known_values_in_bits():
    p = np.array([0.5, 0.25, 0.25])
    q = np.full(3, 1 / 3)
    # Σ p log2(p/q) = log2(3) - H(p) with H(p) = 1.5 bits
    np.testing.assert_allclose(kl_categorical(p, q) / np.log(2), np.log2(3) - 1.5)
    # the other way: Σ q log2(q/p) = (1/3) log2(2/3) + (2/3) log2(4/3)
    reverse = np.log2(2 / 3) / 3 + 2 / 3 * np.log2(4 / 3)
    np.testing.assert_allclose(kl_categorical(q, p) / np.log(2), reverse)


def test_categorical_zero_only_when_equal_and_not_symmetric():
    rng = np.random.default_rng(0)
    p, q = rng.dirichlet(np.ones(5), size=(2, 200))
    assert np.all(kl_categorical(p, q) > 0)
    assert np.all(kl_categorical(p, p) == 0)
    assert np.max(np.abs(kl_categorical(p, q) - kl_categorical(q, p))) > 1e-2


def test_categorical_support():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.25, 0.25, 0.5])
    # outcomes p never produces add nothing; q missing one of p's outcomes costs infinitely much
    np.testing.assert_allclose(kl_categorical(p, q), np.log(2))
    assert kl_categorical(q, p) == np.inf


@pytest.mark.parametrize(
    "p, q, words",
    [
        ([0.5, 0.6], [0.5, 0.5], "p must be non-negative with each row summing to 1"),
        ([0.5, 0.5], [1.5, -0.5], "q must be non-negative"),
        ([0.5, 0.5], [0.2, 0.3, 0.5], r"q must have shape \(2\); got shape \(3,\)"),
    ],
)
def test_categorical_bad_input(p, q, words):
    with pytest.raises(ValueError, match=words):
        kl_categorical(p, q)


# ----------------------------------------------------------------------------- Gaussians
def test_diag_gaussians_reduces_to_standard_normal():
    rng = np.random.default_rng(1)
    mu, logvar = rng.normal(size=(2, 7, 3))
    np.testing.assert_allclose(
        kl_diag_gaussians(mu, logvar, 0.0, 0.0), kl_standard_normal(mu, logvar), rtol=1e-13
    )


def test_diag_gaussians_against_numerical_integration():
    mq, lq, mp, lp = 0.3, np.log(0.5**2), -1.0, np.log(2.0**2)
    x = np.linspace(-20, 20, 400_001)

    def logn(x, m, lv):
        return -0.5 * (np.log(2 * np.pi) + lv + (x - m) ** 2 / np.exp(lv))

    q = np.exp(logn(x, mq, lq))
    integral = np.trapezoid(q * (logn(x, mq, lq) - logn(x, mp, lp)), x)
    exact = kl_diag_gaussians([mq], [lq], [mp], [lp])
    np.testing.assert_allclose(exact, integral, rtol=1e-9)
    assert abs(exact - kl_diag_gaussians([mp], [lp], [mq], [lq])) > 0.5  # not symmetric


def test_per_dimension_sums_to_total():
    rng = np.random.default_rng(2)
    mu, logvar = rng.normal(size=(2, 10, 4))
    per_dim = kl_per_dimension(mu, logvar)
    assert per_dim.shape == (10, 4) and np.all(per_dim >= 0)
    np.testing.assert_allclose(per_dim.sum(-1), kl_standard_normal(mu, logvar), rtol=1e-13)
    assert np.all(kl_per_dimension(np.zeros(3), np.zeros(3)) == 0)


# ----------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("seed", range(4))
def test_monte_carlo_agrees_with_closed_form(seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.normal(size=(2, 3, 4))
    estimate, stderr = kl_monte_carlo(mu, logvar, 20_000, rng)
    exact = kl_standard_normal(mu, logvar)
    assert estimate.shape == stderr.shape == (3,)
    assert np.all(np.abs(estimate - exact) < 4 * stderr), (estimate, exact, stderr)


def test_monte_carlo_standard_error_shrinks_as_one_over_root_n():
    mu, logvar = np.array([1.0, -0.5]), np.array([-1.0, 0.5])
    _, se_small = kl_monte_carlo(mu, logvar, 1_000, np.random.default_rng(3))
    _, se_large = kl_monte_carlo(mu, logvar, 100_000, np.random.default_rng(4))
    assert se_small / se_large == pytest.approx(10, rel=0.1)


def test_monte_carlo_is_exact_when_q_is_the_prior():
    estimate, stderr = kl_monte_carlo(np.zeros(3), np.zeros(3), 10, np.random.default_rng(5))
    assert estimate == 0 and stderr == 0


def test_monte_carlo_same_seed_same_numbers():
    a = kl_monte_carlo([0.5], [0.1], 50, np.random.default_rng(6))
    b = kl_monte_carlo([0.5], [0.1], 50, np.random.default_rng(6))
    assert a == b


def test_monte_carlo_bad_input():
    with pytest.raises(ValueError, match="n_samples must be at least 2"):
        kl_monte_carlo([0.0], [0.0], 1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        kl_monte_carlo([0.0], [0.0], 10, 0)
    with pytest.raises(ValueError, match=r"logvar must have shape \(2\); got shape \(1,\)"):
        kl_monte_carlo([0.0, 1.0], [0.0], 10, np.random.default_rng(0))


# ----------------------------------------------------------------------------- Gaussian kernels
def test_diag_gaussians_kernel_is_the_checked_function():
    from vae_lib.core.divergences import kl_diag_gaussians_kernel

    rng = np.random.default_rng(5)
    args = rng.normal(size=(4, 6, 3))
    np.testing.assert_array_equal(kl_diag_gaussians_kernel(*args), kl_diag_gaussians(*args))


def test_diag_gaussians_against_monte_carlo():
    rng = np.random.default_rng(6)
    mu_q, logvar_q, mu_p, logvar_p = rng.normal(size=(4, 5, 3))
    s = 200_000
    z = mu_q + np.exp(0.5 * logvar_q) * rng.standard_normal((s, 5, 3))

    def logn(z, m, lv):
        return -0.5 * np.sum(np.log(2 * np.pi) + lv + (z - m) ** 2 / np.exp(lv), axis=-1)

    ratio = logn(z, mu_q, logvar_q) - logn(z, mu_p, logvar_p)  # (s, 5)
    se = ratio.std(axis=0) / np.sqrt(s)
    exact = kl_diag_gaussians(mu_q, logvar_q, mu_p, logvar_p)
    assert np.all(np.abs(ratio.mean(axis=0) - exact) < 4 * se)


def test_diag_gaussians_gradient_against_finite_differences():
    from vae_lib.core.divergences import kl_diag_gaussians_grad
    from vae_lib.testing import assert_gradient

    rng = np.random.default_rng(7)
    args = list(rng.normal(size=(4, 3, 4)))
    grads = kl_diag_gaussians_grad(*args)
    for i, name in enumerate(("mu_q", "logvar_q", "mu_p", "logvar_p")):
        assert grads[i].shape == (3, 4)
        assert_gradient(grads[i], lambda: float(np.sum(kl_diag_gaussians(*args))), args[i], name)


def test_diag_gaussians_gradient_broadcasts_and_checks():
    from vae_lib.core.divergences import kl_diag_gaussians_grad

    d_mu_q, d_logvar_q, d_mu_p, d_logvar_p = kl_diag_gaussians_grad(np.ones((2, 3)), 0.0, 0.0, 0.0)
    np.testing.assert_array_equal(d_mu_q, np.ones((2, 3)))
    np.testing.assert_array_equal(d_mu_p, -np.ones((2, 3)))
    assert d_logvar_q.shape == d_logvar_p.shape == (2, 3)
    with pytest.raises(ValueError, match="do not broadcast"):
        kl_diag_gaussians_grad(np.zeros(3), np.zeros(2), 0.0, 0.0)
    with pytest.raises(ValueError, match="logvar_p must be finite"):
        kl_diag_gaussians_grad(0.0, 0.0, 0.0, np.nan)
