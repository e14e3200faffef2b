import numpy as np
import pytest

from vae_lib import VAE, VAEConfig, fit, log_mean_exp
from vae_lib.evaluation.refit import refit_encoder, with_fresh_encoder


@pytest.fixture(scope="module")
def trained():
    # three patterns with a little noise: a code that says which one pays for itself
    rng = np.random.default_rng(0)
    patterns = np.array([[1] * 4 + [0] * 8, [0] * 4 + [1] * 4 + [0] * 4, [0] * 8 + [1] * 4])
    x = patterns[rng.integers(0, 3, 120)] ^ (rng.random((120, 12)) < 0.05)
    x = x.astype(np.float64)
    model = VAE(VAEConfig(input_dim=12, hidden_dims=(8,), latent_dim=2, dtype="float64"), rng)
    fit(model, x, epochs=40, batch_size=20, lr=1e-2, rng=np.random.default_rng(1), progress=False)
    return model, x


def decoder_params(model):
    return [p for n, p in zip(model.param_names(), model.params) if not n.startswith("encoder.")]


def test_the_refit_keeps_the_decoder_and_trains_only_the_encoder(trained, tmp_path):
    model, x = trained
    before = [p.copy() for p in model.params]
    start = with_fresh_encoder(model, n_samples=4, seed=3)
    refit = refit_encoder(
        model, x, n_samples=4, epochs=20, seed=3, batch_size=20, lr=1e-2, cache_dir=tmp_path
    )
    for a, b in zip(decoder_params(refit), decoder_params(model)):
        assert np.array_equal(a, b)
    for a, b in zip(model.params, before):  # the model itself is untouched
        assert np.array_equal(a, b)
    moved = [
        not np.array_equal(a, b)
        for n, a, b in zip(refit.param_names(), refit.params, start.params)
        if n.startswith("encoder.")
    ]
    assert all(moved)
    # a trained proposal gives a tighter bound than the fresh one it started from
    fresh_lk = log_mean_exp(start.log_weights(x, 4, np.random.default_rng(4)), axis=0).mean()
    refit_lk = log_mean_exp(refit.log_weights(x, 4, np.random.default_rng(4)), axis=0).mean()
    assert refit_lk > fresh_lk + 0.1


def test_the_refit_is_cached_and_reproducible(trained, tmp_path):
    model, x = trained
    a = refit_encoder(model, x, n_samples=2, epochs=2, seed=5, batch_size=30, cache_dir=tmp_path)
    b = refit_encoder(model, x, n_samples=2, epochs=2, seed=5, batch_size=30, cache_dir=tmp_path)
    for p, q in zip(a.params, b.params):
        assert np.array_equal(p, q)
    assert len(list(tmp_path.glob("*.npz"))) == 1


def test_bad_arguments_are_refused(trained, tmp_path):
    model, x = trained
    with pytest.raises(TypeError, match="Gaussian encoder"):
        refit_encoder("model", x, n_samples=2, epochs=1, seed=0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="epochs"):
        refit_encoder(model, x, n_samples=2, epochs=0, seed=0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="n_samples"):
        with_fresh_encoder(model, n_samples=0, seed=0)
