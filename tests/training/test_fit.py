import numpy as np
import pytest

import vae_lib
from vae_lib import VAE, VAEConfig, fit, nearest_centroid_accuracy, patterns


def test_training_raises_the_elbo(trained_pattern_vae):
    h = trained_pattern_vae["history"]
    assert len(h.epoch) == 300 and h.epoch[0] == 1
    assert np.mean(h["elbo"][-20:]) > h["elbo"][0] + 5.0  # nats per image
    assert "300 epochs of 200 examples in batches of 20" in h.summary()


def test_trained_latents_cluster_by_pattern(trained_pattern_vae):
    t = trained_pattern_vae
    mu, _ = t["model"].encode(t["x"])
    assert nearest_centroid_accuracy(mu, t["labels"]) >= 0.95


def test_trained_reconstructions_match_inputs(trained_pattern_vae):
    t = trained_pattern_vae
    trained = np.mean((t["model"].reconstruct(t["x"]) - t["x"]) ** 2)
    untrained = np.mean((t["untrained"].reconstruct(t["x"]) - t["x"]) ** 2)
    assert trained < 0.05 * untrained, (trained, untrained)


def test_same_seed_same_numbers():
    def run():
        rng = np.random.default_rng(3)
        x, _ = patterns(40, rng)
        model = VAE(VAEConfig(), rng)
        return fit(model, x, epochs=5, batch_size=8, rng=rng, progress=False), model

    (h1, m1), (h2, m2) = run(), run()
    assert h1.terms == h2.terms and h1.loss == h2.loss
    for p, q in zip(m1.params, m2.params):
        np.testing.assert_array_equal(p, q)


def test_continuing_a_run_keeps_counting_epochs():
    rng = np.random.default_rng(0)
    x, _ = patterns(20, rng)
    model = VAE(VAEConfig(), rng)
    h = fit(model, x, epochs=2, rng=rng, progress=False)
    fit(model, x, epochs=3, rng=rng, progress=False, history=h)
    assert h.epoch == [1, 2, 3, 4, 5]
    assert h.seconds == sorted(h.seconds)


def test_transform_is_applied_every_epoch():
    rng = np.random.default_rng(0)
    x, _ = patterns(20, rng)
    calls = []

    def binarize(x, rng):
        calls.append(1)
        return (rng.uniform(size=x.shape) < x).astype(x.dtype)

    fit(VAE(VAEConfig(), rng), x, epochs=4, rng=rng, transform=binarize, progress=False)
    assert len(calls) == 4


def test_transform_output_is_checked():
    rng = np.random.default_rng(0)
    x, _ = patterns(8, rng)
    with pytest.raises(ValueError, match=r"transform\(data\) must lie in \[0, 1\]"):
        fit(VAE(VAEConfig(), rng), x, epochs=1, rng=rng, transform=lambda x, r: x + 1)


def test_progress_prints_about_ten_lines(capsys):
    rng = np.random.default_rng(0)
    x, _ = patterns(8, rng)
    fit(VAE(VAEConfig(), rng), x, epochs=30, rng=rng)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("epoch   30  ELBO")


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"epochs": 0}, ValueError, "epochs must be at least 1; got 0"),
        ({"batch_size": 2.0}, TypeError, "batch_size must be an integer; got float"),
        ({"lr": float("nan")}, ValueError, "lr must be a finite number greater than 0; got nan"),
        ({"rng": 1}, TypeError, r"rng must be a numpy.random.Generator .*; got int"),
        ({"model": "vae"}, TypeError, "model must be a vae_lib model; got str"),
    ],
)
def test_bad_arguments(kwargs, error, words):
    rng = np.random.default_rng(0)
    x, _ = patterns(8, rng)
    args = {"model": VAE(VAEConfig(), rng), "data": x, "epochs": 1, "rng": rng, **kwargs}
    with pytest.raises(error, match=words):
        fit(**args)


def test_divergence_is_reported_not_hidden():
    rng = np.random.default_rng(0)
    x, _ = patterns(8, rng)
    with (
        np.errstate(all="ignore"),
        pytest.raises(
            FloatingPointError, match="training diverged at epoch .* back to its weights"
        ),
    ):
        fit(VAE(VAEConfig(), rng), x, epochs=50, lr=1e6, rng=rng, progress=False)


def test_an_optimizer_of_another_model_is_refused():
    rng = np.random.default_rng(0)
    x, _ = patterns(8, rng)
    model, other = VAE(VAEConfig(), rng), VAE(VAEConfig(), rng)
    with pytest.raises(ValueError, match="optimizer was made for other arrays"):
        fit(model, x, epochs=1, rng=rng, optimizer=vae_lib.Adam(other.params), progress=False)


def test_a_diverged_fit_leaves_the_model_of_the_last_finite_epoch():
    def start():
        rng = np.random.default_rng(0)
        x, _ = patterns(8, rng)
        model = VAE(VAEConfig(), rng)
        return model, x, rng, fit(model, x, epochs=2, rng=rng, progress=False)

    model, x, rng, history = start()
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as raised:
        fit(model, x, epochs=50, lr=1e6, rng=rng, progress=False, history=history)
    last = history.epoch[-1]
    assert f"diverged at epoch {last + 1}" in str(raised.value)
    assert f"back to its weights after epoch {last}" in str(raised.value)
    # the same run stopped at the last finite epoch has exactly these weights
    twin, x, rng, twin_history = start()
    fit(twin, x, epochs=last - 2, lr=1e6, rng=rng, progress=False, history=twin_history)
    assert all(np.array_equal(p, q) for p, q in zip(model.params, twin.params))
    assert all(np.all(np.isfinite(p)) for p in model.params)
    # weights this large overflow float32: evaluating the model says so instead of NaN
    with pytest.raises(FloatingPointError, match="the weights are too large"):
        model.elbo(x, rng)
