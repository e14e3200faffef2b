"""The VQ-VAE's own properties: quantization, the straight-through rule, the codebook updates.

The conformance suite checks the backward pass against its frozen surrogate
(:meth:`VQVAE.gradient_surrogate`); these tests check what that surrogate is made of, and
that the real loss is *not* what straight-through differentiates.
"""

import numpy as np
import pytest

from vae_lib import VQVAE, VQVAEConfig, fit, load_model, save_model
from vae_lib.core.categorical import categorical_log_prob, code_perplexity, fit_categorical_prior
from vae_lib.core.distributions import sigmoid
from vae_lib.core.quantization import ema_codebook_update, kmeans_plus_plus, nearest_codes
from vae_lib.testing import check_model_gradients, numerical_gradient, relative_error


def small(**kw):
    base = dict(
        input_dim=6, hidden_dims=(5,), n_positions=3, code_dim=2, codebook_size=4, dtype="float64"
    )
    return VQVAE(VQVAEConfig(**{**base, **kw}), np.random.default_rng(0))


def data(n=7, d=6, seed=1):
    return np.random.default_rng(seed).uniform(size=(n, d))


def true_loss(model, x):
    """The loss as a function of the parameters, codes chosen anew, no buffer touched."""
    return model.loss_terms(x)[0].loss


def test_quantization_picks_the_nearest_code():
    rng = np.random.default_rng(0)
    z, e = rng.normal(size=(200, 3)), rng.normal(size=(9, 3))
    brute = np.argmin(((z[:, None, :] - e[None]) ** 2).sum(-1), axis=1)
    assert np.array_equal(nearest_codes(z, e), brute)
    # a point on a codebook vector is assigned to it
    assert np.array_equal(nearest_codes(e, e), np.arange(9))


def test_model_quantize_and_decode_agree_with_the_codebook():
    model, x = small(), data()
    ze = model.encode(x)
    codes = model.quantize(x)
    assert codes.shape == (7, 3) and ze.shape == (7, 3, 2)
    dist = ((ze[:, :, None, :] - model.embeddings[None, None]) ** 2).sum(-1)
    assert np.array_equal(codes, dist.argmin(-1))
    logits = model.decoder.forward(model.embeddings[codes].reshape(7, -1))
    assert np.allclose(model.decode(codes), logits)
    assert np.allclose(model.reconstruct(x), sigmoid(logits))


def test_decoder_gradient_is_the_derivative_of_the_loss_with_codes_fixed():
    # moving a decoder weight changes neither z_e nor the codes: the true loss is smooth there
    model, x = small(), data()
    model.loss_terms(x)
    for p, g in zip(model.decoder.params, [g.copy() for g in model.decoder.grads]):
        assert relative_error(g, numerical_gradient(lambda: true_loss(model, x), p)) < 1e-6


def test_codebook_gradient_is_the_derivative_of_the_codebook_loss():
    model, x = small(), data()
    _, codes, ze = model.loss_terms(x)
    grad = model.networks["codebook"].grads[0].copy()
    ze = ze.copy()

    def codebook_loss():
        return float(np.sum((ze - model.embeddings[codes]) ** 2)) / len(x)

    assert relative_error(grad, numerical_gradient(codebook_loss, model.embeddings)) < 1e-6


def test_the_straight_through_rule():
    # the encoder receives the decoder's gradient at z_q, as if z_q were z_e, plus 2β(z_e - e)
    model, x = small(commitment=0.7), data()
    _, codes, ze = model.loss_terms(x)
    encoder_grads = [g.copy() for g in model.encoder.grads]
    e = model.embeddings[codes]
    logits = model.decoder.forward(e.reshape(len(x), -1))
    dzq = model.decoder.backward((sigmoid(logits) - x) / len(x))
    dze = dzq + 2 * 0.7 / len(x) * (ze - e).reshape(len(x), -1)
    model.encoder.forward(x)
    model.encoder.backward(dze)
    for mine, rule in zip(encoder_grads, model.encoder.grads):
        assert np.allclose(mine, rule, rtol=1e-12, atol=1e-14)


def test_straight_through_is_not_the_derivative_of_the_loss():
    # with codes fixed the loss depends on the encoder only through the two squared distances
    model, x = small(), data()
    model.loss_terms(x)
    grad = model.encoder.grads[0].copy()
    numeric = numerical_gradient(lambda: true_loss(model, x), model.encoder.params[0])
    assert relative_error(grad, numeric) > 0.1


def test_ema_update_is_the_kmeans_mean_update_when_the_decay_is_zero():
    rng = np.random.default_rng(3)
    z, codes = rng.normal(size=(50, 2)), rng.integers(0, 5, size=50)
    codes[:5] = np.arange(5)  # every code used
    count, total = np.ones(5), rng.normal(size=(5, 2))
    e = ema_codebook_update(count, total, codes, z, decay=0.0, epsilon=1e-12)
    means = np.stack([z[codes == j].mean(axis=0) for j in range(5)])
    assert np.allclose(e, means, rtol=1e-9, atol=1e-9)
    assert np.array_equal(count, np.bincount(codes, minlength=5))


def test_ema_update_is_a_moving_average_of_counts_and_sums():
    rng = np.random.default_rng(4)
    z, codes = rng.normal(size=(30, 2)), rng.integers(0, 3, size=30)
    count, total = np.array([2.0, 1.0, 4.0]), rng.normal(size=(3, 2))
    c0, t0 = count.copy(), total.copy()
    e = ema_codebook_update(count, total, codes, z, decay=0.9, epsilon=0.1)
    n_j = np.bincount(codes, minlength=3)
    sums = np.stack([z[codes == j].sum(axis=0) for j in range(3)])
    assert np.allclose(count, 0.9 * c0 + 0.1 * n_j)
    assert np.allclose(total, 0.9 * t0 + 0.1 * sums)
    smoothed = (count + 0.1) / (count.sum() + 0.3) * count.sum()  # Laplace smoothing
    assert np.allclose(e, total / smoothed[:, None])
    assert smoothed.sum() == pytest.approx(count.sum())


def test_ema_model_moves_the_codebook_only_by_the_average():
    model, x = small(codebook_update="ema", ema_decay=0.5), data(20)
    before = model.embeddings.copy()
    result = model.loss_and_grads(x, None)
    assert "codebook" in result.terms
    assert np.all(model.networks["codebook"].grads[0] == 0)  # Adam leaves it alone
    assert not np.allclose(model.embeddings, before)
    assert model.buffer("steps")[0] == 1
    assert model.buffer("usage").sum() == 20 * 3


def test_encoder_initialisation_takes_encoder_outputs():
    for init in ("encoder", "kmeans++"):
        model, x = small(init=init, codebook_size=5), data(10)
        ze = model.encoder.forward(x).reshape(-1, 2)
        model.loss_and_grads(x, None)
        # each code is one of the first batch's encoder outputs, all different
        d = ((model.embeddings[:, None] - ze[None]) ** 2).sum(-1)
        assert np.all(d.min(axis=1) < 1e-20) and len(set(d.argmin(axis=1))) == 5


def test_kmeans_plus_plus_spreads_the_seeds():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    z = np.concatenate([c + 0.1 * rng.normal(size=(100, 2)) for c in centres])
    seeds = kmeans_plus_plus(z, 3, rng)
    assert sorted(nearest_codes(seeds, centres)) == [0, 1, 2]
    with pytest.raises(ValueError, match="at least k=4 points"):
        kmeans_plus_plus(z[:3], 4, rng)


def test_dead_codes_restart_at_encoder_outputs_of_the_batch():
    model, x = small(restart_every=2, codebook_size=4), data(6)
    model.embeddings[1:] = 1e3  # codes 1..3 are far away: never chosen
    model.loss_and_grads(x, None)
    assert np.all(model.embeddings[1:] == 1e3)
    ze = model.encoder.forward(x).reshape(-1, 2)
    model.loss_and_grads(x, None)  # the second step restarts them
    d = ((model.embeddings[1:, None] - ze[None]) ** 2).sum(-1)
    assert np.all(d.min(axis=1) < 1e-20)
    assert model.buffer("usage").sum() == 0  # counting starts again


def test_training_is_reproducible_and_saves_its_buffers(tmp_path):
    def run():
        model = small(codebook_update="ema", restart_every=3, init="kmeans++")
        fit(model, data(40), epochs=3, batch_size=10, rng=np.random.default_rng(0), progress=False)
        return model

    a, b = run(), run()
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    loaded, _ = load_model(save_model(a, tmp_path / "vq.npz"))
    for name in ("ema_count", "ema_sum", "usage", "steps"):
        assert np.array_equal(loaded.buffer(name), a.buffer(name))


def test_elbo_with_a_uniform_prior_and_log_weights():
    model, x = small(), data()
    terms = model.elbo(x, np.random.default_rng(0))
    assert np.allclose(terms.kl, 3 * np.log(4))
    assert np.allclose(
        terms.elbo, model.log_likelihood_given_codes(x, model.quantize(x)) - terms.kl
    )
    log_w = model.log_weights(x, 4, np.random.default_rng(0))
    assert log_w.shape == (4, 7) and np.all(log_w == terms.elbo)


def test_categorical_prior_counts_with_smoothing():
    codes = np.array([[0, 1], [0, 2], [1, 2]])
    log_p = fit_categorical_prior(codes, 3, alpha=1.0)
    assert np.allclose(np.exp(log_p), [[3 / 6, 2 / 6, 1 / 6], [1 / 6, 2 / 6, 3 / 6]])
    assert np.allclose(categorical_log_prob(codes, log_p), np.log([6 / 36, 9 / 36, 6 / 36]))
    model = small()
    codes, images = model.sample(
        5, np.random.default_rng(0), log_prior=np.log(np.full((3, 4), 0.25))
    )
    assert codes.shape == (5, 3) and images.shape == (5, 6)


def test_perplexity_of_code_usage():
    assert code_perplexity([5, 5, 5, 5]) == pytest.approx(4.0)
    assert code_perplexity([7, 0, 0, 0]) == pytest.approx(1.0)


def test_bad_input_is_refused():
    model = small()
    with pytest.raises(TypeError, match="codes must hold integer codes 0 to 3; got dtype float"):
        model.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 3\)"):
        model.decode(np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="codes must lie in 0 to 3; got 4 to 4"):
        model.decode(np.full((2, 3), 4))
    with pytest.raises(ValueError, match="codes must lie in 0 to 3; got -1"):
        model.decode(np.full((2, 3), -1))
    with pytest.raises(ValueError, match="noise must be None"):
        model.loss_and_grads(data(2), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="init must be one of"):
        VQVAEConfig(init="zeros")
    with pytest.raises(ValueError, match="ema_decay must be in"):
        VQVAEConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match="restart_every must be a whole number"):
        VQVAEConfig(restart_every=-1)
    with pytest.raises(ValueError, match="batch the gradient surrogate froze"):
        model.gradient_surrogate(data(3)).loss_and_grads(data(4), None)


@pytest.mark.parametrize("update", ["loss", "ema"])
def test_the_surrogate_gradient_check_holds_for_both_codebook_updates(update):
    model, x = small(codebook_update=update, commitment=0.4), data()
    check_model_gradients(model.gradient_surrogate(x), x, np.random.default_rng(2), entrywise=True)
    if update == "ema":  # the codebook learns by the average alone
        model.loss_terms(x)
        assert np.all(model.networks["codebook"].grads[0] == 0)


def test_sampling_from_an_extreme_log_prior():
    """Log-probabilities of ±1000 are a distribution too: normalised in log space, not NaN."""
    model = small()
    log_prior = np.full((3, 4), -1000.0)
    log_prior[:, 2] = 1000.0
    codes, _ = model.sample(20, np.random.default_rng(0), log_prior=log_prior)
    assert np.all(codes == 2)
    with pytest.raises(ValueError, match="log_prior must be finite"):
        model.sample(2, np.random.default_rng(0), log_prior=np.full((3, 4), np.inf))
