"""What is the CVAE's own: the label reaches both networks, and only the label is new."""

import numpy as np
import pytest

import vae_lib
from vae_lib import CVAE, VAE, CVAEConfig, VAEConfig
from vae_lib.core.categorical import one_hot
from vae_lib.core.numerics import log_mean_exp, logsumexp
from vae_lib.evaluation.quadrature import vae_log_joint_grid
from vae_lib.models.cvae import LabelledMLP
from vae_lib.testing import assert_gradient

SMALL = dict(input_dim=6, hidden_dims=(5,), latent_dim=2, dtype="float64")


def make(seed=0, n_classes=3, **config):
    return CVAE(CVAEConfig(**{**SMALL, **config}, n_classes=n_classes), np.random.default_rng(seed))


def batch(n=5, n_classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 6)), rng.integers(0, n_classes, size=n)


def test_one_hot_puts_a_single_one_in_the_labels_column():
    e = one_hot(np.array([2, 0, 2, 1]), 3)
    np.testing.assert_array_equal(e, [[0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert e.dtype == np.float32


def test_the_networks_take_the_one_hot_label_as_extra_inputs():
    model = make(n_classes=4)
    shapes = CVAE.param_shapes(model.config)
    assert shapes["encoder.0.W"] == (6 + 4, 5)  # x ⊕ e(y)
    assert shapes["decoder.0.W"] == (2 + 4, 5)  # z ⊕ e(y)
    # the same sizes as the VAE's otherwise
    vae_shapes = VAE.param_shapes(VAEConfig(**SMALL))
    assert shapes.keys() == vae_shapes.keys()
    assert all(shapes[n] == s for n, s in vae_shapes.items() if not n.endswith("0.W"))


def test_changing_the_label_changes_the_decoder_and_the_encoder():
    model = make(n_classes=3)
    z = np.random.default_rng(2).standard_normal((4, 2))
    images = [model.decode_mean(z, np.full(4, c)) for c in range(3)]
    for a in range(3):
        for b in range(a):
            assert np.all(np.abs(images[a] - images[b]).max(axis=1) > 1e-3)
    x, _ = batch(4)
    mus = [model.encode((x, np.full(4, c)))[0] for c in range(3)]
    assert not np.allclose(mus[0], mus[1]) and not np.allclose(mus[1], mus[2])


def test_with_the_label_weights_at_zero_the_cvae_is_the_vae():
    """Only the label is new: zero its columns and every number is the VAE's."""
    cvae, vae = make(n_classes=3), VAE(VAEConfig(**SMALL), np.random.default_rng(9))
    for name, p, q in zip(cvae.param_names(), cvae.params, vae.params):
        if name.endswith("0.W"):
            p[: q.shape[0]] = q
            p[q.shape[0] :] = 0.0  # the rows that read e(y)
        else:
            p[...] = q
    x, y = batch(5)
    noise = cvae.draw_noise((x, y), np.random.default_rng(3))
    assert cvae.loss_and_grads((x, y), noise).terms == pytest.approx(
        vae.loss_and_grads(x, noise).terms, rel=1e-12
    )
    for name, g, h in zip(cvae.param_names(), cvae.grads, vae.grads):
        np.testing.assert_allclose(g[: h.shape[0]] if name.endswith("0.W") else g, h, atol=1e-12)
    lw = cvae.log_weights((x, y), 4, np.random.default_rng(4))
    np.testing.assert_allclose(lw, vae.log_weights(x, 4, np.random.default_rng(4)), rtol=1e-12)


def test_labelled_mlp_input_gradient_drops_the_label_columns():
    rng = np.random.default_rng(0)
    net = LabelledMLP((3 + 5, 4, 2), 5, rng, "tanh", np.float64)
    h, dy = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    net.labels = one_hot(rng.integers(0, 5, size=6), 5, np.float64)
    net.forward(h)
    dh = net.backward(dy)
    assert dh.shape == h.shape
    assert_gradient(dh, lambda: float(np.sum(net.forward(h) * dy)), h, "h")
    assert net.backward(dy, need_input_grad=False) is None


def test_importance_weights_estimate_the_conditional_likelihood_found_by_quadrature():
    model = make(seed=3, n_classes=3)
    x, y = batch(4, seed=5)
    _, log_joint, log_w = vae_log_joint_grid(model, (x, y), limit=7.0, n=301)
    exact = logsumexp(log_joint + log_w, axis=1)  # log p(x | y) by the trapezoid rule
    estimate = log_mean_exp(model.log_weights((x, y), 20_000, np.random.default_rng(6)), axis=0)
    np.testing.assert_allclose(estimate, exact, atol=0.02)
    # log p(x | y) is a different number for each label
    other = (y + 1) % 3
    _, log_joint_other, _ = vae_log_joint_grid(model, (x, other), limit=7.0, n=301)
    assert np.all(np.abs(logsumexp(log_joint_other + log_w, axis=1) - exact) > 1e-4)


def test_sample_decodes_prior_codes_with_the_given_labels():
    model = make(n_classes=3)
    y = np.array([0, 1, 2, 2])
    z, images = model.sample(4, np.random.default_rng(1), given=y)
    assert z.shape == (4, 2) and images.shape == (4, 6)
    np.testing.assert_array_equal(images, model.decode_mean(z, given=y))
    assert np.all(model.reconstruct(batch(4)) > 0)


def test_elbo_and_log_weights_agree_with_the_training_step():
    model = make(n_classes=3)
    x, y = batch(6)
    noise = model.draw_noise((x, y), np.random.default_rng(0))
    terms = model.loss_and_grads((x, y), noise).terms
    elbo = model.elbo((x, y), np.random.default_rng(1), n_samples=1)
    # the KL term is exact in both, and the same
    assert terms["kl"] == pytest.approx(float(np.mean(elbo.kl)), rel=1e-12)


def test_fit_and_the_cache_take_images_with_labels(tmp_path):
    rng = np.random.default_rng(0)
    x, labels = vae_lib.patterns(120, rng)
    config = CVAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=2, n_classes=4)

    def binarize_images(b, rng):
        return vae_lib.binarize_dynamic(b[0], rng), b[1]

    settings = dict(epochs=3, seed=1, batch_size=20, cache_dir=tmp_path)
    settings.update(transform=binarize_images, transform_name="binarize x")
    model, history = vae_lib.load_or_train(config, (x, labels), **settings)
    again, _ = vae_lib.load_or_train(config, (x, labels), **settings)
    assert len(history.epoch) == 3 and len(list(tmp_path.iterdir())) == 1
    for p, q in zip(model.params, again.params):
        np.testing.assert_array_equal(p, q)
    bound = vae_lib.importance_weighted_bound(model, (x, labels), 5, rng, batch_size=50)
    assert bound.shape == (120,)


def test_bad_input_names_what_was_wrong():
    model = make(n_classes=3)
    x, y = batch(4)
    with pytest.raises(TypeError, match=r"batch of a CVAE must be a tuple \(x, y\).*array"):
        model.check_batch(x)
    with pytest.raises(TypeError, match="a tuple of 3"):
        model.check_batch((x, y, y))
    with pytest.raises(TypeError, match="batch y must hold integer class labels 0 to 2"):
        model.check_batch((x, y.astype(float)))
    with pytest.raises(TypeError, match="integer class labels"):
        model.check_batch((x, y > 0))
    with pytest.raises(ValueError, match="batch y must lie in 0 to 2 .*e.g. 3"):
        model.check_batch((x, np.array([0, 1, 3, 2])))
    with pytest.raises(ValueError, match="must lie in 0 to 2 .*e.g. -1"):
        model.check_batch((x, np.array([0, -1, 1, 2])))
    with pytest.raises(ValueError, match="one label per image: 4 labels expected; got 3"):
        model.check_batch((x, y[:3]))
    with pytest.raises(ValueError, match=r"1-D array of labels; got shape \(4, 1\)"):
        model.check_batch((x, y[:, None]))
    with pytest.raises(ValueError, match=r"batch x must lie in \[0, 1\]"):
        model.check_batch((x + 1, y))
    with pytest.raises(ValueError, match="given must hold one label per image"):
        model.decode(np.zeros((4, 2)), given=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="a CVAE decodes with a label per code: pass given=y"):
        model.sample(3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must be at least 1"):
        model.sample(0, np.random.default_rng(0), given=np.zeros(0, dtype=int))
    with pytest.raises(RuntimeError, match="inside CVAE.conditioned"):
        model.decoder.forward(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        CVAEConfig(n_classes=1)
    with pytest.raises(ValueError, match="unknown CVAEConfig field"):
        CVAEConfig.from_dict({"classes": 3})
