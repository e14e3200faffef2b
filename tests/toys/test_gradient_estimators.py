import numpy as np
import pytest

from vae_lib import (
    ScalarObjective,
    exact_gradient,
    gaussian_expectation,
    gaussian_log_density,
    gradient_estimates,
    pathwise_gradient,
    score_function_gradient,
)
from vae_lib.testing import assert_gradient
from vae_lib.toys.gradient_estimators import OBJECTIVES

POINTS = [(0.5, 0.0), (-1.3, np.log(0.2**2)), (0.2, np.log(2.5**2))]


def bump(z, w=0.3):
    return np.exp(-0.5 * z * z / w**2)


@pytest.mark.parametrize("mu, logvar", POINTS)
def test_quadrature_matches_closed_forms(mu, logvar):
    var = np.exp(logvar)
    assert gaussian_expectation(OBJECTIVES["z²"].f, mu, logvar) == pytest.approx(
        mu**2 + var, rel=1e-12
    )
    assert gaussian_expectation(OBJECTIVES["z² + 10"].f, mu, logvar) == pytest.approx(
        mu**2 + var + 10, rel=1e-12
    )
    # a narrow Gaussian bump: E = w / sqrt(w² + σ²) exp(-μ² / 2(w² + σ²))
    w2 = 0.3**2
    closed = np.sqrt(w2 / (w2 + var)) * np.exp(-0.5 * mu**2 / (w2 + var))
    assert gaussian_expectation(bump, mu, logvar) == pytest.approx(closed, rel=1e-10)
    np.testing.assert_allclose(exact_gradient(OBJECTIVES["z²"].f, mu, logvar), [2 * mu, var])


@pytest.mark.parametrize("name", list(OBJECTIVES))
@pytest.mark.parametrize("mu, logvar", POINTS)
def test_exact_gradient_is_the_derivative_of_the_expectation(name, mu, logvar):
    f = OBJECTIVES[name].f
    theta = np.array([mu, logvar])
    assert_gradient(
        exact_gradient(f, mu, logvar),
        lambda: gaussian_expectation(f, theta[0], theta[1]),
        theta,
        f"∇E[{name}]",
    )


def test_steep_logistic_quadrature_has_converged():
    f = OBJECTIVES["logistic(10z)"].f
    for mu, logvar in POINTS:
        coarse = exact_gradient(f, mu, logvar)
        fine = exact_gradient(f, mu, logvar, n_points=40001, width=14.0)
        np.testing.assert_allclose(coarse, fine, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_objective_derivatives(name):
    obj = OBJECTIVES[name]
    z = np.random.default_rng(0).normal(scale=0.5, size=7)
    assert_gradient(obj.df(z), lambda: float(np.sum(obj.f(z))), z, f"{name}'")


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_pathwise_is_the_chain_rule_through_z(name):
    # for fixed ε, each per-sample estimate is the derivative of f(μ + σε)
    obj = OBJECTIVES[name]
    eps = np.random.default_rng(1).standard_normal(5)
    theta = np.array([0.3, -0.4])
    per_sample = pathwise_gradient(obj.df, theta[0], theta[1], eps)
    assert per_sample.shape == (5, 2)
    for i in range(5):
        assert_gradient(
            per_sample[i],
            lambda i=i: float(obj.f(theta[0] + np.exp(0.5 * theta[1]) * eps[i])),
            theta,
            f"f(z) for sample {i}",
        )


def test_score_function_is_f_times_the_score():
    f = OBJECTIVES["logistic(10z)"].f
    eps = np.random.default_rng(2).standard_normal(4)
    mu, logvar = 0.3, -0.4
    z = mu + np.exp(0.5 * logvar) * eps
    per_sample = score_function_gradient(f, mu, logvar, eps)
    for i in range(4):
        theta = np.array([mu, logvar])
        score = np.zeros(2)
        # ∇ log N(z; μ, σ²) at fixed z, by finite differences of the library's density
        for j in range(2):
            hi, lo = theta.copy(), theta.copy()
            hi[j] += 1e-6
            lo[j] -= 1e-6
            score[j] = (
                gaussian_log_density(z[i : i + 1], hi[:1], hi[1:])
                - gaussian_log_density(z[i : i + 1], lo[:1], lo[1:])
            ) / 2e-6
        np.testing.assert_allclose(per_sample[i], f(z[i]) * score, rtol=1e-6)


@pytest.mark.parametrize("method", ["pathwise", "score"])
@pytest.mark.parametrize("name", list(OBJECTIVES))
@pytest.mark.parametrize("point", range(len(POINTS)))
def test_both_estimators_are_unbiased(method, name, point):
    obj = OBJECTIVES[name]
    mu, logvar = POINTS[point]
    rng = np.random.default_rng([point, list(OBJECTIVES).index(name), method == "score"])
    estimates = gradient_estimates(method, obj, mu, logvar, n_samples=1, n_repeats=200_000, rng=rng)
    mean = estimates.mean(0)
    stderr = estimates.std(0) / np.sqrt(len(estimates))
    exact = exact_gradient(obj.f, mu, logvar)
    assert np.all(np.abs(mean - exact) < 4 * stderr + 1e-12), (mean, exact, stderr)


def test_a_constant_shift_changes_only_the_score_function_estimator():
    eps = np.random.default_rng(3).standard_normal(1000)
    a, b = OBJECTIVES["z²"], OBJECTIVES["z² + 10"]
    np.testing.assert_array_equal(
        pathwise_gradient(a.df, 0.5, 0.0, eps), pathwise_gradient(b.df, 0.5, 0.0, eps)
    )
    plain = score_function_gradient(a.f, 0.5, 0.0, eps)
    shifted = score_function_gradient(b.f, 0.5, 0.0, eps)
    assert np.all(shifted.var(0) > 5 * plain.var(0))
    # a baseline equal to the shift undoes it exactly
    np.testing.assert_allclose(
        score_function_gradient(b.f, 0.5, 0.0, eps, baseline=10.0), plain, atol=1e-12
    )


@pytest.mark.parametrize("method", ["pathwise", "score"])
def test_variance_falls_as_one_over_the_number_of_samples(method):
    obj, mu, sigma = OBJECTIVES["z²"], 0.5, 1.0

    def per_sample(z):  # one draw's estimate, as a function of z = μ + σε
        eps = (z - mu) / sigma
        if method == "pathwise":
            return np.stack([2 * z, 2 * z * eps * sigma / 2])
        return np.stack([z * z * eps / sigma, z * z * (eps * eps - 1) / 2])

    # the exact variance of one draw, by quadrature: E[g²] - (E g)²
    var1 = np.array(
        [
            gaussian_expectation(lambda z, j=j: per_sample(z)[j] ** 2, mu, 0.0)
            - gaussian_expectation(lambda z, j=j: per_sample(z)[j], mu, 0.0) ** 2
            for j in range(2)
        ]
    )
    for n, seed in ((1, 4), (10, 5)):
        estimates = gradient_estimates(
            method, obj, mu, 0.0, n_samples=n, n_repeats=100_000, rng=np.random.default_rng(seed)
        )
        np.testing.assert_allclose(estimates.var(0) * n, var1, rtol=0.1)


def test_same_generator_state_same_noise():
    obj = OBJECTIVES["z²"]
    kw = dict(n_samples=3, n_repeats=4)
    a = gradient_estimates("pathwise", obj, 0.1, 0.2, rng=np.random.default_rng(6), **kw)
    b = gradient_estimates("pathwise", obj, 0.1, 0.2, rng=np.random.default_rng(6), **kw)
    np.testing.assert_array_equal(a, b)
    eps = np.random.default_rng(6).standard_normal((4, 3))
    np.testing.assert_allclose(a, pathwise_gradient(obj.df, 0.1, 0.2, eps).mean(1))
    assert a.shape == (4, 2)


# ----------------------------------------------------------------------------- bad input
def test_bad_input():
    obj = OBJECTIVES["z²"]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="method must be one of"):
        gradient_estimates("reinforce", obj, 0.0, 0.0, n_samples=1, n_repeats=1, rng=rng)
    with pytest.raises(TypeError, match="objective must be a ScalarObjective; got function"):
        gradient_estimates("score", obj.f, 0.0, 0.0, n_samples=1, n_repeats=1, rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        gradient_estimates("score", obj, 0.0, 0.0, n_samples=1, n_repeats=1, rng=0)
    with pytest.raises(ValueError, match="n_samples must be at least 1; got 0"):
        gradient_estimates("score", obj, 0.0, 0.0, n_samples=0, n_repeats=1, rng=rng)
    with pytest.raises(ValueError, match="baseline applies to method 'score' only"):
        gradient_estimates(
            "pathwise", obj, 0.0, 0.0, n_samples=1, n_repeats=1, rng=rng, baseline=1.0
        )
    with pytest.raises(ValueError, match=r"mu must be a single number; got an array of shape"):
        pathwise_gradient(obj.df, np.zeros(2), 0.0, np.zeros(3))
    with pytest.raises(ValueError, match="logvar must be finite"):
        score_function_gradient(obj.f, 0.0, np.nan, np.zeros(3))
    with pytest.raises(TypeError, match="f must be a function of z"):
        gaussian_expectation(3.0, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"f must act elementwise"):
        exact_gradient(lambda z: np.sum(z), 0.0, 0.0)
    with pytest.raises(ValueError, match=r"f\(z\) must be finite"):
        gaussian_expectation(lambda z: np.full_like(z, np.inf), 0.0, 0.0)
    assert isinstance(obj, ScalarObjective)
