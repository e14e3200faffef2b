import numpy as np
import pytest

from vae_lib import kl_standard_normal
from vae_lib.toys.exact_models import (
    ToyModel,
    best_gaussian,
    gaussian_elbo,
    kl_to_posterior,
    linear_gaussian_exact,
    toy_iw_bound,
    toy_log_marginal,
    toy_log_weights,
    toy_model,
    toy_posterior,
)

X = np.array([1.0])  # the chapter's observation for the bimodal model


@pytest.fixture(scope="module")
def bimodal():
    return toy_model("bimodal")


@pytest.fixture(scope="module")
def linear2d():
    """A linear-Gaussian model with 2-D observations."""
    return ToyModel(
        offset=[0.3, -0.2],
        slope=[1.2, -0.7],
        hidden_weights=[],
        hidden_biases=[],
        output_weights=np.zeros((0, 2)),
        noise_std=0.6,
    )


# ----------------------------------------------------------------------------- exact values
@pytest.mark.parametrize("kind", ["linear", "linear2d"])
def test_quadrature_matches_the_linear_gaussian_closed_form(kind, linear2d):
    model = toy_model("linear") if kind == "linear" else linear2d
    for x in (np.full(model.data_dim, 2.0), np.full(model.data_dim, -1.3)):
        log_px, post_mean, post_std = linear_gaussian_exact(model, x)
        assert toy_log_marginal(model, x) == pytest.approx(log_px, abs=1e-10)
        z, density = toy_posterior(model, x)
        exact = np.exp(-0.5 * ((z - post_mean) / post_std) ** 2) / (np.sqrt(2 * np.pi) * post_std)
        np.testing.assert_allclose(density, exact, atol=1e-9)


def test_linear_gaussian_closed_form_against_a_direct_formula(linear2d):
    # x ~ N(c, a aᵀ + s² I), evaluated with a dense covariance
    x = np.array([0.9, 0.4])
    a, c, s = linear2d.slope, linear2d.offset, linear2d.noise_std
    cov = np.outer(a, a) + s**2 * np.eye(2)
    r = x - c
    direct = -0.5 * (
        2 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + r @ np.linalg.solve(cov, r)
    )
    assert linear_gaussian_exact(linear2d, x)[0] == pytest.approx(direct, abs=1e-12)


def test_marginal_is_a_density_over_x(bimodal):
    # ∫ p(x) dx = 1, by quadrature over a grid of 1-D observations
    xs = np.linspace(-5.0, 4.0, 1801)
    px = np.exp([toy_log_marginal(bimodal, [x], n=2001, limit=8.0) for x in xs])
    assert np.trapezoid(px, xs) == pytest.approx(1.0, abs=1e-6)


def test_marginal_matches_monte_carlo_over_the_prior(bimodal):
    rng = np.random.default_rng(0)
    z = rng.standard_normal(400_000)
    w = np.exp(bimodal.log_likelihood(X, z))
    estimate, stderr = w.mean(), w.std() / np.sqrt(len(w))
    assert abs(estimate - np.exp(toy_log_marginal(bimodal, X))) < 4 * stderr


def test_posterior_integrates_to_one_and_has_two_modes(bimodal):
    z, density = toy_posterior(bimodal, X)
    assert np.trapezoid(density, z) == pytest.approx(1.0, abs=1e-12)
    peaks = np.flatnonzero((density[1:-1] > density[:-2]) & (density[1:-1] > density[2:]))
    assert len(peaks) == 2


def test_the_grid_is_fine_enough(bimodal):
    coarse = toy_log_marginal(bimodal, X, n=2001)
    assert toy_log_marginal(bimodal, X) == pytest.approx(coarse, abs=1e-10)
    means, stds = np.array([-0.6, 0.5]), np.array([0.27, 1.3])
    fine = gaussian_elbo(bimodal, X, means, stds, n=3201).elbo
    np.testing.assert_allclose(gaussian_elbo(bimodal, X, means, stds).elbo, fine, atol=1e-10)


# ----------------------------------------------------------------------------- the ELBO
def test_gap_equals_kl_to_the_posterior(bimodal):
    """log p(x) = ELBO + KL(q ‖ p(z|x)), two independent quadratures."""
    means = np.linspace(-2.5, 2.0, 10)[:, None]
    stds = np.array([0.05, 0.1, 0.3, 0.7, 1.5])[None, :]
    gap = toy_log_marginal(bimodal, X) - gaussian_elbo(bimodal, X, means, stds).elbo
    kl = kl_to_posterior(bimodal, X, means, stds)
    assert gap.shape == kl.shape == (10, 5)
    np.testing.assert_allclose(gap, kl, rtol=0, atol=1e-9)
    assert np.all(kl > 0)


def test_elbo_terms(bimodal):
    means, stds = np.array([-1.0, 0.0, 0.8]), np.array([0.2, 1.0, 0.5])
    terms = gaussian_elbo(bimodal, X, means, stds)
    np.testing.assert_allclose(terms.elbo, terms.recon - terms.kl)
    np.testing.assert_allclose(
        terms.kl, kl_standard_normal(means[:, None], np.log(stds**2)[:, None])
    )
    rng = np.random.default_rng(1)
    for m, s, recon in zip(means, stds, terms.recon):
        ll = bimodal.log_likelihood(X, m + s * rng.standard_normal(200_000))
        assert abs(ll.mean() - recon) < 4 * ll.std() / np.sqrt(len(ll))


def test_best_gaussian(bimodal):
    m, s = best_gaussian(bimodal, X)
    best = gaussian_elbo(bimodal, X, m, s).elbo
    # no Gaussian on a fine grid does better
    means, stds = np.linspace(-3, 3, 121)[:, None], np.geomspace(0.03, 3, 81)[None, :]
    grid = gaussian_elbo(bimodal, X, means, stds, n=401).elbo
    assert best >= grid.max() - 1e-6
    # the posterior is not Gaussian, so a gap remains
    assert kl_to_posterior(bimodal, X, m, s) > 0.1
    # the other mode is a local optimum of its own, with a lower ELBO
    m2, s2 = best_gaussian(bimodal, X, mean_range=(0.3, 5.0))
    assert 0.3 < m2 < 5.0 and m2 - 0.3 > 0.05
    assert gaussian_elbo(bimodal, X, m2, s2).elbo < best


def test_best_gaussian_is_the_posterior_in_the_linear_model():
    model, x = toy_model("linear"), np.array([2.0])
    _, post_mean, post_std = linear_gaussian_exact(model, x)
    m, s = best_gaussian(model, x)
    assert m == pytest.approx(post_mean, abs=1e-4)
    assert s == pytest.approx(post_std, abs=1e-4)
    assert kl_to_posterior(model, x, post_mean, post_std) == pytest.approx(0.0, abs=1e-10)
    gap = toy_log_marginal(model, x) - gaussian_elbo(model, x, post_mean, post_std).elbo
    assert gap == pytest.approx(0.0, abs=1e-10)


# ----------------------------------------------------------------------------- sampling
def test_sample_shapes_and_moments(bimodal):
    z, x = bimodal.sample(50_000, np.random.default_rng(2))
    assert z.shape == (50_000,) and x.shape == (50_000, 1)
    # E[x] = E[f(z)], by quadrature over the prior
    t = np.linspace(-10, 10, 4001)
    mean_f = np.trapezoid(bimodal.decoder_mean(t)[:, 0] * np.exp(-0.5 * t * t), t) / np.sqrt(
        2 * np.pi
    )
    assert abs(x.mean() - mean_f) < 4 * x.std() / np.sqrt(len(x))


def test_log_weights(bimodal):
    lw = toy_log_weights(bimodal, X, 0.0, 1.0, (3, 4), np.random.default_rng(0))
    assert lw.shape == (3, 4)
    # with the prior as proposal, log w = log p(x|z)
    z = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(lw, bimodal.log_likelihood(X, z), atol=1e-12)


def test_iw_l1_is_the_elbo_in_expectation(bimodal):
    for m, s in ((-0.62, 0.27), (0.0, 1.0)):
        est = toy_iw_bound(bimodal, X, m, s, 1, np.random.default_rng(3), n_repeats=100_000)
        elbo = gaussian_elbo(bimodal, X, m, s).elbo
        assert abs(est.mean() - elbo) < 4 * est.std() / np.sqrt(len(est))


@pytest.mark.parametrize("q", [(-0.62, 0.27), (-0.2, 0.8), (0.0, 1.0)])
def test_iw_bound_rises_with_k_towards_log_px(bimodal, q):
    ks = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    est = toy_iw_bound(bimodal, X, *q, ks, np.random.default_rng(4), n_repeats=2000)
    assert est.shape == (len(ks), 2000)
    for lo, hi in zip(est[:-1], est[1:]):
        diff = hi - lo  # paired: the same samples, so the noise of the difference is small
        assert diff.mean() > -3 * diff.std() / np.sqrt(len(diff))
    assert est[-1].mean() > est[0].mean()
    log_px = toy_log_marginal(bimodal, X)
    assert est[-1].mean() < log_px + 3 * est[-1].std() / np.sqrt(est.shape[1])


def test_iw_bound_nested_and_single_agree(bimodal):
    nested = toy_iw_bound(bimodal, X, 0.0, 1.0, [7], np.random.default_rng(5), n_repeats=30)
    single = toy_iw_bound(bimodal, X, 0.0, 1.0, 7, np.random.default_rng(5), n_repeats=30)
    np.testing.assert_allclose(nested[0], single)
    big = toy_iw_bound(bimodal, X, 0.0, 1.0, 1000, np.random.default_rng(6), n_repeats=500)
    assert big.shape == (500,)  # spans several memory chunks
    assert big.mean() == pytest.approx(toy_log_marginal(bimodal, X), abs=0.01)


def test_same_seed_same_numbers(bimodal):
    a = toy_iw_bound(bimodal, X, 0.0, 1.0, [1, 10], np.random.default_rng(9), n_repeats=5)
    b = toy_iw_bound(bimodal, X, 0.0, 1.0, [1, 10], np.random.default_rng(9), n_repeats=5)
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- bad input
def test_bad_input(bimodal):
    with pytest.raises(ValueError, match="slope must have shape"):
        ToyModel([0.0], [1.0, 2.0], [], [], np.zeros((0, 1)), 1.0)
    with pytest.raises(ValueError, match="output_weights must have shape"):
        ToyModel([0.0], [1.0], [1.0], [0.0], np.zeros((2, 1)), 1.0)
    with pytest.raises(ValueError, match="noise_std must be a finite number greater than 0"):
        ToyModel([0.0], [1.0], [], [], np.zeros((0, 1)), -1.0)
    with pytest.raises(ValueError, match="kind must be 'bimodal' or 'linear'"):
        toy_model("cubic")
    with pytest.raises(TypeError, match="model must be a ToyModel"):
        toy_log_marginal("model", X)
    with pytest.raises(ValueError, match=r"x must have shape \(1\)"):
        toy_log_marginal(bimodal, [1.0, 2.0])
    with pytest.raises(ValueError, match="x must be finite"):
        toy_posterior(bimodal, [np.nan])
    with pytest.raises(ValueError, match="std must be greater than 0"):
        gaussian_elbo(bimodal, X, 0.0, 0.0)
    with pytest.raises(ValueError, match="mean and std must broadcast"):
        gaussian_elbo(bimodal, X, np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="std must be at least 4 grid spacings"):
        kl_to_posterior(bimodal, X, 0.0, 0.01)
    with pytest.raises(ValueError, match="q must lie inside the grid"):
        kl_to_posterior(bimodal, X, 15.0, 1.0)
    with pytest.raises(ValueError, match="model must be linear"):
        linear_gaussian_exact(bimodal, X)
    with pytest.raises(ValueError, match="mean_range must be"):
        best_gaussian(bimodal, X, mean_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="k must be at least 1"):
        toy_iw_bound(bimodal, X, 0.0, 1.0, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="k must be an integer or a non-empty sequence"):
        toy_iw_bound(bimodal, X, 0.0, 1.0, [], np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        toy_iw_bound(bimodal, X, 0.0, 1.0, 3, 0)
    with pytest.raises(ValueError, match="n must be at least 3"):
        toy_log_marginal(bimodal, X, n=2)
