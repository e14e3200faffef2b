"""L_k for several k from one draw of log-weights, and the on-disk cache of the estimates."""

import warnings

import numpy as np
import pytest

import vae_lib
from vae_lib.core.numerics import log_mean_exp
from vae_lib.evaluation.importance import bounds_by_k, load_or_estimate_bounds


def test_bounds_by_k_block_averages():
    rng = np.random.default_rng(0)
    log_w = rng.standard_normal((12, 5))
    b = bounds_by_k(log_w, (1, 3, 4, 5, 12))
    assert b.shape == (5, 5)
    np.testing.assert_allclose(b[0], log_w.mean(axis=0))  # k = 1: the mean of log w
    np.testing.assert_allclose(b[4], log_mean_exp(log_w, axis=0))  # k = K_max: one block
    np.testing.assert_allclose(
        b[1], np.mean([log_mean_exp(log_w[i : i + 3], axis=0) for i in (0, 3, 6, 9)], axis=0)
    )
    # k = 5 uses the first two blocks of 5 and drops the last 2 samples
    np.testing.assert_allclose(
        b[3], (log_mean_exp(log_w[:5], axis=0) + log_mean_exp(log_w[5:10], axis=0)) / 2
    )


def test_bounds_rise_with_k_and_stay_below_the_true_log_likelihood():
    # log w = log p(x) + noise with E[w] = p(x): lognormal weights, log w ~ N(c - s²/2, s²)
    rng = np.random.default_rng(1)
    s, log_p = 1.5, -3.0
    log_w = log_p - s**2 / 2 + s * rng.standard_normal((1000, 400))
    means = bounds_by_k(log_w, (1, 10, 100, 1000)).mean(axis=1)
    assert np.all(np.diff(means) > 0)
    assert means[0] == pytest.approx(log_p - s**2 / 2, abs=0.02)
    assert means[-1] < log_p and means[-1] > log_p - 0.1


def test_bounds_by_k_rejects_bad_ks():
    with pytest.raises(ValueError, match="at most the 10 samples"):
        bounds_by_k(np.zeros((10, 3)), (1, 20))
    with pytest.raises(ValueError, match="at least one k"):
        bounds_by_k(np.zeros((10, 3)), ())
    with pytest.raises(TypeError, match="sequence of integers"):
        bounds_by_k(np.zeros((10, 3)), 5)


@pytest.fixture(scope="module")
def small_model():
    rng = np.random.default_rng(2)
    x = (rng.random((60, 16)) < 0.3).astype(np.float32)
    model = vae_lib.VAE(vae_lib.VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=2), rng)
    vae_lib.fit(model, x, epochs=5, rng=rng, batch_size=20, progress=False)
    return model, x


def test_estimates_match_the_recipe_and_obey_elbo_le_lk(small_model, tmp_path):
    model, x = small_model
    got = load_or_estimate_bounds(
        model, x, k=50, ks=(1, 5, 50), seed=3, batch_size=25, cache_dir=tmp_path
    )
    rng = np.random.default_rng(3)
    log_w = np.concatenate(
        [vae_lib.log_importance_weights(model, x[i : i + 25], 50, rng) for i in (0, 25, 50)],
        axis=1,
    )
    expected = bounds_by_k(log_w, (1, 5, 50))
    for row, k in zip(expected, (1, 5, 50)):
        np.testing.assert_allclose(got[k], row)
    assert got[50].mean() >= got[5].mean() >= got[1].mean()
    # L_1 is the ELBO, averaged here over 50 samples: close to the model's own ELBO
    elbo = model.elbo(x, np.random.default_rng(4), n_samples=200).elbo
    assert got[1].mean() == pytest.approx(elbo.mean(), abs=0.1)


def test_cache_returns_the_stored_values_and_recomputes_damaged_files(small_model, tmp_path):
    model, x = small_model
    first = load_or_estimate_bounds(model, x, k=20, ks=(1, 20), seed=0, cache_dir=tmp_path)
    files = list(tmp_path.glob("bounds-*.npz"))
    assert len(files) == 1
    again = load_or_estimate_bounds(model, x, k=20, ks=(1, 20), seed=0, cache_dir=tmp_path)
    for k in (1, 20):
        np.testing.assert_array_equal(first[k], again[k])
    # another seed is another file, with other numbers
    other = load_or_estimate_bounds(model, x, k=20, ks=(1, 20), seed=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("bounds-*.npz"))) == 2
    assert not np.array_equal(other[20], first[20])
    # a damaged file is computed again, with a warning, to the same numbers
    files[0].write_bytes(b"not an npz file")
    with pytest.warns(UserWarning, match="damaged"):
        redone = load_or_estimate_bounds(model, x, k=20, ks=(1, 20), seed=0, cache_dir=tmp_path)
    np.testing.assert_array_equal(redone[20], first[20])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_or_estimate_bounds(model, x, k=20, ks=(1, 20), seed=0, cache_dir=tmp_path)


def test_cache_key_follows_the_weights(small_model, tmp_path):
    model, x = small_model
    load_or_estimate_bounds(model, x, k=10, ks=(10,), seed=0, cache_dir=tmp_path)
    changed = vae_lib.VAE(model.config, np.random.default_rng(9))
    load_or_estimate_bounds(changed, x, k=10, ks=(10,), seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("bounds-*.npz"))) == 2


def test_load_or_estimate_bounds_rejects_bad_input(small_model, tmp_path):
    model, x = small_model
    with pytest.raises(TypeError, match="model must be a vae_lib model"):
        load_or_estimate_bounds("model", x, k=5, ks=(1,), seed=0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="at least 0"):
        load_or_estimate_bounds(model, x, k=5, ks=(1,), seed=-1, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="at most the 5 samples"):
        load_or_estimate_bounds(model, x, k=5, ks=(10,), seed=0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        load_or_estimate_bounds(model, x * 2, k=5, ks=(1,), seed=0, cache_dir=tmp_path)


def test_load_or_estimate_bounds_takes_a_conditional_models_tuple_batch(tmp_path):
    rng = np.random.default_rng(0)
    model = vae_lib.CVAE(
        vae_lib.CVAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=2, n_classes=3), rng
    )
    x = (rng.uniform(size=(7, 6)).astype(np.float32), rng.integers(0, 3, size=7))
    bounds = load_or_estimate_bounds(
        model, x, k=20, ks=(1, 20), seed=3, batch_size=3, cache_dir=tmp_path
    )
    recipe_rng = np.random.default_rng(3)
    log_w = np.concatenate(
        [
            model.log_weights(model.batch_rows(x, slice(i, i + 3)), 20, recipe_rng)
            for i in (0, 3, 6)
        ],
        axis=1,
    )
    np.testing.assert_array_equal(bounds[20], vae_lib.bounds_by_k(log_w, (20,))[0])
    again = load_or_estimate_bounds(
        model, x, k=20, ks=(1, 20), seed=3, batch_size=3, cache_dir=tmp_path
    )
    np.testing.assert_array_equal(again[1], bounds[1])
