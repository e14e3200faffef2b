"""What is the IWAE's own: the bound it trains on, and that bound rising with K."""

import numpy as np
import pytest

import vae_lib
from vae_lib import IWAE, VAE, IWAEConfig, VAEConfig
from vae_lib.core.numerics import log_mean_exp
from vae_lib.testing import assert_gradient


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
    # the config has no field for β: it cannot be set and then ignored
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        IWAEConfig(beta=2.0)
    with pytest.raises(ValueError, match="n_samples must be at least 1"):
        IWAEConfig(n_samples=0)


@pytest.mark.parametrize("field", [{"kl_warmup_epochs": 2}, {"free_bits": 0.5}])
def test_kl_schedules_are_refused(field):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{next(iter(field))}'"):
        IWAEConfig(**field)


# ---------------------------------------------------------------------- DReG
DREG_SMALL = dict(input_dim=6, hidden_dims=(5,), latent_dim=2, n_samples=4, dtype="float64")


def _pair(seed=0, **config):
    """An IWAE and a DReG-trained IWAE with the same weights."""
    config = {**DREG_SMALL, **config}
    iwae = IWAE(IWAEConfig(**config), np.random.default_rng(seed))
    dreg = IWAE(IWAEConfig(**config, gradient="dreg"), np.random.default_rng(seed))
    return iwae, dreg


def _encoder_and_decoder(model):
    n_enc = len(model.networks["encoder"].params)
    return [g.copy() for g in model.grads[:n_enc]], [g.copy() for g in model.grads[n_enc:]]


def test_dreg_has_the_iwae_loss_and_decoder_gradient_but_another_encoder_gradient():
    iwae, dreg = _pair()
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(5, 6))
    eps = iwae.draw_noise(x, rng)
    a, b = iwae.loss_and_grads(x, eps), dreg.loss_and_grads(x, eps)
    assert a == b  # the same bound, the same terms
    enc_a, dec_a = _encoder_and_decoder(iwae)
    enc_b, dec_b = _encoder_and_decoder(dreg)
    for g, h in zip(dec_a, dec_b):
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)
    assert max(np.max(np.abs(g - h)) for g, h in zip(enc_a, enc_b)) > 1e-3


def test_dreg_encoder_gradient_is_the_derivative_of_its_surrogate():
    r"""With the noise fixed, DReG's encoder gradient is ∇φ of the surrogate

    .. math:: S(\phi) = -\frac1N \sum_n \sum_k \operatorname{stop}(\tilde w_{kn}^2)
              \big[\log p(x_n, z_{kn}(\phi)) - \log q(z_{kn}(\phi) \mid x_n; \bar\phi)\big]

    where z_kn(φ) = μ_φ(x_n) + σ_φ(x_n) ε_kn, and the weights w̃ and the q in log q (φ̄) are
    frozen at the point of the check. Checked entrywise by central differences in float64.
    """
    _, model = _pair(seed=3)
    rng = np.random.default_rng(4)
    x = rng.uniform(size=(3, 6))
    eps = model.draw_noise(x, rng)  # (K, N, latent)
    model.loss_and_grads(x, eps)
    encoder_grads, _ = _encoder_and_decoder(model)

    mu0, logvar0 = model.encode(x)  # φ̄, frozen
    log_w0 = np.array(
        [
            vae_lib.bernoulli_log_likelihood(x, model.decode(z))
            + vae_lib.standard_normal_log_density(z)
            - vae_lib.gaussian_log_density(z, mu0, logvar0)
            for z in mu0 + np.exp(0.5 * logvar0) * eps
        ]
    )
    w_tilde = np.exp(log_w0 - vae_lib.logsumexp(log_w0, axis=0))  # (K, N), frozen

    def surrogate():
        mu, logvar = model.encode(x)
        z = mu + np.exp(0.5 * logvar) * eps  # (K, N, latent), through the current φ
        log_w = np.array(
            [
                vae_lib.bernoulli_log_likelihood(x, model.decode(zk))
                + vae_lib.standard_normal_log_density(zk)
                - vae_lib.gaussian_log_density(zk, mu0, logvar0)
                for zk in z
            ]
        )
        return -float(np.sum(w_tilde**2 * log_w)) / len(x)

    for p, g in zip(model.networks["encoder"].params, encoder_grads):
        assert_gradient(g, surrogate, p, "the DReG surrogate")


def test_dreg_and_iwae_encoder_gradients_have_the_same_expectation():
    """Both are unbiased for ∇φ L_K: over many draws of the noise, the mean of their paired
    difference is zero within its standard error, entry by entry.

    A batch of R copies of the same images is the mean of R independent draws of the
    gradient (the loss is a batch mean and each copy has its own noise), so each call gives
    the mean of R draws, and the spread of those means gives the standard error.
    """
    iwae, dreg = _pair(seed=5, n_samples=3)
    rng = np.random.default_rng(6)
    x = np.tile(rng.uniform(size=(2, 6)), (1000, 1))  # R = 1000 copies of 2 images
    calls = 1000  # a million draws of the noise per image in all
    diffs, iwae_means = [], []
    for _ in range(calls):
        eps = iwae.draw_noise(x, rng)
        iwae.loss_and_grads(x, eps)
        dreg.loss_and_grads(x, eps)
        a = np.concatenate([g.ravel() for g in _encoder_and_decoder(iwae)[0]])
        b = np.concatenate([g.ravel() for g in _encoder_and_decoder(dreg)[0]])
        diffs.append(b - a)
        iwae_means.append(a)
    diffs, grad = np.array(diffs), np.mean(iwae_means, axis=0)
    se = diffs.std(axis=0, ddof=1) / np.sqrt(calls)
    used = se > 0  # a ReLU unit that is off for both images gets no gradient
    assert used.sum() > 25
    z_scores = np.abs(diffs.mean(axis=0)[used]) / se[used]
    assert np.max(z_scores) < 4.5, np.max(z_scores)
    # the check has power: a bias of a tenth of a typical gradient entry would show
    assert np.median(se[used]) < 0.02 * np.median(np.abs(grad[used]))


def test_dreg_trains_and_its_bound_rises_like_the_iwae_s():
    rng = np.random.default_rng(0)
    x, _ = vae_lib.patterns(200, rng)
    model = IWAE(IWAEConfig(input_dim=16, n_samples=5, gradient="dreg"), rng)
    history = vae_lib.fit(model, x, epochs=20, batch_size=20, lr=3e-3, rng=rng, progress=False)
    assert history["bound"][-1] > history["bound"][0] + 2.0


def test_an_unknown_gradient_is_refused():
    with pytest.raises(ValueError, match=r"gradient must be one of \('iwae', 'dreg'\); got 'x'"):
        IWAEConfig(gradient="x")


def test_the_backward_pass_gets_no_subnormal_numbers():
    """Weights too small to count are dropped before they reach the decoder's backward
    pass, where float32 subnormals (below 1.2e-38) would slow every product many times."""
    rng = np.random.default_rng(0)
    model = IWAE(IWAEConfig(input_dim=784, hidden_dims=(32,), latent_dim=8, n_samples=50), rng)
    x = (rng.uniform(size=(20, 784)) < 0.3).astype(np.float32)
    eps = 8.0 * model.draw_noise(x, rng)  # codes far apart: weights over hundreds of decades
    received, backward = [], model.decoder.backward
    model.decoder.backward = lambda dy, **kw: received.append(dy.copy()) or backward(dy, **kw)
    model.loss_and_grads(x, eps)
    (d_out,) = received
    magnitude = np.abs(d_out)
    assert not np.any((magnitude > 0) & (magnitude < np.finfo(np.float32).tiny))
    # most samples' weights are below ε² here, and their gradients exactly 0
    assert np.mean(np.all(d_out.reshape(50, 20, 784) == 0, axis=-1)) > 0.5
