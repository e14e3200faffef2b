import numpy as np
import pytest

import vae_lib
from vae_lib import VAE, VAEConfig, importance_weighted_bound
from vae_lib.evaluation.quadrature import (
    best_gaussian_grid,
    gaussian_elbo_grid,
    latent_grid,
    vae_log_joint_grid,
    vae_log_marginal_grid,
    vae_posterior_grid,
)


def small_vae(latent_dim, seed=0):
    config = VAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=latent_dim, dtype="float64")
    return VAE(config, np.random.default_rng(seed))


@pytest.mark.parametrize("k", [1, 2])
def test_grid_weights_measure_the_box(k):
    axis, z, log_w = latent_grid(k, limit=3.0, n=31)
    assert axis.shape == (31,) and z.shape == (31**k, k) and log_w.shape == (31**k,)
    assert np.exp(log_w).sum() == pytest.approx(6.0**k)
    if k == 2:  # the last coordinate varies fastest
        np.testing.assert_array_equal(z[:2], [[-3.0, -3.0], [-3.0, -2.8]])


@pytest.mark.parametrize("k", [1, 2])
def test_decoder_that_ignores_z_gives_log_p_x_given_z(k):
    # with p(x|z) the same for every z, p(x) = p(x|z): only the prior is integrated
    model = small_vae(k)
    last = model.decoder.layers[-1]
    last.W[...] = 0.0
    x = np.random.default_rng(1).uniform(size=(4, 6))
    exact = x @ last.b - np.logaddexp(0, last.b).sum()
    np.testing.assert_allclose(vae_log_marginal_grid(model, x), exact, atol=1e-8)


@pytest.mark.parametrize("k", [1, 2])
def test_quadrature_agrees_with_monte_carlo(k):
    model = small_vae(k, seed=3)
    x = np.random.default_rng(2).uniform(size=(5, 6))
    exact = vae_log_marginal_grid(model, x)
    # p(x) = E_{p(z)}[p(x|z)], by plain Monte Carlo over the prior
    z = np.random.default_rng(1).standard_normal((200_000, k))
    logits = model.decode(z)
    lik = np.exp(x @ logits.T - np.logaddexp(0, logits).sum(1))  # (5, M)
    mean, stderr = lik.mean(1), lik.std(1) / np.sqrt(lik.shape[1])
    assert np.all(np.abs(mean - np.exp(exact)) < 4 * stderr)
    # and importance sampling through the (untrained) encoder comes close
    iw = importance_weighted_bound(model, x, 5000, np.random.default_rng(0))
    np.testing.assert_allclose(iw, exact, atol=0.02)


def test_converged_in_grid_size_and_batches():
    model = small_vae(2, seed=4)
    x = np.random.default_rng(5).uniform(size=(9, 6))
    a = vae_log_marginal_grid(model, x, n=151)
    np.testing.assert_allclose(vae_log_marginal_grid(model, x, n=301), a, atol=1e-5)
    np.testing.assert_allclose(vae_log_marginal_grid(model, x, n=151, batch_size=2), a)


@pytest.mark.parametrize("k", [1, 2])
def test_posterior_is_normalized(k):
    model = small_vae(k, seed=6)
    x = np.random.default_rng(7).uniform(size=(3, 6))
    axis, density = vae_posterior_grid(model, x, n=101)
    assert density.shape == (3,) + (101,) * k
    mass = density
    for _ in range(k):
        mass = np.trapezoid(mass, axis, axis=-1)
    np.testing.assert_allclose(mass, 1.0, atol=1e-12)
    _, log_joint, _ = vae_log_joint_grid(model, x, n=101)
    assert log_joint.shape == (3, 101**k)


def test_bad_input():
    with pytest.raises(ValueError, match="latent of 1 or 2 dimensions; got latent_dim=3"):
        vae_log_marginal_grid(small_vae(3), np.zeros((1, 6)))
    with pytest.raises(TypeError, match="quadrature needs a model with log_joint_pairs"):
        vae_log_marginal_grid("vae", np.zeros((1, 6)))
    with pytest.raises(ValueError, match="n must be at least 3"):
        vae_posterior_grid(small_vae(2), np.zeros((1, 6)), n=2)
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        vae_log_marginal_grid(small_vae(2), np.full((1, 6), 2.0))
    with pytest.raises(ValueError, match="latent_dim must be 1 or 2"):
        latent_grid(3)


# ----------------------------------------------------------------------------- best Gaussian
def gaussian_log_joint(axis, centre, scale, log_evidence):
    """log p(x, z) = log p(x) + log N(z; centre, diag scale²) on the grid, for one example:
    its posterior is that Gaussian, so the best Gaussian closes the gap exactly."""
    k = len(centre)
    mesh = np.stack([m.ravel() for m in np.meshgrid(*([axis] * k), indexing="ij")], -1)
    log_density = -0.5 * np.sum(
        np.log(2 * np.pi * scale**2) + ((mesh - centre) / scale) ** 2, axis=1
    )
    return (log_evidence + log_density)[None]


@pytest.mark.parametrize("k", [1, 2])
def test_gaussian_elbo_grid_gradient_matches_finite_differences(k):
    rng = np.random.default_rng(k)
    axis = np.linspace(-6, 6, 121)
    log_joint = rng.normal(size=(3, 121**k)).cumsum(axis=1) * 0.01  # any smooth-ish function
    mu, logvar = rng.normal(size=(3, k)), rng.normal(-1, 0.3, size=(3, k))
    _, d_mu, d_logvar = gaussian_elbo_grid(log_joint, axis, mu, logvar)
    for param, grad in ((mu, d_mu), (logvar, d_logvar)):
        for idx in np.ndindex(param.shape):
            old, h = param[idx], 1e-6
            param[idx] = old + h
            up = gaussian_elbo_grid(log_joint, axis, mu, logvar)[0][idx[0]]
            param[idx] = old - h
            down = gaussian_elbo_grid(log_joint, axis, mu, logvar)[0][idx[0]]
            param[idx] = old
            assert grad[idx] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("k", [1, 2])
def test_best_gaussian_finds_a_gaussian_posterior_and_closes_the_gap(k):
    axis = np.linspace(-6, 6, 241)
    centre, scale = np.array([0.7, -1.2])[:k], np.array([0.4, 0.25])[:k]
    log_joint = gaussian_log_joint(axis, centre, scale, log_evidence=-3.0)
    elbo, _, _ = gaussian_elbo_grid(log_joint, axis, centre[None], 2 * np.log(scale)[None])
    assert elbo[0] == pytest.approx(-3.0, abs=1e-6)  # q = posterior: the ELBO is log p(x)
    mu, logvar, best = best_gaussian_grid(
        log_joint, axis, np.zeros((1, k)), np.zeros((1, k)), steps=1500, lr=0.02
    )
    np.testing.assert_allclose(mu[0], centre, atol=1e-3)
    np.testing.assert_allclose(np.exp(0.5 * logvar[0]), scale, atol=1e-3)
    assert best[0] == pytest.approx(-3.0, abs=1e-5)


def test_the_best_gaussian_sits_between_the_encoder_and_the_evidence():
    rng = np.random.default_rng(0)
    x, _ = vae_lib.patterns(60, rng)
    model = vae_lib.VAE(vae_lib.VAEConfig(input_dim=16, hidden_dims=(16,), latent_dim=2), rng)
    vae_lib.fit(model, x, epochs=40, batch_size=20, lr=3e-3, rng=rng, progress=False)
    axis, log_joint, _ = vae_log_joint_grid(model, x[:8])
    mu, logvar = model.encode(x[:8])
    encoder_elbo, _, _ = gaussian_elbo_grid(log_joint, axis, mu, logvar)
    # the grid's ELBO of the encoder's q agrees with the model's own Monte Carlo estimate
    mc = model.elbo(x[:8], rng, n_samples=20000).elbo
    np.testing.assert_allclose(encoder_elbo, mc, atol=0.05)
    _, _, best = best_gaussian_grid(log_joint, axis, mu, logvar, steps=400)
    evidence = vae_log_marginal_grid(model, x[:8])
    assert np.all(encoder_elbo <= best + 1e-9) and np.all(best <= evidence)


def test_gaussian_elbo_grid_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="expected mu and logvar of shape"):
        gaussian_elbo_grid(
            np.zeros((2, 9)), np.linspace(-1, 1, 3), np.zeros((2, 3)), np.zeros((2, 3))
        )
