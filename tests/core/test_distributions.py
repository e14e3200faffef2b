import numpy as np
import pytest
from scipy import stats

from vae_lib import (
    bernoulli_log_likelihood,
    bernoulli_log_likelihood_grad,
    gaussian_log_density,
    kl_standard_normal,
    kl_standard_normal_grad,
    log_mean_exp,
    reparameterize,
    reparameterize_backward,
    sigmoid,
    standard_normal_log_density,
)
from vae_lib.core.distributions import (
    gaussian_entropy_kernel,
    gaussian_log_density_grad_kernel,
    gaussian_log_density_kernel,
    sigmoid_and_softplus_kernel,
    softplus_kernel,
)
from vae_lib.testing import assert_gradient


def test_bernoulli_matches_naive_form_for_moderate_logits():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(5, 7))
    logits = rng.normal(scale=3, size=(5, 7))
    p = 1 / (1 + np.exp(-logits))
    naive = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits), naive, rtol=1e-10)


def test_bernoulli_is_finite_for_extreme_logits():
    x = np.array([[0.0, 1.0, 1.0, 0.0]])
    logits = np.array([[1000.0, -1000.0, 1000.0, -1000.0]])
    ll = bernoulli_log_likelihood(x, logits)
    # the two wrong pixels each cost 1000 nats, the two right ones nothing
    np.testing.assert_allclose(ll, [-2000.0])


def test_bernoulli_gradient():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(3, 4))
    logits = rng.normal(size=(3, 4))
    assert_gradient(
        bernoulli_log_likelihood_grad(x, logits),
        lambda: float(np.sum(bernoulli_log_likelihood(x, logits))),
        logits,
        "Bernoulli logits",
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_kernel_matches_the_reference_forms(dtype):
    # the training step's one-tanh kernel against np.logaddexp and 1 / (1 + e^-a)
    a = np.concatenate([np.linspace(-60, 60, 2401), [-1e4, -745.0, 0.0, 745.0, 1e4]])
    s, softplus = sigmoid_and_softplus_kernel(a.astype(dtype))
    assert s.dtype == softplus.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(softplus, np.logaddexp(0, a), rtol=tol, atol=tol)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(s, 1 / (1 + np.exp(-a)), rtol=0, atol=tol)
    assert np.all(softplus >= 0) and np.all((s >= 0) & (s <= 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_alone_is_bit_for_bit_the_fused_kernel_s(dtype):
    # the evaluations' softplus skips the passes that make σ, and changes no bit of a bound
    a = np.concatenate([np.linspace(-60, 60, 2401), [-1e4, -745.0, 0.0, 745.0, 1e4, np.inf]])
    alone = softplus_kernel(a.astype(dtype))
    assert alone.dtype == dtype
    assert alone.tobytes() == sigmoid_and_softplus_kernel(a.astype(dtype))[1].tobytes()


def test_sigmoid_is_stable_and_exact_enough():
    a = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0])
    s = sigmoid(a)
    assert np.all(np.isfinite(s)) and s[2] == 0.5
    np.testing.assert_allclose(s[1:4], 1 / (1 + np.exp(-a[1:4])), atol=1e-15)


def test_gaussian_log_density_matches_scipy():
    rng = np.random.default_rng(2)
    z, mu = rng.normal(size=(2, 6, 3))
    logvar = rng.normal(size=(6, 3))
    expected = stats.norm.logpdf(z, mu, np.exp(0.5 * logvar)).sum(-1)
    np.testing.assert_allclose(gaussian_log_density(z, mu, logvar), expected, rtol=1e-12)
    np.testing.assert_allclose(
        standard_normal_log_density(z), stats.norm.logpdf(z).sum(-1), rtol=1e-12
    )


def test_kl_is_zero_only_at_the_prior_and_positive_elsewhere():
    assert kl_standard_normal(np.zeros((1, 3)), np.zeros((1, 3)))[0] == 0.0
    rng = np.random.default_rng(3)
    assert np.all(kl_standard_normal(rng.normal(size=(50, 3)), rng.normal(size=(50, 3))) > 0)


@pytest.mark.parametrize("seed", range(3))
def test_closed_form_kl_agrees_with_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 5))
    mu, logvar = rng.normal(size=(1, k)), rng.normal(scale=0.7, size=(1, k))
    z, _ = reparameterize(np.repeat(mu, 200_000, 0), np.repeat(logvar, 200_000, 0), rng)
    log_ratio = gaussian_log_density(z, mu, logvar) - standard_normal_log_density(z)
    estimate, stderr = log_ratio.mean(), log_ratio.std() / np.sqrt(len(log_ratio))
    exact = kl_standard_normal(mu, logvar)[0]
    assert abs(estimate - exact) < 4 * stderr, (estimate, exact, stderr)


def test_kl_gradients():
    rng = np.random.default_rng(4)
    mu, logvar = rng.normal(size=(2, 3, 4))
    dmu, dlogvar = kl_standard_normal_grad(mu, logvar)

    def kl():
        return float(np.sum(kl_standard_normal(mu, logvar)))

    assert_gradient(dmu, kl, mu, "mu")
    assert_gradient(dlogvar, kl, logvar, "logvar")


def test_reparameterize_draws_the_right_gaussian():
    rng = np.random.default_rng(5)
    mu, logvar = np.array([[1.5, -2.0]]), np.array([[0.4, -1.0]])
    z, eps = reparameterize(np.repeat(mu, 100_000, 0), np.repeat(logvar, 100_000, 0), rng)
    sigma = np.exp(0.5 * logvar[0])
    assert np.all(np.abs(z.mean(0) - mu[0]) < 4 * sigma / np.sqrt(len(z)))
    np.testing.assert_allclose(z.std(0), sigma, rtol=0.01)
    np.testing.assert_allclose(z, mu + sigma * eps)


def test_reparameterize_same_seed_same_numbers():
    mu, logvar = np.zeros((3, 2)), np.zeros((3, 2))
    a, _ = reparameterize(mu, logvar, np.random.default_rng(7))
    b, _ = reparameterize(mu, logvar, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_reparameterize_backward_gradients():
    rng = np.random.default_rng(6)
    mu, logvar, eps, r = rng.normal(size=(4, 3, 2))

    def loss():  # any function of z: here a fixed linear one
        return float(np.sum((mu + np.exp(0.5 * logvar) * eps) * r))

    dmu, dlogvar = reparameterize_backward(r, logvar, eps)
    assert_gradient(dmu, loss, mu, "mu")
    assert_gradient(dlogvar, loss, logvar, "logvar")


def test_log_mean_exp_is_stable():
    a = np.array([[1000.0, 1000.0], [1000.0, -np.log(3) + 1000]])
    np.testing.assert_allclose(log_mean_exp(a, axis=0), [1000.0, 1000 + np.log(2 / 3)])
    small = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(log_mean_exp(small, 0), np.log(np.exp(small).mean(0)))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "x, logits, error, words",
    [
        ([[0.5, 1.2]], [[0.0, 0.0]], ValueError, r"x must lie in \[0, 1\].*from 0.5 to 1.2"),
        ([[0.5, np.nan]], [[0.0, 0.0]], ValueError, "x must be finite; got 1 NaN"),
        ([[0.5, 0.5]], [[0.0, np.inf]], ValueError, "logits must be finite"),
        ([[0.5, 0.5]], [[0.0, 0.0, 0.0]], ValueError, "same last dimension D"),
        ("abc", [[0.0]], TypeError, "x must be an array of numbers; got str"),
        ([["a"]], [[0.0]], TypeError, "x must be an array of numbers; got dtype"),
    ],
)
def test_bernoulli_bad_input(x, logits, error, words):
    with pytest.raises(error, match=words):
        bernoulli_log_likelihood(x, logits)


def test_kl_shape_mismatch():
    with pytest.raises(ValueError, match=r"logvar must have shape \(2, 3\); got shape \(2, 2\)"):
        kl_standard_normal(np.zeros((2, 3)), np.zeros((2, 2)))


@pytest.mark.parametrize("rng", [0, None, np.random.RandomState(0)])
def test_reparameterize_needs_a_generator(rng):
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        reparameterize(np.zeros((1, 2)), np.zeros((1, 2)), rng)


def test_gaussian_entropy_kernel_against_monte_carlo():
    rng = np.random.default_rng(7)
    mu, logvar = np.array([0.3, -2.0, 1.0]), np.array([-1.0, 0.5, 2.0])
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((200_000, 3))
    samples = -gaussian_log_density_kernel(z, mu, logvar)
    se = samples.std() / np.sqrt(len(samples))
    assert abs(samples.mean() - gaussian_entropy_kernel(logvar)) < 4 * se


def test_gaussian_log_density_grad_kernel_against_finite_differences():
    rng = np.random.default_rng(8)
    z, mu, logvar = (rng.normal(size=(4, 3)) for _ in range(3))
    grads = gaussian_log_density_grad_kernel(z, mu, logvar)
    for grad, value, name in zip(grads, (z, mu, logvar), ("z", "mu", "logvar")):
        assert_gradient(
            grad, lambda: float(np.sum(gaussian_log_density_kernel(z, mu, logvar))), value, name
        )
