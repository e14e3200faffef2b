import numpy as np
import pytest

import vae_lib
from vae_lib import (
    VAE,
    VAEConfig,
    active_coordinates,
    active_units,
    importance_weighted_bound,
    log_importance_weights,
    nearest_centroid_accuracy,
)


@pytest.fixture
def small_model():
    rng = np.random.default_rng(0)
    return VAE(VAEConfig(dtype="float64"), rng), rng.uniform(size=(300, 16))


def test_log_weights_shape(small_model):
    model, x = small_model
    assert log_importance_weights(model, x[:7], 5, np.random.default_rng(0)).shape == (5, 7)


def test_l1_is_the_elbo_in_expectation(small_model):
    model, x = small_model
    rng = np.random.default_rng(1)
    l1 = np.stack([importance_weighted_bound(model, x, 1, rng) for _ in range(20)])
    elbo = model.elbo(x, rng, n_samples=20).elbo
    diff = (l1.mean(0) - elbo).mean()
    stderr = l1.std() / np.sqrt(l1.size)
    assert abs(diff) < 4 * stderr, (diff, stderr)


def test_lk_does_not_decrease_with_k(small_model):
    model, x = small_model
    rng = np.random.default_rng(2)
    bounds = [importance_weighted_bound(model, x, k, rng).mean() for k in (1, 10, 100)]
    assert bounds[0] < bounds[1] < bounds[2], bounds


def test_active_units_finds_a_dead_dimension():
    rng = np.random.default_rng(3)
    model = VAE(VAEConfig(latent_dim=3), rng)
    last = model.encoder.layers[-1]
    last.W[:, 1] = 0.0  # the mean of z_2 no longer depends on x
    active = active_units(model, rng.uniform(size=(200, 16)), threshold=1e-6)
    assert active.tolist() == [True, False, True]


def test_nearest_centroid_accuracy():
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 50)
    codes = np.eye(3)[labels] * 10 + rng.normal(size=(150, 3))
    assert nearest_centroid_accuracy(codes, labels) == 1.0
    assert nearest_centroid_accuracy(codes, rng.permutation(labels)) < 0.6
    with pytest.raises(ValueError, match=r"labels must have shape \(150,\); got \(3,\)"):
        nearest_centroid_accuracy(codes, labels[:3])


def test_active_coordinates_is_the_variance_rule():
    means = np.column_stack(
        [np.linspace(-1, 1, 50), np.full(50, 0.3), 0.05 * np.sin(np.arange(50))]
    )
    np.testing.assert_array_equal(active_coordinates(means), [True, False, False])
    np.testing.assert_array_equal(active_coordinates(means, threshold=1e-4), [True, False, True])


def test_active_coordinates_refuses_too_few_examples():
    with pytest.raises(ValueError, match="at least 2"):
        active_coordinates(np.zeros((1, 3)))


def test_kl_monitor_splits_the_closed_form_kl_over_units():
    from vae_lib.evaluation.active_units import KLMonitor
    from vae_lib.training.fit import History

    model = vae_lib.VAE(
        vae_lib.VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=3, dtype="float64"),
        np.random.default_rng(0),
    )
    x = np.random.default_rng(1).uniform(size=(20, 16))
    monitor = KLMonitor(x)
    values = monitor(model)
    total = sum(values[f"kl_{k}"] for k in range(3))
    assert total == pytest.approx(np.mean(model.elbo(x, np.random.default_rng(2)).kl))
    assert values["active"] == np.sum(vae_lib.active_units(model, x))
    assert KLMonitor(x[:10]).name != monitor.name
    history = History(monitored={name: [v, v] for name, v in values.items()})
    assert KLMonitor.per_unit(history).shape == (2, 3)
