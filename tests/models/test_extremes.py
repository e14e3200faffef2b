"""Every registered model, at numeric extremes: a result is finite or a clear
FloatingPointError, never a silent NaN or infinity."""

import numpy as np
import pytest
from test_conformance import CASES, data, make, model_name

import vae_lib


def finite_or_refused(call):
    """Run ``call``; its arrays must be finite unless it raised FloatingPointError."""
    try:
        out = call()
    except FloatingPointError as err:
        assert "NaN or infinite" in str(err) or "not finite" in str(err), str(err)
        return
    arrays = out if isinstance(out, tuple) else (out,)
    for a in arrays:
        a = getattr(a, "loss", a)
        assert np.all(np.isfinite(np.asarray(a, dtype=np.float64))), a


@pytest.mark.parametrize("name", CASES)
def test_huge_noise_gives_a_finite_loss_or_a_clear_error(name):
    model, x = make(name), data(3, name=name)
    noise = model.draw_noise(x, np.random.default_rng(0))
    if not isinstance(noise, np.ndarray):
        pytest.skip(f"{name} draws no continuous noise")
    huge = noise * 1e30
    finite_or_refused(lambda: model.loss_and_grads(x, huge))


@pytest.mark.parametrize("name", CASES)
def test_huge_weights_give_finite_samples_or_a_clear_error(name):
    model, x = make(name), data(3, name=name)
    for p in model.params:
        p *= 1000
    labels = np.arange(3) % 4 if model_name(name) == "cvae" else None
    finite_or_refused(lambda: model.sample(3, np.random.default_rng(1), given=labels))
    finite_or_refused(lambda: model.reconstruct(x, np.random.default_rng(2)))


def test_the_ladder_vae_decodes_a_huge_top_code_or_refuses():
    config = vae_lib.HVAEConfig(
        input_dim=6, hidden_dims=(5,), latent_dim=3, top_latent_dim=2, top_hidden_dims=(4,)
    )
    model = vae_lib.HVAE(config, np.random.default_rng(0))
    finite_or_refused(lambda: model.generate(np.full((2, 2), 1e30), np.zeros((2, 3))))
