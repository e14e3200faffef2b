import numpy as np
import pytest

from vae_lib import VAE, VAEConfig, importance_weighted_bound
from vae_lib.evaluation.quadrature import (
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
