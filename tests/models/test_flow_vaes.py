"""What the flow VAEs add to the conformance suite: the AF prior is a normalized density whose
samples map back to standard normal noise, each log-weight is log p(x, code) - log q(code | x),
and an AF-prior VAE is an IAF-posterior VAE seen from the other side of its flow, draw by
draw."""

import numpy as np
import pytest

from vae_lib import AFPriorConfig, AFPriorVAE, IAFPosteriorConfig, IAFPosteriorVAE, fit
from vae_lib.core.numerics import logsumexp, trapezoid_grid
from vae_lib.models.flows import as_iaf_posterior


def config(cls=AFPriorConfig, latent_dim=3, **kw):
    return cls(
        input_dim=6,
        hidden_dims=(5,),
        latent_dim=latent_dim,
        flow_hidden_dims=(8,),
        **kw,
        dtype="float64",
    )


def trained(cls, cfg, seed=0):
    """A model trained a little, so that its flow is not near the identity."""
    rng = np.random.default_rng(seed)
    model = cls(cfg, rng)
    x = rng.uniform(size=(40, cfg.input_dim)) < 0.3
    fit(model, x.astype(float), epochs=5, batch_size=10, lr=1e-2, rng=rng, progress=False)
    return model


def test_the_af_prior_is_a_normalized_density():
    model = trained(AFPriorVAE, config(latent_dim=2))
    z, log_w = trapezoid_grid(12.0, 601)
    grid = np.stack(np.meshgrid(z, z, indexing="ij"), axis=-1).reshape(-1, 2)
    log_mass = logsumexp(model.log_prior(grid) + (log_w[:, None] + log_w[None, :]).ravel())
    assert log_mass == pytest.approx(0.0, abs=1e-4)


def test_af_prior_samples_map_to_standard_normal_noise():
    model = trained(AFPriorVAE, config())
    z, images = model.sample(2000, np.random.default_rng(4))
    u, _ = model.flow.forward(z)
    assert abs(u.mean()) < 0.1 and abs(u.std() - 1.0) < 0.05
    assert images.shape == (2000, 6) and np.all((images > 0) & (images < 1))


def test_an_af_prior_vae_is_an_iaf_posterior_vae_with_the_decoder_behind_the_flow():
    model = trained(AFPriorVAE, config())
    twin = as_iaf_posterior(model)
    assert isinstance(twin, IAFPosteriorVAE)
    x = (np.random.default_rng(5).uniform(size=(7, 6)) < 0.4).astype(float)
    log_w = model.log_weights(x, 30, np.random.default_rng(6))
    log_w_twin = twin.log_weights(x, 30, np.random.default_rng(6))  # the same draws η
    np.testing.assert_allclose(log_w_twin, log_w, rtol=0, atol=1e-10)
    a, b = model.elbo(x, np.random.default_rng(7), 30), twin.elbo(x, np.random.default_rng(7), 30)
    np.testing.assert_allclose(b.kl, a.kl, atol=1e-10)  # the same code length, too
    with pytest.raises(TypeError, match="model must be an AFPriorVAE"):
        as_iaf_posterior(twin)


def test_each_log_weight_is_log_p_of_x_and_code_minus_log_q_of_the_code():
    af = trained(AFPriorVAE, config())
    iaf = IAFPosteriorVAE(config(IAFPosteriorConfig), np.random.default_rng(0))
    for p, q in zip(af.params, iaf.params):
        q[...] = p
    x = (np.random.default_rng(8).uniform(size=(4, 6)) < 0.4).astype(float)
    mu, logvar = af.encode(x)
    eps = np.random.default_rng(9).standard_normal(mu.shape)  # the draw log_weights makes
    z0 = mu + np.exp(0.5 * logvar) * eps
    u, s = af.flow.forward(z0)
    log_q0 = -0.5 * np.sum(np.log(2 * np.pi) + logvar + eps**2, axis=1)
    # AF prior: the code is z0; log p(x, z0) uses the flow prior, q is the Gaussian
    expected_af = af.log_joint_pairs(x, z0).diagonal() - log_q0
    # IAF posterior: the code is u = f(z0); log p(x, u) uses N(0, I), log q(u|x) adds Σ s
    expected_iaf = iaf.log_joint_pairs(x, u).diagonal() - (log_q0 + s.sum(axis=1))
    for model, expected in ((af, expected_af), (iaf, expected_iaf)):
        log_w = model.log_weights(x, 1, np.random.default_rng(9))[0]
        np.testing.assert_allclose(log_w, expected, atol=1e-10)


def test_a_flow_vae_trains_on_the_elbo_only():
    # its config has no field for β, warm-up or free bits, so none can be set and ignored
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        config(beta=2.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'free_bits'"):
        config(IAFPosteriorConfig, free_bits=0.5)
    with pytest.raises(
        ValueError, match=r"unknown AFPriorConfig field\(s\) \['kl_warmup_epochs'\]"
    ):
        AFPriorConfig.from_dict({**config().to_dict(), "kl_warmup_epochs": 3})
    with pytest.raises(ValueError, match="flow_hidden_dims must list"):
        AFPriorConfig(flow_hidden_dims=())


def test_the_iaf_view_is_for_evaluation_only():
    config = AFPriorConfig(input_dim=6, hidden_dims=(4,), latent_dim=2, flow_hidden_dims=(3,))
    view = as_iaf_posterior(AFPriorVAE(config, np.random.default_rng(0)))
    x = np.random.default_rng(1).uniform(size=(3, 6))
    with pytest.raises(NotImplementedError, match="for evaluation only"):
        view.loss_and_grads(x, view.draw_noise(x, np.random.default_rng(2)))


def test_the_af_prior_log_density_stays_finite_far_from_the_mode():
    """At z = 1e30 the log-density is about -1.5e60: beyond float32, within float64."""
    import warnings

    model = AFPriorVAE(
        AFPriorConfig(input_dim=6, hidden_dims=(5,), latent_dim=3, flow_hidden_dims=(4,)),
        np.random.default_rng(0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        log_p = model.log_prior(np.full((2, 3), 1e30, dtype=np.float32))
    assert log_p.dtype == np.float64 and np.all(np.isfinite(log_p)) and np.all(log_p < -1e59)
