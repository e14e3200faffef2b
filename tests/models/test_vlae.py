import itertools
import json

import numpy as np
import pytest

import vae_lib
from vae_lib import VAE, VLAE, VAEConfig, VLAEConfig, causal_window_mask, fit
from vae_lib.core.distributions import bernoulli_log_likelihood_kernel
from vae_lib.testing import check_model_gradients


def make(window=1, shape=(3, 4), latent_dim=2, seed=0, **kw):
    d = shape[0] * shape[1]
    config = VLAEConfig(
        input_dim=d,
        hidden_dims=(7,),
        latent_dim=latent_dim,
        window=window,
        image_shape=shape,
        dtype="float64",
        **kw,
    )
    return VLAE(config, np.random.default_rng(seed))


def binary(n, d, seed=1):
    return (np.random.default_rng(seed).uniform(size=(n, d)) < 0.4).astype(np.float64)


# ---------------------------------------------------------------------- config
def test_config_defaults_and_round_trip_through_json():
    assert VLAEConfig(input_dim=784).height_width == (28, 28)
    assert VLAEConfig(input_dim=6).height_width == (1, 6)
    config = VLAEConfig(input_dim=12, image_shape=(3, 4), window="full")
    again = VLAEConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and again.image_shape == (3, 4)


@pytest.mark.parametrize(
    "fields, error, match",
    [
        ({"window": -1}, ValueError, "window must be an integer ≥ 0 or 'full'"),
        ({"window": "all"}, ValueError, "window must be an integer ≥ 0 or 'full'"),
        ({"window": 1.5}, ValueError, "window must be an integer ≥ 0 or 'full'"),
        ({"window": True}, ValueError, "window must be an integer ≥ 0 or 'full'"),
        ({"image_shape": (3, 5)}, ValueError, r"image_shape \(3, 5\) has 15 pixels"),
        ({"image_shape": (12,)}, ValueError, r"image_shape must be \(height, width\)"),
        ({"image_shape": (0, 12)}, ValueError, "image_shape entry must be at least 1"),
        ({"units_per_pixel": -1}, ValueError, "units_per_pixel must be an integer ≥ 0"),
        ({"units_per_pixel": 1.0}, ValueError, "units_per_pixel must be an integer ≥ 0"),
        ({"units_per_pixel": 10**9}, ValueError, "asks for .* array entries"),
    ],
)
def test_bad_config(fields, error, match):
    with pytest.raises(error, match=match):
        VLAEConfig(input_dim=12, **fields)


# ---------------------------------------------------------------------- the decoder
@pytest.mark.parametrize("units", [0, 2])
def test_factorized_vlae_is_the_vae(units):
    """At w = 0 the network sees nothing and has no bias of its own: the same seed gives the
    VAE's loss and gradients, and training leaves the network at 0."""
    vae = VAE(
        VAEConfig(input_dim=12, hidden_dims=(7,), latent_dim=2, dtype="float64"),
        np.random.default_rng(3),
    )
    vlae = make(window=0, seed=3, units_per_pixel=units)
    assert vlae.n_autoregressive_weights == 0
    x = binary(5, 12)
    eps = np.random.default_rng(4).standard_normal((5, 2))
    a, b = vae.loss_and_grads(x, eps), vlae.loss_and_grads(x, eps)
    assert a.loss == pytest.approx(b.loss, abs=1e-12)
    for name, g, h in zip(vae.param_names(), vae.grads, vlae.grads):
        np.testing.assert_allclose(g, h, atol=1e-12, err_msg=name)
    for g in vlae.decoder.network.grads:
        assert np.all(g == 0)


@pytest.mark.parametrize("units", [0, 3])
@pytest.mark.parametrize("window", [0, 1, 2, "full"])
def test_decoder_is_autoregressive_by_perturbation(window, units):
    """Changing pixel j moves the logit of pixel i exactly when i sees j: never i ≤ j."""
    model = make(window=window, units_per_pixel=units)
    for p in model.decoder.network.params:  # no ReLU unit left dead by chance
        p[...] = np.abs(p) + 0.1
    d = model.config.input_dim
    mask = causal_window_mask(3, 4, window)
    rng = np.random.default_rng(5)
    z = rng.standard_normal((1, 2))
    x = binary(1, d, seed=6)
    logits = model.decode(z, x)
    for j in range(d):
        x2 = x.copy()
        x2[0, j] = 1 - x2[0, j]
        moved = model.decode(z, x2)[0] != logits[0]
        np.testing.assert_array_equal(moved, mask[j], err_msg=f"pixel {j}")
        assert not moved[: j + 1].any()


def test_masked_weights_stay_zero_in_training():
    model = make(window=1, units_per_pixel=2)
    x = binary(40, 12)
    fit(model, x, epochs=3, batch_size=10, rng=np.random.default_rng(0), progress=False)
    for layer in model.decoder.network.layers:
        assert np.all(layer.W[~layer.mask] == 0) and np.all(layer.W[layer.mask] != 0)


def test_a_window_trains_as_it_would_densely_with_adam_s_regions():
    # an 8x8 window's masks are multiplied by blocks, and fit's Adam updates those only;
    # a plain Adam over every weight gives the same model, bit for bit
    models = [make(window=1, shape=(8, 8), units_per_pixel=2, seed=3) for _ in range(2)]
    assert all(layer.blocks is not None for layer in models[0].decoder.network.layers)
    x = binary(40, 64)
    fit(models[0], x, epochs=3, batch_size=10, rng=np.random.default_rng(0), progress=False)
    plain = vae_lib.Adam(models[1].params, lr=1e-3)
    fit(models[1], x, epochs=3, batch_size=10, rng=np.random.default_rng(0), optimizer=plain)
    for mine, theirs in zip(models[0].params, models[1].params):
        assert np.array_equal(mine, theirs)


def test_decoder_needs_the_image():
    model = make()
    with pytest.raises(RuntimeError, match="teacher_forcing"):
        model.decoder.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="given has 3 images for 2 codes"):
        model.decode(np.zeros((2, 2)), given=binary(3, 12))
    with pytest.raises(ValueError, match="pass given=x"):
        model.decode(np.zeros((2, 2)))


def test_p_x_given_z_sums_to_one():
    """Σ over all 2^D binary images of p(x | z) is 1: the product of the conditionals is a
    distribution (D = 8, so 256 images)."""
    model = make(window=1, shape=(2, 4), units_per_pixel=2)
    for p in model.decoder.network.params:  # make the autoregressive term strong
        p *= 20
    images = np.array(list(itertools.product([0.0, 1.0], repeat=8)))
    z = np.repeat(np.random.default_rng(0).standard_normal((1, 2)), len(images), axis=0)
    log_p = bernoulli_log_likelihood_kernel(images, model.decode(z, images))
    assert np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-12)


def test_log_joint_pairs_is_teacher_forcing_for_every_pair():
    model = make(window="full", units_per_pixel=2)
    x, z = binary(3, 12), np.random.default_rng(1).standard_normal((4, 2))
    pairs = model.log_joint_pairs(x, z)
    for n in range(3):
        xs = np.repeat(x[n : n + 1], 4, axis=0)
        expected = bernoulli_log_likelihood_kernel(xs, model.decode(z, xs)) - 0.5 * np.sum(
            vae_lib.LOG_2PI + z * z, axis=1
        )
        np.testing.assert_allclose(pairs[n], expected, rtol=1e-12)


# ---------------------------------------------------------------------- sampling
@pytest.mark.parametrize("units", [0, 2])
@pytest.mark.parametrize("window", [1, 2, "full"])
def test_ancestral_probabilities_are_the_teacher_forced_ones(window, units):
    """Teacher forcing on a sampled image gives back the probabilities it was drawn from,
    and drawing by wavefront or pixel by pixel gives the same images."""
    model = make(window=window, shape=(4, 5), units_per_pixel=units)
    z = np.random.default_rng(2).standard_normal((6, 2))
    x, probs = model.sample_images(z, np.random.default_rng(3), return_probs=True)
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_allclose(probs, model.decode_mean(z, x), rtol=1e-12)
    raster = model.sample_images(z, np.random.default_rng(3), order="raster")
    np.testing.assert_array_equal(x, raster)
    with pytest.raises(ValueError, match="order must be one of"):
        model.sample_images(z, np.random.default_rng(3), order="diagonal")


def test_ancestral_samples_follow_p_x_given_z():
    """The frequency of each of the 2^4 images among 40,000 samples matches p(x | z)."""
    model = make(window="full", shape=(2, 2), units_per_pixel=2)
    for p in model.decoder.network.params:
        p *= 10  # strong dependencies, so that a wrong order or parent set would show
    n = 40_000
    z = np.repeat(np.random.default_rng(0).standard_normal((1, 2)), n, axis=0)
    x = model.sample_images(z, np.random.default_rng(1))
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    p = np.exp(bernoulli_log_likelihood_kernel(images, model.decode(z[:16], images)))
    counts = np.array([np.sum(np.all(x == im, axis=1)) for im in images])
    se = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) < 5 * se + 1)


def test_sample_and_reconstruct_shapes_and_errors():
    model = make(window=1)
    z, x = model.sample(5, np.random.default_rng(0))
    assert z.shape == (5, 2) and x.shape == (5, 12) and set(np.unique(x)) <= {0.0, 1.0}
    r = model.reconstruct(binary(3, 12), np.random.default_rng(0))
    assert r.shape == (3, 12)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        model.reconstruct(binary(3, 12), 0)
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\)"):
        model.sample_images(np.zeros((2, 3)), np.random.default_rng(0))


def test_same_seed_same_samples():
    model = make(window=1)
    z = np.zeros((3, 2))
    a = model.sample_images(z, np.random.default_rng(9))
    b = model.sample_images(z, np.random.default_rng(9))
    assert np.array_equal(a, b)


# ---------------------------------------------------------------------- training
def test_warm_up_and_free_bits_are_the_vaes():
    model = make(window=1, kl_warmup_epochs=4, free_bits=0.1)
    model.start_epoch(0)
    assert model.kl_weight == 0.25
    x = binary(6, 12)
    terms = model.loss_and_grads(x, model.draw_noise(x, np.random.default_rng(0))).terms
    assert list(terms)[0] == "objective"
    check_model_gradients(model, x, np.random.default_rng(1), entrywise=True)


def test_autoregression_helps_on_textured_data():
    """On images whose pixels copy their left neighbour, a window of 1 beats w = 0 by far."""
    rng = np.random.default_rng(0)
    first = rng.uniform(size=(300, 4, 1)) < 0.5
    flips = rng.uniform(size=(300, 4, 3)) < 0.05
    x = np.concatenate([first, first ^ np.cumsum(flips, axis=2) % 2], axis=2)
    x = x.reshape(300, 16).astype(np.float64)
    elbo = {}
    for window in (0, 1):
        model = make(window=window, shape=(4, 4), seed=1)
        fit(
            model,
            x,
            epochs=40,
            batch_size=30,
            lr=1e-2,
            rng=np.random.default_rng(2),
            progress=False,
        )
        elbo[window] = float(np.mean(model.elbo(x, np.random.default_rng(3)).elbo))
    assert elbo[1] > elbo[0] + 2.0


def test_a_doctored_image_size_is_refused_before_any_mask_is_made():
    """A config whose D × D masks would take gigabytes is refused by the config itself."""
    with pytest.raises(ValueError, match="asks for .* array entries"):
        VLAEConfig(input_dim=110 * 110, window=1, units_per_pixel=2)


def test_several_codes_per_image_read_the_image_once():
    """Teacher forcing with m·N codes for N images: m blocks, each the N images' logits."""
    model = make(window=1, units_per_pixel=2)
    x, z = binary(3, 12), np.random.default_rng(4).standard_normal((6, 2))
    with model.decoder.teacher_forcing(x):
        both = model.decoder.forward(z)
    np.testing.assert_allclose(both[:3], model.decode(z[:3], x), rtol=1e-12)
    np.testing.assert_allclose(both[3:], model.decode(z[3:], x), rtol=1e-12)
    with model.decoder.teacher_forcing(x), pytest.raises(ValueError, match="not a multiple"):
        model.decoder.forward(z[:4])


def test_af_prior_vlae_is_the_flow_prior_with_the_autoregressive_decoder():
    """The paper's model: its gradients are exact, its pairs use the flow prior, and it
    samples codes from the flow."""
    config = vae_lib.AFPriorVLAEConfig(
        input_dim=12,
        hidden_dims=(7,),
        latent_dim=3,
        flow_hidden_dims=(4,),
        window=1,
        units_per_pixel=2,
        image_shape=(3, 4),
        dtype="float64",
    )
    model = vae_lib.AFPriorVLAE(config, np.random.default_rng(0))
    x = binary(4, 12)
    check_model_gradients(model, x, np.random.default_rng(1), entrywise=True)
    z = np.random.default_rng(2).standard_normal((5, 3))
    pairs = model.log_joint_pairs(x, z)
    xs = np.repeat(x[:1], 5, axis=0)
    expected = bernoulli_log_likelihood_kernel(xs, model.decode(z, xs)) + model.log_prior(z)
    np.testing.assert_allclose(pairs[0], expected, rtol=1e-10)
    codes, images = model.sample(3, np.random.default_rng(3))
    assert codes.shape == (3, 3) and set(np.unique(images)) <= {0.0, 1.0}
