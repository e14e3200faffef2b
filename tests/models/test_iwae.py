"""What is the IWAE's own: the bound it trains on, and that bound rising with K."""

import numpy as np
import pytest

import vae_lib
from vae_lib import IWAE, VAE, IWAEConfig, VAEConfig
from vae_lib.core.numerics import log_mean_exp


def test_the_training_bound_is_the_log_mean_of_the_importance_weights():
    rng = np.random.default_rng(0)
    model = IWAE(IWAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=2, n_samples=4), rng)
    x = rng.uniform(size=(3, 6)).astype(np.float32)
    eps = model.draw_noise(x, rng)  # (K, N, latent)
    result = model.loss_and_grads(x, eps)
    # log w from the public pieces, one sample at a time
    mu, logvar = model.encode(x)
    log_w = []
    for e in eps:
        z = mu + np.exp(0.5 * logvar) * e
        log_w.append(
            vae_lib.bernoulli_log_likelihood(x, model.decode(z))
            + vae_lib.standard_normal_log_density(z)
            - vae_lib.gaussian_log_density(z, mu, logvar)
        )
    log_w = np.array(log_w)
    assert result.terms["bound"] == pytest.approx(log_mean_exp(log_w, axis=0).mean(), abs=1e-4)
    assert result.terms["elbo"] == pytest.approx(log_w.mean(), abs=1e-4)
    assert result.loss == -result.terms["bound"]


def test_with_one_sample_the_step_is_a_vae_step_with_a_sampled_kl():
    """At K = 1 both gradients have the same expectation; on one batch they differ only by
    the KL term's sampling, so their reconstruction paths agree where that term is absent."""
    rng = np.random.default_rng(1)
    config = dict(input_dim=6, hidden_dims=(5,), latent_dim=2, dtype="float64")
    iwae = IWAE(IWAEConfig(**config, n_samples=1), np.random.default_rng(2))
    vae = VAE(VAEConfig(**config), np.random.default_rng(2))
    x = rng.uniform(size=(4, 6))
    eps = rng.standard_normal((1, 4, 2))
    iwae.loss_and_grads(x, eps)
    vae.loss_and_grads(x, eps[0])
    decoder = slice(len(iwae.networks["encoder"].params), None)
    # the decoder sees the same z and the same likelihood in both: identical gradients
    for a, b in zip(iwae.grads[decoder], vae.grads[decoder]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_bound_rises_with_k_on_a_trained_model():
    rng = np.random.default_rng(0)
    x, _ = vae_lib.patterns(300, rng)
    model = IWAE(IWAEConfig(n_samples=5), rng)
    vae_lib.fit(model, x, epochs=20, batch_size=20, lr=3e-3, rng=rng, progress=False)
    bounds = {
        k: vae_lib.importance_weighted_bound(model, x, k, np.random.default_rng(k)).mean()
        for k in (1, 5, 50)
    }
    assert bounds[1] < bounds[5] < bounds[50]


def test_beta_is_refused():
    with pytest.raises(ValueError, match="has no β: beta must be 1"):
        IWAEConfig(beta=2.0)
    with pytest.raises(ValueError, match="n_samples must be at least 1"):
        IWAEConfig(n_samples=0)


@pytest.mark.parametrize("field", [{"kl_warmup_epochs": 2}, {"free_bits": 0.5}])
def test_kl_schedules_are_refused(field):
    with pytest.raises(ValueError, match="no KL term to warm up or exempt"):
        IWAEConfig(**field)
