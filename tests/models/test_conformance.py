"""The same tests for every registered model: a new model gets them by registering.

Each model needs a small float64 config here (``SMALL``); the first test fails for a model
registered without one, so none can skip the suite.
"""

import dataclasses

import numpy as np
import pytest

import vae_lib
from vae_lib import MODELS, fit, load_model, save_model
from vae_lib.testing import check_model_gradients

SMALL = {
    "af_prior_vae": vae_lib.AFPriorConfig(
        input_dim=6, hidden_dims=(5,), latent_dim=3, flow_hidden_dims=(4,), dtype="float64"
    ),
    "iaf_posterior_vae": vae_lib.IAFPosteriorConfig(
        input_dim=6, hidden_dims=(5,), latent_dim=3, flow_hidden_dims=(4,), dtype="float64"
    ),
    "vae": vae_lib.VAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=2, dtype="float64"),
    "iwae": vae_lib.IWAEConfig(
        input_dim=6, hidden_dims=(5,), latent_dim=2, n_samples=3, dtype="float64"
    ),
    "cvae": vae_lib.CVAEConfig(
        input_dim=6, hidden_dims=(5,), latent_dim=2, n_classes=4, dtype="float64"
    ),
    "hvae": vae_lib.HVAEConfig(
        input_dim=6,
        hidden_dims=(5,),
        latent_dim=3,
        top_latent_dim=2,
        top_hidden_dims=(4,),
        dtype="float64",
    ),
    "bottom_up_hvae": vae_lib.BottomUpHVAEConfig(
        input_dim=6,
        hidden_dims=(5,),
        latent_dim=3,
        top_latent_dim=2,
        top_hidden_dims=(4,),
        dtype="float64",
    ),
    # a 1x6 row of pixels (the default shape of 6), each seeing the two before it
    "vlae": vae_lib.VLAEConfig(
        input_dim=6, hidden_dims=(5,), latent_dim=2, window=2, units_per_pixel=2, dtype="float64"
    ),
    "af_prior_vlae": vae_lib.AFPriorVLAEConfig(
        input_dim=6,
        hidden_dims=(5,),
        latent_dim=2,
        flow_hidden_dims=(3,),
        window="full",
        units_per_pixel=1,
        dtype="float64",
    ),
    "vqvae": vae_lib.VQVAEConfig(
        input_dim=6, hidden_dims=(5,), n_positions=3, code_dim=2, codebook_size=4, dtype="float64"
    ),
}
#: A config of about 10⁵ parameters, checked along random directions only.
LARGE = {
    "af_prior_vae": vae_lib.AFPriorConfig(
        input_dim=784, hidden_dims=(64,), latent_dim=8, flow_hidden_dims=(16,), dtype="float64"
    ),
    "iaf_posterior_vae": vae_lib.IAFPosteriorConfig(
        input_dim=784, hidden_dims=(64,), latent_dim=8, flow_hidden_dims=(16,), dtype="float64"
    ),
    "vqvae": vae_lib.VQVAEConfig(
        input_dim=784,
        hidden_dims=(64,),
        n_positions=8,
        code_dim=8,
        codebook_size=16,
        dtype="float64",
    ),
    "vae": vae_lib.VAEConfig(input_dim=784, hidden_dims=(64,), latent_dim=8, dtype="float64"),
    "iwae": vae_lib.IWAEConfig(
        input_dim=784, hidden_dims=(64,), latent_dim=8, n_samples=4, dtype="float64"
    ),
    "cvae": vae_lib.CVAEConfig(
        input_dim=784, hidden_dims=(64,), latent_dim=8, n_classes=4, dtype="float64"
    ),
    "vlae": vae_lib.VLAEConfig(
        input_dim=784, hidden_dims=(64,), latent_dim=8, window=3, dtype="float64"
    ),
    # without hidden units: a unit that reads a few binary pixels sits near its ReLU's kink
    # for some image, and a directional difference across 10⁵ parameters meets one; the
    # small cases check the hidden layer entry by entry
    "af_prior_vlae": vae_lib.AFPriorVLAEConfig(
        input_dim=784,
        hidden_dims=(64,),
        latent_dim=8,
        flow_hidden_dims=(16,),
        window=1,
        dtype="float64",
    ),
    "hvae": vae_lib.HVAEConfig(
        input_dim=784,
        hidden_dims=(64,),
        latent_dim=8,
        top_latent_dim=4,
        top_hidden_dims=(32,),
        dtype="float64",
    ),
    # Here a drawn z1 feeds the top encoder's ReLUs, and a step of 1e-5 along 10⁵ random
    # coordinates crosses a kink for some directions; tanh keeps the loss differentiable
    # (ReLU is checked entry by entry on the small config).
    "bottom_up_hvae": vae_lib.BottomUpHVAEConfig(
        input_dim=784,
        hidden_dims=(64,),
        latent_dim=8,
        top_latent_dim=4,
        top_hidden_dims=(32,),
        activation="tanh",
        dtype="float64",
    ),
}
NAMES = sorted(MODELS)
LIKELIHOODS = ("gaussian", "continuous_bernoulli")
#: Models whose likelihood the config chooses: each is also in the suite with every other
#: likelihood (the Gaussian with a learned σ), named "model+likelihood".
GREY = (
    "vae",
    "iwae",
    "cvae",
    "hvae",
    "bottom_up_hvae",
    "af_prior_vae",
    "iaf_posterior_vae",
    "vqvae",
)


def with_likelihood(config, likelihood):
    extra = {"decoder_std": 0.5, "learn_std": True} if likelihood == "gaussian" else {}
    return dataclasses.replace(config, likelihood=likelihood, **extra)


SMALL.update({f"{n}+{lik}": with_likelihood(SMALL[n], lik) for n in GREY for lik in LIKELIHOODS})
LARGE.update({f"vae+{lik}": with_likelihood(LARGE["vae"], lik) for lik in LIKELIHOODS})
CASES = sorted(SMALL)


def model_name(case):
    return case.split("+")[0]


def make(case, seed=0, configs=SMALL):
    return vae_lib.models.model_class_for(configs[case])(configs[case], np.random.default_rng(seed))


#: Models whose batch is more than images, and how each makes its batch from images x and a
#: Generator (the CVAE's is (x, y), labels in 0 ... n_classes - 1); the rest train on x itself.
BATCHES = {
    "cvae": lambda x, rng: (x, rng.integers(0, 4, size=len(x))),
}


def batch(name, x, seed=1):
    make_batch = BATCHES.get(model_name(name))
    return x if make_batch is None else make_batch(x, np.random.default_rng(seed))


def data(n=12, d=6, seed=1, name=None):
    return batch(name, np.random.default_rng(seed).uniform(size=(n, d)), seed)


def test_every_registered_model_is_in_the_suite():
    assert {model_name(case) for case in SMALL} == set(NAMES)
    assert {model_name(case) for case in LARGE} == set(NAMES)
    for case, config in SMALL.items():
        assert vae_lib.models.model_class_for(config).name == model_name(case)


@pytest.mark.parametrize("name", CASES)
def test_config_round_trips_and_names_the_model(name):
    config = SMALL[name]
    assert type(config).from_dict(config.to_dict()) == config
    assert vae_lib.models.model_class_for(config) is MODELS[model_name(name)]
    with pytest.raises(ValueError, match="unknown .*Config field"):
        type(config).from_dict({**config.to_dict(), "width": 3})


@pytest.mark.parametrize("name", CASES)
def test_param_shapes_are_known_before_the_model_is_built(name):
    model = make(name)
    shapes = MODELS[model_name(name)].param_shapes(SMALL[name])
    assert list(shapes) == model.param_names()
    assert list(shapes.values()) == [p.shape for p in model.params]


def gradient_target(model, batch):
    """What a gradient check differentiates: the model, or, for a model that trains on a
    gradient that is not the derivative of its loss (the VQ-VAE's straight-through estimator),
    the surrogate loss, with the choices it freezes fixed at ``batch``, whose exact derivative
    that gradient is (``model.gradient_surrogate(batch)``)."""
    surrogate = getattr(model, "gradient_surrogate", None)
    return model if surrogate is None else surrogate(batch)


@pytest.mark.parametrize("name", CASES)
def test_gradients_entrywise(name):
    model, x = make(name), data(5, name=name)
    check_model_gradients(gradient_target(model, x), x, np.random.default_rng(2), entrywise=True)


@pytest.mark.parametrize("name", sorted(LARGE))
def test_gradients_along_random_directions_of_a_large_model(name):
    model = make(name, configs=LARGE)
    assert model.num_params() > 100_000
    x = data(8, 784, name=name)
    check_model_gradients(gradient_target(model, x), x, np.random.default_rng(3), n_directions=4)


@pytest.mark.parametrize("name", CASES)
def test_save_load_round_trip_is_bit_exact(name, tmp_path):
    model = make(name)
    fit(
        model, data(name=name), epochs=2, batch_size=4, rng=np.random.default_rng(0), progress=False
    )
    loaded, extra = load_model(save_model(model, tmp_path / "m.npz", extra={"a": 1}))
    assert type(loaded) is type(model) and loaded.config == model.config and extra == {"a": 1}
    for p, q in zip(model.params, loaded.params):
        assert p.dtype == q.dtype and np.array_equal(p, q)
    x = data(4, name=name)
    noise = model.draw_noise(x, np.random.default_rng(5))
    assert model.loss_and_grads(x, noise) == loaded.loss_and_grads(x, noise)


@pytest.mark.parametrize("name", CASES)
def test_copy_is_equal_and_independent(name):
    model = make(name)
    twin = model.copy()
    for p, q in zip(model.params, twin.params):
        assert np.array_equal(p, q) and not np.shares_memory(p, q)
    twin.params[0][...] += 1.0
    assert not np.array_equal(model.params[0], twin.params[0])


@pytest.mark.parametrize("name", CASES)
def test_same_seed_same_numbers(name):
    def run():
        rng = np.random.default_rng(7)
        model = MODELS[model_name(name)](SMALL[name], rng)
        return model, fit(model, data(name=name), epochs=3, batch_size=5, rng=rng, progress=False)

    (m1, h1), (m2, h2) = run(), run()
    assert h1.loss == h2.loss and h1.terms == h2.terms
    for p, q in zip(m1.params, m2.params):
        assert np.array_equal(p, q)


@pytest.mark.parametrize(
    "size, name", [("small", c) for c in CASES] + [("large", c) for c in LARGE]
)
def test_gradients_outside_the_param_regions_are_zero(size, name):
    # the optimizer passes over the regions only (vae_lib.core.optim.Adam)
    configs = LARGE if size == "large" else SMALL
    model = make(name, configs=configs)
    regions = model.param_regions()
    assert len(regions) == len(model.params)
    x = data(d=configs[name].input_dim, name=name)
    model.forward_backward(x, model.draw_noise(x, np.random.default_rng(2)))
    for p, g, where in zip(model.params, model.grads, regions):
        reach = np.zeros(p.shape, dtype=bool)
        for index in [(Ellipsis,)] if where is None else where:
            reach[index] = True
        assert np.all(g[~reach] == 0)


@pytest.mark.parametrize("name", CASES)
def test_a_few_epochs_lower_the_loss(name):
    rng = np.random.default_rng(0)
    x, _ = vae_lib.patterns(200, rng)
    config = type(SMALL[name]).from_dict({**SMALL[name].to_dict(), "input_dim": 16})
    model = MODELS[model_name(name)](config, rng)
    history = fit(model, batch(name, x), epochs=30, batch_size=20, lr=3e-3, rng=rng, progress=False)
    assert np.mean(history.loss[-5:]) < history.loss[0] - 2.0  # nats per image
    assert set(history.terms) <= set(model.term_labels)  # every term recorded has a label


def repeat_rows(batch, copies):
    """``copies`` copies of a batch one after another: row r of the result is row r mod N."""
    if isinstance(batch, tuple):
        return tuple(repeat_rows(part, copies) for part in batch)
    return np.tile(batch, (copies,) + (1,) * (batch.ndim - 1))


@pytest.mark.parametrize("name", CASES)
def test_log_weights_at_k_1_average_to_the_elbo(name):
    n, k, copies = 3, 20_000, 100
    model = make(name)
    # k independent draws of each of n examples, made as k / copies draws of each of its
    # copies: the same statistics as k draws of the example, in a hundredth of the calls
    x = repeat_rows(data(n, name=name), copies)
    log_w = model.log_weights(x, k // copies, np.random.default_rng(4))
    assert log_w.shape == (k // copies, n * copies) and log_w.dtype == np.float64
    log_w = log_w.reshape(k, n)  # column j: the k draws of example j
    elbo = model.elbo(x, np.random.default_rng(5), n_samples=k // copies).elbo
    elbo = elbo.reshape(copies, n).mean(axis=0)  # each copy's mean over k / copies draws
    # E_q[log w] is the ELBO; both sides are Monte Carlo means, so allow 4 standard errors
    # of the difference (the ELBO's KL term is exact, its reconstruction term has at most
    # the spread of log w)
    se = np.sqrt(2.0) * log_w.std(axis=0) / np.sqrt(k)
    # a deterministic model (the VQ-VAE: q a point mass) has se = 0: equal up to rounding
    rounding = 1e-9 * np.abs(elbo)
    assert np.all(np.abs(log_w.mean(axis=0) - elbo) <= 4 * se + rounding)


@pytest.mark.parametrize("name", CASES)
def test_bad_input_raises_a_clear_error(name):
    model = make(name)
    with pytest.raises(ValueError, match=r"batch\b.* must have shape \(N, 6\)"):
        model.check_batch(batch(name, np.zeros((2, 5))))
    with pytest.raises(ValueError, match=r"batch\b.* must be finite"):
        model.loss_and_grads(
            batch(name, np.full((2, 6), np.nan)),
            model.draw_noise(data(2, name=name), np.random.default_rng(0)),
        )
    with pytest.raises(ValueError, match=r"noise must .*shape"):
        model.loss_and_grads(data(2, name=name), np.zeros((7, 7)))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        model.log_weights(data(2, name=name), 3, rng=0)
    with pytest.raises(TypeError, match=f"config must be a {type(SMALL[name]).__name__}"):
        MODELS[model_name(name)]({"input_dim": 6}, np.random.default_rng(0))


def given_for(name, n, images):
    """What the decoder of case ``name`` reads besides n codes (most: nothing)."""
    kind = model_name(name)
    if kind == "cvae":
        return np.arange(n) % 4  # labels
    if kind in ("vlae", "af_prior_vlae"):
        return images[:n]  # the pixels before each pixel
    return None


@pytest.mark.parametrize("name", CASES)
def test_one_protocol_to_sample_decode_encode_and_reconstruct(name):
    model, x = make(name), data(4, name=name)
    images = x[0] if isinstance(x, tuple) else x
    labels = np.arange(3) % 4 if model_name(name) == "cvae" else None
    codes, samples = model.sample(3, np.random.default_rng(6), given=labels)
    assert len(codes) == 3 and samples.shape == (3, 6) and np.all(np.isfinite(samples))
    given = given_for(name, 3, images)
    out = model.decode(codes, given=given)
    assert out.shape == (3, 6)
    np.testing.assert_array_equal(model.decode_mean(codes, given=given), model.likelihood.mean(out))
    recon = model.reconstruct(x, np.random.default_rng(7))
    assert recon.shape == (4, 6) and np.all(np.isfinite(recon))
    model.encode(x)
    if given is None:
        with pytest.raises(ValueError, match="given must be None"):
            model.decode(codes, given=np.zeros(3))
    else:
        with pytest.raises(ValueError, match="pass given="):
            model.decode(codes)


@pytest.mark.parametrize("name", CASES)
def test_active_units_are_counted_or_refused(name):
    model, x = make(name), data(5, name=name)
    rng = np.random.default_rng(8)
    if model_name(name) == "vqvae":  # a discrete code has no coordinates to count
        with pytest.raises(TypeError, match="active units are not defined"):
            vae_lib.active_units(model, x, rng=rng)
        return
    means = model.posterior_means(x, rng)
    assert all(m.shape[0] == 5 and m.dtype == np.float64 for m in means)
    if len(means) > 1:  # a hierarchy: one count per layer, asked for explicitly
        with pytest.raises(ValueError, match="layers of code"):
            vae_lib.active_units(model, x, rng=rng)
    else:
        active = vae_lib.active_units(model, x, rng=rng)
        assert active.shape == (means[0].shape[1],) and active.dtype == bool
