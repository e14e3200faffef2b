"""The likelihoods: the Bernoulli, and for grey levels the continuous Bernoulli and the
Gaussian with fixed or learned σ.

The conformance suite checks every model's gradients, saving and bounds with each
likelihood; these tests check what is the likelihoods' own: that the continuous Bernoulli is
a density (by quadrature), its normaliser's closed form and gradient, the Gaussian decoder's
identities (the β = 2σ² form of its ELBO, the optimum of a learned σ, the linear case), and
the configs that choose them.
"""

import numpy as np
import pytest

import vae_lib
from vae_lib import VAEConfig, fit
from vae_lib.core.distributions import (
    CB_TAYLOR_BELOW,
    bernoulli_log_likelihood,
    continuous_bernoulli_log_likelihood,
    continuous_bernoulli_log_norm,
    continuous_bernoulli_log_norm_grad,
    continuous_bernoulli_mean,
)
from vae_lib.core.likelihoods import (
    Bernoulli,
    ContinuousBernoulli,
    Gaussian,
    make_likelihood,
)
from vae_lib.testing import numerical_gradient

# logits from λ ≈ e^-700 to 1 - e^-700, crowded around λ = 1/2 and the Taylor threshold
LOGITS = np.array(
    [-700.0, -60.0, -8.0, -1.0, -0.3, -0.1000001, -0.0999999, -1e-3, -1e-9, 0.0]
    + [1e-9, 1e-4, 0.05, 0.0999999, 0.1, 0.1000001, 0.7, 3.0, 25.0, 700.0]
)


def quadrature(f, logit):
    """∫_0^1 f(x) dx by the trapezoid rule on a grid that resolves a density ∝ e^{ℓx}."""
    # the mass sits within a few 1/|ℓ| of an end: add a fine grid there
    width = min(1.0, 40.0 / max(abs(logit), 1e-9))
    edge = np.linspace(0.0, width, 200_001)
    grid = np.unique(np.concatenate([edge, 1.0 - edge, np.linspace(0.0, 1.0, 20_001)]))
    return np.trapezoid(f(grid), grid)


@pytest.mark.parametrize("logit", LOGITS)
def test_continuous_bernoulli_integrates_to_one(logit):
    def density(x):
        return np.exp(continuous_bernoulli_log_likelihood(x[:, None], np.full(1, logit)))

    assert quadrature(density, logit) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("logit", LOGITS)
def test_continuous_bernoulli_mean_by_quadrature(logit):
    def weighted(x):
        return x * np.exp(continuous_bernoulli_log_likelihood(x[:, None], np.full(1, logit)))

    assert continuous_bernoulli_mean(np.array([logit]))[0] == pytest.approx(
        quadrature(weighted, logit), abs=1e-6
    )


def test_log_norm_matches_the_closed_form_in_lambda():
    lam = np.array([1e-6, 0.01, 0.2, 0.4, 0.45, 0.55, 0.8, 0.999])
    closed = np.log(2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam))
    logits = np.log(lam) - np.log1p(-lam)
    np.testing.assert_allclose(continuous_bernoulli_log_norm(logits), closed, rtol=1e-9)
    assert continuous_bernoulli_log_norm(np.zeros(1))[0] == np.log(2.0)  # C(1/2) = 2


def test_taylor_branch_joins_the_closed_form():
    # both sides of the threshold agree to rounding, in the value and in the gradient
    below, above = np.nextafter(CB_TAYLOR_BELOW, 0.0), CB_TAYLOR_BELOW
    for f in (continuous_bernoulli_log_norm, continuous_bernoulli_log_norm_grad):
        a, b = f(np.array([below, above, -below, -above]))[[0, 1, 2, 3]].reshape(2, 2).T
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_log_norm_gradient_by_finite_differences():
    logits = LOGITS[np.abs(LOGITS) < 100].copy()
    analytic = continuous_bernoulli_log_norm_grad(logits)
    for i, logit in enumerate(logits):
        point = np.array([logit], dtype=np.float64)
        numeric = numerical_gradient(lambda p=point: continuous_bernoulli_log_norm(p).sum(), point)
        assert analytic[i] == pytest.approx(numeric[0], abs=1e-8)
    # far out, d log C/dℓ = 1/ℓ - 1/sinh ℓ tends to 1/ℓ
    assert continuous_bernoulli_log_norm_grad(np.array([700.0]))[0] == pytest.approx(1 / 700)


def test_log_likelihood_gradient_is_x_minus_the_mean():
    rng = np.random.default_rng(0)
    x, logits = rng.uniform(size=(4, 7)), rng.normal(scale=3.0, size=(4, 7))
    numeric = numerical_gradient(
        lambda: continuous_bernoulli_log_likelihood(x, logits).sum(), logits
    )
    np.testing.assert_allclose(x - continuous_bernoulli_mean(logits), numeric, atol=1e-7)


def test_continuous_bernoulli_adds_only_the_normaliser_to_the_bernoulli():
    rng = np.random.default_rng(1)
    x, logits = rng.uniform(size=(3, 5)), rng.normal(size=(3, 5))
    extra = continuous_bernoulli_log_likelihood(x, logits) - bernoulli_log_likelihood(x, logits)
    np.testing.assert_allclose(extra, continuous_bernoulli_log_norm(logits).sum(axis=1))


def test_log_norm_rejects_bad_input():
    with pytest.raises(ValueError, match="logits"):
        continuous_bernoulli_log_norm(np.array([np.nan]))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        continuous_bernoulli_log_likelihood(np.array([1.5]), np.array([0.0]))


def test_cb_draws_follow_the_density():
    likelihood = ContinuousBernoulli(np.float64)
    logits = np.array([[-300.0, -2.0, 0.0, 1e-10, 4.0]])
    draws = likelihood.draw(np.repeat(logits, 200_000, axis=0), np.random.default_rng(1))
    assert draws.min() >= 0.0 and draws.max() <= 1.0
    np.testing.assert_allclose(draws.mean(axis=0), continuous_bernoulli_mean(logits)[0], atol=3e-3)


# ----------------------------------------------------------------------------- the Gaussian
def gaussian(seed=0, **kw):
    settings = {"input_dim": 6, "hidden_dims": (5,), "latent_dim": 2, "dtype": "float64", **kw}
    config = VAEConfig(likelihood="gaussian", **settings)
    return vae_lib.VAE(config, np.random.default_rng(seed))


def test_gaussian_log_likelihood_is_squared_error_plus_a_constant():
    model = gaussian(decoder_std=0.3)
    rng = np.random.default_rng(2)
    x, mean = rng.uniform(size=(4, 6)), rng.normal(size=(4, 6))
    expected = -np.sum((x - mean) ** 2, axis=1) / (2 * 0.09) - 3 * np.log(2 * np.pi * 0.09)
    np.testing.assert_allclose(model.likelihood.log_prob(x, mean), expected)


@pytest.mark.parametrize("std", [0.05, 0.3, 2.0])
def test_fixed_sigma_elbo_is_a_squared_error_autoencoder_with_beta_two_sigma_squared(std):
    model = gaussian(decoder_std=std)
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(8, 6))
    eps = model.draw_noise(x, rng)
    loss = model.loss_and_grads(x, eps).loss
    mu, logvar = model.encode(x)
    z = mu + np.exp(0.5 * logvar) * eps
    sq = np.mean(np.sum((model.decode_mean(z) - x) ** 2, axis=1))
    kl = np.mean(vae_lib.kl_standard_normal(mu, logvar))
    const = 3 * np.log(2 * np.pi * std**2)  # (D/2) log 2πσ², D = 6
    assert 2 * std**2 * (loss - const) == pytest.approx(sq + 2 * std**2 * kl, rel=1e-12)


def test_learned_sigma_gradient_vanishes_at_the_mean_squared_error():
    model = gaussian(decoder_std=1.0, learn_std=True)
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(10, 6))
    eps = model.draw_noise(x, rng)
    mu, logvar = model.encode(x)
    residual = model.decode_mean(mu + np.exp(0.5 * logvar) * eps) - x
    model.likelihood.log_std_param[0] = 0.5 * np.log(np.mean(residual**2))
    model.loss_and_grads(x, eps)
    assert abs(model.likelihood.d_log_std[0]) < 1e-10


def test_learned_sigma_settles_at_the_root_mean_squared_error():
    rng = np.random.default_rng(5)
    x, _ = vae_lib.patterns(300, rng)
    config = VAEConfig(
        input_dim=16, hidden_dims=(16,), latent_dim=2, likelihood="gaussian", learn_std=True
    )
    model = vae_lib.VAE(config, rng)
    history = fit(model, x, epochs=150, batch_size=50, lr=1e-2, rng=rng, progress=False)
    assert history["std"][-1] < 0.5  # it moved from its start at 1
    mu, logvar = model.encode(x)
    z = mu + np.exp(0.5 * logvar) * rng.standard_normal((20, *mu.shape)).astype(np.float32)
    rmse = np.sqrt(
        np.mean((model.decode_mean(z.reshape(-1, 2)).reshape(z.shape[0], *x.shape) - x) ** 2)
    )
    # σ trails the error as it falls (the exact optimum is tested above): near, not equal
    assert model.likelihood.std == pytest.approx(rmse, rel=0.25)


def test_no_hidden_layers_make_an_affine_decoder():
    model = gaussian(hidden_dims=())
    assert len(model.decoder.layers) == 1 and len(model.encoder.layers) == 1
    z = np.random.default_rng(6).normal(size=(3, 2))
    # affine: the mean at the midpoint is the midpoint of the means
    mid = model.decode_mean((z[:1] + z[1:2]) / 2)
    np.testing.assert_allclose(mid, (model.decode_mean(z[:1]) + model.decode_mean(z[1:2])) / 2)


def test_sample_data_adds_pixel_noise_of_size_sigma():
    model = gaussian(decoder_std=0.25)
    z = np.zeros((20_000, 2))
    x = model.sample_data(z, np.random.default_rng(7))
    assert np.std(x - model.decode_mean(z)) == pytest.approx(0.25, rel=0.02)


def test_gaussian_config_rejects_bad_values():
    with pytest.raises(ValueError, match="decoder_std must be a finite number above 0"):
        VAEConfig(likelihood="gaussian", decoder_std=0.0)
    with pytest.raises(TypeError, match="learn_std must be True or False"):
        VAEConfig(likelihood="gaussian", learn_std=1)
    with pytest.raises(TypeError, match="decoder_std must be a number; got '0.5'"):
        VAEConfig(likelihood="gaussian", decoder_std="0.5")
    with pytest.raises(ValueError, match="likelihood='bernoulli' has none"):
        VAEConfig(decoder_std=0.5)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAEConfig(likelihood="poisson")
    with pytest.raises(ValueError, match="likelihood must be 'bernoulli'"):
        vae_lib.VLAEConfig(input_dim=4, likelihood="gaussian")
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        gaussian().elbo(np.full((2, 6), 2.0), np.random.default_rng(0))


def test_learned_sigma_is_a_saved_parameter(tmp_path):
    model = gaussian(learn_std=True, decoder_std=0.7)
    assert "likelihood.log_std" in model.param_names()
    loaded, _ = vae_lib.load_model(vae_lib.save_model(model, tmp_path / "g.npz"))
    assert loaded.likelihood.std == pytest.approx(0.7)
    assert "likelihood.log_std" not in gaussian().param_names()  # a fixed σ is config only


# ----------------------------------------------------------------------------- the objects
@pytest.mark.parametrize("name", ["bernoulli", "continuous_bernoulli", "gaussian"])
def test_backward_is_the_gradient_of_forward(name):
    likelihood = make_likelihood(name, np.float64, std=0.4, learn_std=name == "gaussian")
    rng = np.random.default_rng(8)
    x, out = rng.uniform(size=(3, 5)), rng.normal(size=(3, 5))
    scale = rng.uniform(0.5, 2.0, size=(3, 1))  # one weight per row, as an importance sampler
    likelihood.forward(x, out)
    d_out = likelihood.backward(scale)
    expected = numerical_gradient(
        lambda: -float(np.sum(scale[:, 0] * likelihood.log_prob(x, out))), out
    )
    np.testing.assert_allclose(d_out, expected, rtol=1e-6, atol=1e-8)
    if name == "gaussian":
        log_std = likelihood.log_std_param
        expected_std = numerical_gradient(
            lambda: -float(np.sum(scale[:, 0] * likelihood.log_prob(x, out))), log_std
        )
        np.testing.assert_allclose(likelihood.d_log_std, expected_std, rtol=1e-6)


@pytest.mark.parametrize("name", ["bernoulli", "continuous_bernoulli", "gaussian"])
def test_step_and_forward_agree_with_log_prob(name):
    likelihood = make_likelihood(name, np.float64)
    rng = np.random.default_rng(9)
    x, out = rng.uniform(size=(4, 6)), rng.normal(size=(4, 6))
    total, d_out = likelihood.step(x, out, 0.25)
    assert total == pytest.approx(float(np.sum(likelihood.log_prob(x, out))), rel=1e-12)
    np.testing.assert_allclose(likelihood.forward(x, out), likelihood.log_prob(x, out))
    np.testing.assert_allclose(d_out, likelihood.backward(0.25), rtol=1e-12)
    stack = rng.normal(size=(3, 4, 6))  # K outputs for each example, as the IWAE decodes
    np.testing.assert_allclose(likelihood.forward(x, stack), likelihood.log_prob(x, stack))
    pairs = likelihood.log_prob_pairs(x, out)
    for g in range(4):
        np.testing.assert_allclose(pairs[:, g], likelihood.log_prob(x, out[g][None, :]))


def test_the_bernoulli_is_its_formula_and_draws_binary_pixels():
    likelihood = Bernoulli(np.float64)
    rng = np.random.default_rng(10)
    x, logits = (rng.uniform(size=(3, 4)) < 0.5).astype(float), rng.normal(size=(3, 4))
    np.testing.assert_allclose(
        likelihood.log_prob(x, logits), bernoulli_log_likelihood(x, logits), rtol=1e-12
    )
    draws = likelihood.draw(np.zeros((100_000, 1)), np.random.default_rng(11))
    assert set(np.unique(draws)) == {0.0, 1.0} and draws.mean() == pytest.approx(0.5, abs=0.01)


def test_a_fixed_gaussian_has_no_parameters():
    assert Gaussian(0.3).params == [] and Gaussian(0.3).param_names() == []
    learned = Gaussian(0.3, learn_std=True)
    assert learned.param_names() == ["log_std"] and learned.std == pytest.approx(0.3)
