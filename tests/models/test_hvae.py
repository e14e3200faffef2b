"""What is the hierarchical VAE's own: the precision-weighted merge, the two-layer ELBO and
importance weights built from the public pieces, KL warm-up, and ancestral sampling."""

import numpy as np
import pytest

import vae_lib
from vae_lib import HVAE, HVAEConfig
from vae_lib.core.gaussians import (
    precision_weighted_merge,
    precision_weighted_merge_backward,
    precision_weighted_merge_kernel,
)
from vae_lib.core.numerics import logsumexp, trapezoid_grid
from vae_lib.testing import check_model_gradients, numerical_gradient, relative_error

SMALL = dict(input_dim=6, hidden_dims=(5,), latent_dim=3, top_latent_dim=2, top_hidden_dims=(4,))


def small(seed=0, **changes):
    return HVAE(HVAEConfig(**{**SMALL, "dtype": "float64", **changes}), np.random.default_rng(seed))


def data(n=5, seed=1):
    return np.random.default_rng(seed).uniform(size=(n, 6))


# ----------------------------------------------------------------------------- the merge
@pytest.mark.parametrize("seed", range(5))
def test_merge_is_the_normalised_product_of_the_two_densities_by_quadrature(seed):
    rng = np.random.default_rng(seed)
    mu_a, mu_b = rng.normal(scale=2.0, size=2)
    logvar_a, logvar_b = rng.normal(scale=1.5, size=2)
    mu, logvar = precision_weighted_merge([mu_a], [logvar_a], [mu_b], [logvar_b])
    z, log_w = trapezoid_grid(30.0, 200_001)

    def log_n(m, lv):
        return vae_lib.gaussian_log_density(z[:, None], m, lv)

    log_product = log_n(mu_a, logvar_a) + log_n(mu_b, logvar_b)
    log_density = log_product - logsumexp(log_product + log_w)  # normalised on the grid
    density = np.exp(log_density + log_w)
    mean = np.sum(density * z)
    var = np.sum(density * (z - mean) ** 2)
    np.testing.assert_allclose(mu[0], mean, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(np.exp(logvar[0]), var, rtol=1e-7)
    # and the normalised product is that Gaussian at every grid point
    np.testing.assert_allclose(log_density[::1000], log_n(mu, logvar)[::1000], rtol=1e-7, atol=1e-7)


def test_merge_against_monte_carlo():
    """Draw z from the first Gaussian and weight it by the second: the weighted moments are
    those of the normalised product."""
    rng = np.random.default_rng(10)
    mu_a, logvar_a = np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.5, 1.0])
    mu_b, logvar_b = np.array([-1.0, 0.0, 1.5]), np.array([0.0, 0.4, -1.0])
    mu, logvar = precision_weighted_merge(mu_a, logvar_a, mu_b, logvar_b)
    s = 400_000
    z = mu_a + np.exp(0.5 * logvar_a) * rng.standard_normal((s, 3))
    log_w = -0.5 * (z - mu_b) ** 2 / np.exp(logvar_b)
    w = np.exp(log_w - log_w.max(axis=0))
    w /= w.sum(axis=0)
    mean = np.sum(w * z, axis=0)
    var = np.sum(w * (z - mean) ** 2, axis=0)
    ess = 1.0 / np.sum(w**2, axis=0)  # effective sample size of the weighted draws
    se = np.sqrt(var / ess)
    assert np.all(np.abs(mean - mu) < 5 * se)
    np.testing.assert_allclose(var, np.exp(logvar), rtol=0.02)


def test_merge_limits_and_symmetry():
    rng = np.random.default_rng(11)
    mu_a, logvar_a, mu_b, logvar_b = rng.normal(size=(4, 7))
    mu, logvar = precision_weighted_merge(mu_a, logvar_a, mu_b, logvar_b)
    mu_swapped, logvar_swapped = precision_weighted_merge(mu_b, logvar_b, mu_a, logvar_a)
    np.testing.assert_allclose(mu, mu_swapped, rtol=1e-12)
    np.testing.assert_allclose(logvar, logvar_swapped, rtol=1e-12)
    # the merged Gaussian is narrower than either, and its mean lies between the two
    assert np.all(logvar < np.minimum(logvar_a, logvar_b))
    assert np.all((mu - mu_a) * (mu - mu_b) <= 0)
    # two equal Gaussians: the same mean, half the variance
    mu2, logvar2 = precision_weighted_merge(mu_a, logvar_a, mu_a, logvar_a)
    np.testing.assert_allclose(mu2, mu_a, rtol=1e-12)
    np.testing.assert_allclose(logvar2, logvar_a - np.log(2), rtol=1e-12)
    # a very broad second Gaussian leaves the first alone, with no overflow
    far, lv_far = precision_weighted_merge(mu_a, logvar_a, mu_b, np.full(7, 800.0))
    np.testing.assert_allclose(far, mu_a, rtol=1e-12)
    np.testing.assert_allclose(lv_far, logvar_a, rtol=1e-12)


def test_merge_backward_against_finite_differences():
    rng = np.random.default_rng(12)
    args = list(rng.normal(size=(4, 3, 5)))
    v_mu, v_logvar = rng.normal(size=(2, 3, 5))  # L = <v_mu, μ> + <v_logvar, log σ²>

    def loss():
        mu, logvar = precision_weighted_merge(*args)
        return float(np.sum(v_mu * mu) + np.sum(v_logvar * logvar))

    _, _, w, one_minus_w = precision_weighted_merge_kernel(*args)
    grads = precision_weighted_merge_backward(v_mu, v_logvar, args[0], args[2], w, one_minus_w)
    for g, a in zip(grads, args):
        assert relative_error(g, numerical_gradient(loss, a)) < 1e-7


def test_merge_bad_input():
    with pytest.raises(ValueError, match="do not broadcast"):
        precision_weighted_merge(np.zeros(3), np.zeros(2), 0.0, 0.0)
    with pytest.raises(ValueError, match="logvar_b must be finite"):
        precision_weighted_merge(0.0, 0.0, 0.0, np.inf)


# ----------------------------------------------------------------------------- the model
def test_the_step_and_the_importance_weights_from_the_public_pieces():
    model = small()
    x = data()
    noise = model.draw_noise(x, np.random.default_rng(3))
    eps1, eps2 = noise[:, :3], noise[:, 3:]
    result = model.loss_and_grads(x, noise)

    mu1_hat, logvar1_hat, mu2, logvar2 = model.bottom_up(x)
    z2 = mu2 + np.exp(0.5 * logvar2) * eps2
    mu_p, logvar_p = model.prior_params(z2)
    mu1, logvar1 = precision_weighted_merge(mu1_hat, logvar1_hat, mu_p, logvar_p)
    z1 = mu1 + np.exp(0.5 * logvar1) * eps1
    recon = vae_lib.bernoulli_log_likelihood(x, model.decode(z1))
    kl1 = vae_lib.kl_diag_gaussians(mu1, logvar1, mu_p, logvar_p)
    kl2 = vae_lib.kl_standard_normal(mu2, logvar2)
    t = result.terms
    assert list(t) == ["elbo", "recon", "kl", "kl1", "kl2"]  # no objective: trains on the ELBO
    assert t["recon"] == pytest.approx(recon.mean(), rel=1e-12)
    assert t["kl1"] == pytest.approx(kl1.mean(), rel=1e-12)
    assert t["kl2"] == pytest.approx(kl2.mean(), rel=1e-12)
    assert t["kl"] == pytest.approx(t["kl1"] + t["kl2"], rel=1e-12)
    assert result.loss == pytest.approx(-(t["recon"] - t["kl"]), rel=1e-12)

    # log w with the same draws, term by term, as log_weights computes it
    log_w = (
        recon
        + vae_lib.gaussian_log_density(z1, mu_p, logvar_p)
        + vae_lib.standard_normal_log_density(z2)
        - vae_lib.gaussian_log_density(z1, mu1, logvar1)
        - vae_lib.gaussian_log_density(z2, mu2, logvar2)
    )

    # log_weights draws its noise as draw_noise does: the same seed, the same draws
    rng = np.random.default_rng(3)
    drawn = model.log_weights(x, 1, rng)[0]
    np.testing.assert_allclose(drawn, log_w, rtol=1e-10)


@pytest.mark.parametrize("weight, beta", [(0.25, 1.0), (0.6, 2.0), (1.0, 0.5)])
def test_gradients_with_a_warm_up_weight_and_beta(weight, beta):
    model = small(kl_warmup_epochs=4, beta=beta)
    model.kl_weight = weight
    check_model_gradients(model, data(), np.random.default_rng(2), entrywise=True)


def test_warm_up_schedule_and_objective():
    model = small(kl_warmup_epochs=4)
    x = data()
    noise = model.draw_noise(x, np.random.default_rng(0))
    assert model.kl_weight == 1.0  # a fresh model
    weights = []
    for epoch in range(6):
        model.start_epoch(epoch)
        weights.append(model.kl_weight)
    assert weights == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    model.start_epoch(1)
    t = model.loss_and_grads(x, noise).terms
    assert list(t)[0] == "objective"
    assert t["objective"] == pytest.approx(t["recon"] - 0.5 * t["kl"], rel=1e-12)
    assert t["elbo"] == pytest.approx(t["recon"] - t["kl"], rel=1e-12)


def test_fit_warms_up_and_records_every_term():
    rng = np.random.default_rng(0)
    x, _ = vae_lib.patterns(100, rng)
    config = HVAEConfig(**{**SMALL, "input_dim": 16, "kl_warmup_epochs": 3})
    model = HVAE(config, rng)
    history = vae_lib.fit(model, x, epochs=4, batch_size=20, rng=rng, progress=False)
    assert set(history.terms) == {"objective", "elbo", "recon", "kl", "kl1", "kl2"}
    gap = np.array(history["elbo"]) - np.array(history["objective"])
    # objective = recon - w·KL and elbo = recon - KL: they differ by (w - 1)·KL, 0 at the end
    w = np.array([1 / 3, 2 / 3, 1.0, 1.0])
    np.testing.assert_allclose(gap, (w - 1) * np.array(history["kl"]), atol=1e-4)


def test_elbo_terms_add_up_and_match_the_importance_weights():
    model = small()
    x = data(4)
    terms = model.elbo(x, np.random.default_rng(0), n_samples=20_000)
    np.testing.assert_allclose(terms.kl, terms.kl1 + terms.kl2)
    np.testing.assert_allclose(terms.elbo, terms.recon - terms.kl)
    _, _, mu2, logvar2 = model.bottom_up(x)
    np.testing.assert_allclose(terms.kl2, vae_lib.kl_standard_normal(mu2, logvar2), rtol=1e-12)
    assert np.all(terms.kl1 > 0) and np.all(terms.kl2 > 0)
    log_w = model.log_weights(x, 20_000, np.random.default_rng(1))
    se = np.sqrt(2) * log_w.std(axis=0) / np.sqrt(len(log_w))
    assert np.all(np.abs(log_w.mean(axis=0) - terms.elbo) < 4 * se)
    # L_K rises with K above the ELBO
    lk = [
        vae_lib.log_mean_exp(log_w[: (20_000 // k) * k].reshape(-1, k, 4), axis=1).mean(0)
        for k in (1, 10, 100)
    ]
    assert np.all(lk[0] < lk[1]) and np.all(lk[1] < lk[2])


def test_posterior_means_per_layer():
    model = small()
    x = data(4)
    mean1, mean2 = model.posterior_means(x, np.random.default_rng(0), n_samples=4000)
    _, _, mu2, logvar2 = model.bottom_up(x)
    np.testing.assert_allclose(mean2, mu2, rtol=1e-12)
    # E_q[z1 | x] by brute force: the mean of many draws of z1 down the ladder
    rng = np.random.default_rng(1)
    z1s = []
    for _ in range(4000):
        noise = rng.standard_normal((4, 5))
        mu1_hat, logvar1_hat, mu2, logvar2 = model.bottom_up(x)
        z2 = mu2 + np.exp(0.5 * logvar2) * noise[:, 3:]
        mu1, logvar1 = precision_weighted_merge(mu1_hat, logvar1_hat, *model.prior_params(z2))
        z1s.append(mu1 + np.exp(0.5 * logvar1) * noise[:, :3])
    z1s = np.array(z1s)
    se = z1s.std(axis=0) / np.sqrt(len(z1s))
    assert np.all(np.abs(z1s.mean(axis=0) - mean1) < 5 * se)


def test_ancestral_sampling_and_generate():
    model = small()
    z1, z2, mean = model.sample_layers(7, np.random.default_rng(4))
    z1_only, mean_only = model.sample(7, np.random.default_rng(4))
    assert np.array_equal(z1_only, z1) and np.array_equal(mean_only, mean)
    assert z1.shape == (7, 3) and z2.shape == (7, 2) and mean.shape == (7, 6)
    assert np.all((mean > 0) & (mean < 1))
    rng = np.random.default_rng(4)
    z2_again = rng.standard_normal((7, 2))
    eps1 = rng.standard_normal((7, 3))
    z1_again, mean_again = model.generate(z2_again, eps1)
    np.testing.assert_array_equal(z2, z2_again)
    np.testing.assert_allclose(z1, z1_again, rtol=1e-12)
    np.testing.assert_allclose(mean, mean_again, rtol=1e-12)
    mu_p, logvar_p = model.prior_params(z2)
    np.testing.assert_allclose(z1, mu_p + np.exp(0.5 * logvar_p) * eps1, rtol=1e-12)
    with pytest.raises(ValueError, match=r"eps1 must have shape \(7, 3\)"):
        model.generate(z2, np.zeros((7, 2)))
    with pytest.raises(ValueError, match=r"z2 must have shape \(N, 2\)"):
        model.generate(np.zeros((7, 3)), eps1)


def test_reconstruction_decodes_the_centre_of_the_posterior():
    model = small()
    x = data(3)
    mu1_hat, logvar1_hat, mu2, _ = model.bottom_up(x)
    mu1, _ = precision_weighted_merge(mu1_hat, logvar1_hat, *model.prior_params(mu2))
    np.testing.assert_allclose(model.reconstruct(x), model.decode_mean(mu1), rtol=1e-12)


def test_config_checks_and_what_the_model_refuses():
    with pytest.raises(TypeError, match="unexpected keyword argument 'free_bits'"):
        HVAEConfig(free_bits=0.5)
    with pytest.raises(ValueError, match="top_latent_dim must be at least 1"):
        HVAEConfig(top_latent_dim=0)
    with pytest.raises(ValueError, match="top_hidden_dims must each name at least one"):
        HVAEConfig(top_hidden_dims=())
    model = small()
    with pytest.raises(ValueError, match="2 layers of code: take active_coordinates of each"):
        vae_lib.active_units(model, data(), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="log_joint_pairs"):
        vae_lib.vae_log_marginal_grid(model, data(1))
    assert HVAE.param_shapes(model.config)["prior.0.W"] == (2, 4)


# ----------------------------------------------------------------------------- bottom-up
def bottom_up(seed=0, **changes):
    config = vae_lib.BottomUpHVAEConfig(**{**SMALL, "dtype": "float64", **changes})
    return vae_lib.BottomUpHVAE(config, np.random.default_rng(seed))


def test_bottom_up_shares_the_generative_model_and_feeds_z1_to_the_top_encoder():
    ladder, up = (
        HVAE.param_shapes(small().config),
        vae_lib.BottomUpHVAE.param_shapes(bottom_up().config),
    )
    assert list(ladder) == list(up)
    differ = {name for name in ladder if ladder[name] != up[name]}
    assert differ == {"top_encoder.0.W"}  # the top encoder reads K1 = 3 codes, not d1's 5 units
    assert ladder["top_encoder.0.W"] == (5, 4) and up["top_encoder.0.W"] == (3, 4)


def test_bottom_up_elbo_is_the_mean_log_weight_and_its_shares_add_up():
    """E[log w] is the ELBO, so the mean of many log-weights (log q sampled) must agree with
    elbo() (q(z1 | x)'s entropy in closed form, KL2 closed form given z1)."""
    model = bottom_up()
    x = data(4)
    terms = model.elbo(x, np.random.default_rng(0), n_samples=20_000)
    np.testing.assert_allclose(terms.kl, terms.kl1 + terms.kl2)
    np.testing.assert_allclose(terms.elbo, terms.recon - terms.kl)
    log_w = model.log_weights(x, 20_000, np.random.default_rng(1))
    se = np.sqrt(2) * log_w.std(axis=0) / np.sqrt(len(log_w))
    assert np.all(np.abs(log_w.mean(axis=0) - terms.elbo) < 4 * se)
    assert np.all(terms.kl2 > 0)


def test_bottom_up_kl_shares_by_brute_force():
    """KL1 = E[log q(z1 | x) - log p(z1 | z2)] and KL2 = E[KL(q(z2 | z1) ‖ N(0, I))], from
    draws made here with the public pieces only."""
    model = bottom_up(seed=3)
    x = data(3, seed=4)
    mu1, logvar1 = model.encode(x)
    rng = np.random.default_rng(5)
    kl1, kl2 = [], []
    for _ in range(20_000):
        z1 = mu1 + np.exp(0.5 * logvar1) * rng.standard_normal(mu1.shape)
        mu2, logvar2 = model.top_posterior(z1)
        z2 = mu2 + np.exp(0.5 * logvar2) * rng.standard_normal(mu2.shape)
        kl1.append(
            vae_lib.gaussian_log_density(z1, mu1, logvar1)
            - vae_lib.gaussian_log_density(z1, *model.prior_params(z2))
        )
        kl2.append(vae_lib.kl_standard_normal(mu2, logvar2))
    terms = model.elbo(x, np.random.default_rng(6), n_samples=20_000)
    for brute, share in ((np.array(kl1), terms.kl1), (np.array(kl2), terms.kl2)):
        se = brute.std(axis=0) / np.sqrt(len(brute))
        assert np.all(np.abs(brute.mean(axis=0) - share) < 5 * np.sqrt(2) * se)


def test_bottom_up_posterior_means_and_reconstruction():
    model = bottom_up()
    x = data(4)
    mean1, mean2 = model.posterior_means(x, np.random.default_rng(0), n_samples=4000)
    mu1, logvar1 = model.encode(x)
    np.testing.assert_allclose(mean1, mu1, rtol=1e-12)  # q(z1 | x) depends on nothing else
    rng = np.random.default_rng(1)
    draws = np.array(
        [
            model.top_posterior(mu1 + np.exp(0.5 * logvar1) * rng.standard_normal(mu1.shape))[0]
            for _ in range(4000)
        ]
    )
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - mean2) < 5 * np.sqrt(2) * se)
    np.testing.assert_array_equal(model.reconstruct(x), model.decode_mean(mu1))


def test_bottom_up_gradient_with_warm_up_and_beta():
    model = bottom_up(beta=0.7, kl_warmup_epochs=4)
    model.start_epoch(1)
    x = data(5)
    check_model_gradients(model, x, np.random.default_rng(2), entrywise=True)
    terms = model.loss_and_grads(x, model.draw_noise(x, np.random.default_rng(3))).terms
    assert terms["objective"] > terms["elbo"]  # c = 0.7 · 2/4 < 1 weighs the KL less


def test_bottom_up_top_posterior_names_a_wrong_shape():
    with pytest.raises(ValueError, match="z1"):
        bottom_up().top_posterior(np.zeros((2, 5)))
