"""Configs and models refuse what they cannot honour, before allocating anything, with an
error that names the field and the value (cases a probe of the library found)."""

import numpy as np
import pytest

import vae_lib as v


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: v.VQVAEConfig(codebook_size=10**10), None, None),  # a config is only numbers
        (
            lambda: v.VQVAE(v.VQVAEConfig(codebook_size=10**10), np.random.default_rng(0)),
            ValueError,
            r"makes 30,000,001,625 parameters; at most",
        ),
        (
            lambda: v.AFPriorVAE(
                v.AFPriorConfig(flow_hidden_dims=(10**9,)), np.random.default_rng(0)
            ),
            ValueError,
            "parameters; at most",
        ),
        (lambda: v.IWAEConfig(n_samples=10**9), ValueError, "n_samples must be at most 10,000"),
        (
            lambda: v.VQVAEConfig(ema_decay="0.5"),
            TypeError,
            "ema_decay must be a number; got '0.5'",
        ),
        (
            lambda: v.VLAEConfig(image_shape=5),
            TypeError,
            "image_shape must be .height, width.; got 5",
        ),
        (lambda: v.VAEConfig(beta="1"), TypeError, "beta must be a number; got '1'"),
        (lambda: v.VAEConfig(free_bits="0.5"), TypeError, "free_bits must be a number of nats"),
        (
            lambda: v.VAEConfig(kl_warmup_epochs=True),
            ValueError,
            "kl_warmup_epochs must be a whole",
        ),
        (lambda: v.VAEConfig(hidden_dims=None), TypeError, "hidden_dims must be a sequence"),
    ],
)
def test_a_config_that_cannot_be_honoured_is_refused(make, error, words):
    if error is None:
        make()
        return
    with pytest.raises(error, match=words):
        make()


def test_the_data_check_names_the_likelihood():
    model = v.VAE(v.VAEConfig(likelihood="gaussian"), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\[0, 1\] \(the data of a gaussian likelihood\)"):
        model.elbo(np.full((2, 16), 2.0), np.random.default_rng(0))
