import numpy as np
import pytest

import vae_lib
from vae_lib import VAE, VAEConfig
from vae_lib.testing import assert_gradient


def random_config(rng, beta=1.0, activation="relu"):
    return VAEConfig(
        input_dim=int(rng.integers(1, 9)),
        hidden_dims=tuple(int(h) for h in rng.integers(1, 8, size=int(rng.integers(0, 3)))),
        latent_dim=int(rng.integers(1, 4)),
        activation=activation,
        beta=beta,
        dtype="float64",
    )


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("beta", [1.0, 0.3, 4.0])
@pytest.mark.parametrize("seed", range(3))
def test_elbo_gradients_random_shapes(seed, beta, activation):
    rng = np.random.default_rng(seed)
    config = random_config(rng, beta, activation)
    model = VAE(config, rng)
    x = rng.uniform(size=(int(rng.integers(1, 6)), config.input_dim))
    eps = rng.standard_normal((len(x), config.latent_dim))

    def loss():
        return model.loss_and_grads(x, eps).loss

    loss()
    grads = [g.copy() for g in model.grads]
    for name, p, g in zip(model.param_names(), model.params, grads):
        assert_gradient(g, loss, p, name)


def test_loss_and_grads_agrees_with_elbo_terms():
    rng = np.random.default_rng(0)
    model = VAE(VAEConfig(dtype="float64", beta=2.0), rng)
    x = rng.uniform(size=(8, 16))
    result = model.loss_and_grads(x, model.draw_noise(x, np.random.default_rng(5)))
    terms = result.terms
    per_example = model.elbo(x, np.random.default_rng(5))
    # with β = 2 the step minimises recon - 2·KL, and reports the ELBO, recon - KL, beside it
    assert list(terms) == ["objective", "elbo", "recon", "kl"]
    assert result.loss == -terms["objective"]
    assert terms["objective"] == pytest.approx(terms["recon"] - 2.0 * terms["kl"])
    assert terms["elbo"] == pytest.approx(terms["recon"] - terms["kl"])
    assert terms["elbo"] == pytest.approx(per_example.elbo.mean())
    np.testing.assert_allclose(per_example.elbo, per_example.recon - per_example.kl)


def test_at_beta_one_the_objective_is_the_elbo():
    rng = np.random.default_rng(0)
    model = VAE(VAEConfig(dtype="float64"), rng)
    x = rng.uniform(size=(8, 16))
    result = model.loss_and_grads(x, model.draw_noise(x, rng))
    assert list(result.terms) == ["elbo", "recon", "kl"]
    assert result.loss == -result.terms["elbo"]


def test_shapes_and_ranges():
    rng = np.random.default_rng(0)
    model = VAE(VAEConfig(input_dim=16, hidden_dims=(32,), latent_dim=2), rng)
    x = rng.uniform(size=(10, 16))
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (10, 2)
    assert model.decode(mu).shape == (10, 16)
    means = model.decode_mean(rng.normal(size=(4, 2)))
    assert means.dtype == np.float32 and np.all((means > 0) & (means < 1))
    z, images = model.sample(6, rng)
    assert z.shape == (6, 2) and images.shape == (6, 16)
    assert model.num_params() == (16 * 32 + 32 + 32 * 4 + 4) + (2 * 32 + 32 + 32 * 16 + 16)


def test_same_seed_same_model():
    a = VAE(VAEConfig(), np.random.default_rng(9))
    b = VAE(VAEConfig(), np.random.default_rng(9))
    x = np.random.default_rng(0).uniform(size=(3, 16))
    np.testing.assert_array_equal(a.encode(x)[0], b.encode(x)[0])


@pytest.mark.parametrize(
    "x, error, words",
    [
        (np.zeros((3, 15)), ValueError, r"x must have shape \(N, 16\); got shape \(3, 15\)"),
        (np.zeros(16), ValueError, r"x must be a 2-D array"),
        (np.full((2, 16), np.nan), ValueError, "x must be finite; got 32 NaN"),
        (np.full((2, 16), 2.0), ValueError, r"x must lie in \[0, 1\]"),
        (np.full((2, 16), "a"), TypeError, "x must be an array of numbers"),
    ],
)
def test_bad_data(x, error, words):
    model = VAE(VAEConfig(), np.random.default_rng(0))
    with pytest.raises(error, match=words):
        model.encode(x)


def test_bad_codes_and_arguments():
    model = VAE(VAEConfig(), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\); got shape \(1, 3\)"):
        model.decode(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        model.sample(3, rng=42)
    with pytest.raises(ValueError, match="n must be at least 1; got 0"):
        model.sample(0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="noise must be an array of numbers; got NoneType"):
        model.loss_and_grads(np.zeros((1, 16)), None)
    with pytest.raises(ValueError, match=r"noise must have shape \(1, 2\)"):
        model.loss_and_grads(np.zeros((1, 16)), np.zeros((2, 2)))
    with pytest.raises(TypeError, match="config must be a VAEConfig; got dict"):
        VAE({"input_dim": 16}, np.random.default_rng(0))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"input_dim": 0}, ValueError, "input_dim must be at least 1; got 0"),
        ({"latent_dim": 2.5}, TypeError, "latent_dim must be an integer; got float"),
        ({"activation": "sigmoid"}, ValueError, "activation must be one of"),
        ({"beta": -1.0}, ValueError, "beta must be a finite number of at least 0; got -1.0"),
        ({"dtype": "float16"}, ValueError, "dtype must be 'float32' or 'float64'"),
    ],
)
def test_bad_config(kwargs, error, words):
    with pytest.raises(error, match=words):
        VAEConfig(**kwargs)


def test_config_round_trip():
    c = VAEConfig(input_dim=784, hidden_dims=[512], latent_dim=20)
    assert VAEConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown VAEConfig field"):
        VAEConfig.from_dict({"width": 3})


@pytest.mark.parametrize("free_bits", [0.05, 0.4, 3.0])
def test_free_bits_gradients_and_objective(free_bits):
    rng = np.random.default_rng(3)
    config = VAEConfig(
        input_dim=5, hidden_dims=(4,), latent_dim=3, free_bits=free_bits, beta=1.5, dtype="float64"
    )
    model = VAE(config, rng)
    x = rng.uniform(size=(7, 5))
    eps = rng.standard_normal((7, 3))
    result = model.loss_and_grads(x, eps)
    mu, logvar = model.encode(x)
    unit_kl = 0.5 * np.mean(mu**2 + np.exp(logvar) - 1 - logvar, axis=0)
    rate = np.sum(np.maximum(free_bits, unit_kl))
    assert result.terms["objective"] == pytest.approx(result.terms["recon"] - 1.5 * rate)
    assert result.terms["kl"] == pytest.approx(unit_kl.sum())

    def loss():
        return model.loss_and_grads(x, eps).loss

    loss()
    grads = [g.copy() for g in model.grads]
    for name, p, g in zip(model.param_names(), model.params, grads):
        assert_gradient(g, loss, p, name)


def test_kl_warmup_weights_the_kl_term_by_epoch():
    rng = np.random.default_rng(0)
    model = VAE(VAEConfig(kl_warmup_epochs=4, dtype="float64"), rng)
    x = rng.uniform(size=(6, 16))
    eps = model.draw_noise(x, rng)
    assert model.kl_weight == 1.0  # a fresh model evaluates the full objective
    for epoch, weight in [(0, 0.25), (2, 0.75), (3, 1.0), (10, 1.0)]:
        model.start_epoch(epoch)
        terms = model.loss_and_grads(x, eps).terms
        assert model.kl_weight == weight
        assert terms["objective"] == pytest.approx(terms["recon"] - weight * terms["kl"])


def test_fit_runs_the_warmup_schedule():
    rng = np.random.default_rng(0)
    x, _ = vae_lib.patterns(60, rng)
    model = VAE(VAEConfig(kl_warmup_epochs=3, dtype="float64"), rng)
    history = vae_lib.fit(model, x, epochs=5, rng=rng, batch_size=20, progress=False)
    objective, recon, kl = (np.array(history[t]) for t in ("objective", "recon", "kl"))
    assert objective[0] > history["elbo"][0]  # the first epoch pays a third of the KL
    np.testing.assert_allclose(objective[3:], recon[3:] - kl[3:])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("kl_warmup_epochs", -1, "kl_warmup_epochs must be a whole number"),
        ("kl_warmup_epochs", 2.5, "kl_warmup_epochs must be a whole number"),
        ("free_bits", -0.1, "free_bits must be a finite number"),
        ("free_bits", float("nan"), "free_bits must be a finite number"),
    ],
)
def test_schedule_settings_are_checked(field, value, message):
    with pytest.raises(ValueError, match=message):
        VAEConfig(**{field: value})
