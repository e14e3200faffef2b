"""The exercises of the theory chapters whose solutions state what training does: each is
trained here as its solution describes (small pattern models, a few seconds each)."""

import numpy as np
import pytest

from vae_lib import VAE, VAEConfig, active_units, fit, patterns

SEEDS = range(3)  # "over three seeds"


def train(config, seed):
    x, _ = patterns(200, np.random.default_rng(seed), noise=0.05)
    model = VAE(config, np.random.default_rng(seed + 10))
    fit(
        model,
        x,
        epochs=300,
        batch_size=20,
        lr=3e-3,
        rng=np.random.default_rng(seed + 10),
        progress=False,
    )
    mu, logvar = model.encode(x)
    unit_kl = np.mean(mu**2 + np.exp(logvar) - 1 - logvar, axis=0) / 2
    return {
        "elbo": float(model.elbo(x, np.random.default_rng(1), n_samples=100).elbo.mean()),
        "active": int(active_units(model, x).sum()),
        "unit_kl": unit_kl,
    }


@pytest.fixture(scope="module")
def runs():
    configs = {
        "plain": VAEConfig(latent_dim=4),
        "free_bits": VAEConfig(latent_dim=4, free_bits=0.5),
        "warmup": VAEConfig(latent_dim=4, kl_warmup_epochs=100),
    }
    return {name: [train(c, seed) for seed in SEEDS] for name, c in configs.items()}


def test_kl_exercise_4_free_bits_activate_every_unit_and_cost_elbo(runs):
    for plain, free in zip(runs["plain"], runs["free_bits"]):
        assert plain["active"] in (2, 3)  # "two or three of the four units are active"
        assert free["active"] == 4  # "all four are active"
        assert np.all((free["unit_kl"] > 0.45) & (free["unit_kl"] < 0.7))  # "about 0.5 nats"
        assert 0.25 < plain["elbo"] - free["elbo"] < 0.55  # "by 0.3 to 0.5 nats"


def test_elbo_exercise_5_warmup_changes_nothing_here(runs):
    for plain, warm in zip(runs["plain"], runs["warmup"]):
        assert abs(plain["elbo"] - warm["elbo"]) < 0.15  # "differ by less than 0.15 nats"
        assert abs(plain["active"] - warm["active"]) <= 1  # "by at most one"
