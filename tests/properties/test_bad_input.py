"""Property-based search for bad input over the public API (hypothesis).

For each public function, one argument at a time is replaced by a generated bad value
(wrong dtype, wrong shape, empty, NaN or infinite entries, absurd sizes) while the others
stay valid. The only outcomes allowed are a correct result (finite numbers) or a
``ValueError``/``TypeError``/``FloatingPointError`` whose message names the argument, and
no call may hang (:mod:`tests.properties.bad_values`). The example database is kept out of
the repository.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vae_lib as v
from tests.properties.bad_values import (
    NUMPY_INTERNAL,
    bad_arrays,
    bad_scalars,
    check,
    property_settings,
)
from vae_lib import views

SETTINGS = property_settings(max_examples=50)

CONFIG = v.VAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=2)
MODELS = {
    "vae": v.VAE(CONFIG, np.random.default_rng(0)),
    "iwae": v.IWAE(
        v.IWAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=2, n_samples=2),
        np.random.default_rng(0),
    ),
}


def rng():
    return np.random.default_rng(0)


X = np.random.default_rng(1).uniform(size=(3, 6))
CALLS = {
    # name of the function: (function, valid keyword arguments)
    "bernoulli_log_likelihood": (v.bernoulli_log_likelihood, {"x": X, "logits": X}),
    "bernoulli_log_likelihood_grad": (v.bernoulli_log_likelihood_grad, {"x": X, "logits": X}),
    "gaussian_log_density": (v.gaussian_log_density, {"z": X, "mu": X, "logvar": X}),
    "standard_normal_log_density": (v.standard_normal_log_density, {"z": X}),
    "kl_standard_normal": (v.kl_standard_normal, {"mu": X, "logvar": X}),
    "kl_standard_normal_grad": (v.kl_standard_normal_grad, {"mu": X, "logvar": X}),
    "kl_diag_gaussians": (
        v.kl_diag_gaussians,
        {"mu_q": X, "logvar_q": X, "mu_p": X, "logvar_p": X},
    ),
    "kl_per_dimension": (v.kl_per_dimension, {"mu": X, "logvar": X}),
    "reparameterize_backward": (v.reparameterize_backward, {"dz": X, "logvar": X, "eps": X}),
    "log_mean_exp": (v.log_mean_exp, {"a": X}),
    "logsumexp": (v.logsumexp, {"a": X}),
    "binarize_static": (v.binarize_static, {"x": X}),
    "bounds_by_k": (v.bounds_by_k, {"log_weights": -X, "ks": [1, 2]}),
    "pca": (v.pca, {"x": X, "n_components": 2}),
    "tile_images": (views.tile_images, {"images": X, "image_shape": (2, 3), "ncols": 3}),
    "normal_quantiles": (views.normal_quantiles, {"n": 5}),
    "trapezoid_grid": (v.trapezoid_grid, {"limit": 3.0, "n": 5}),
    "latent_grid": (v.latent_grid, {"latent_dim": 2, "limit": 3.0, "n": 5}),
    "patterns": (v.patterns, {"n": 4, "rng": np.random.default_rng(0)}),
    "interpolate": (views.interpolate, {"z_start": X[0], "z_end": X[1], "alphas": [0.0, 0.5]}),
}


@pytest.mark.parametrize("function", sorted(CALLS))
@SETTINGS
@given(data=st.data())
def test_functions_with_one_bad_argument(function, data):
    f, kwargs = CALLS[function]
    name = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(st.one_of(bad_arrays(), bad_scalars()), label="value")
    check(lambda: f(**{**kwargs, name: value}), name, value)


METHODS = {
    "encode": {"x": X},
    "decode": {"z": X[:, :2]},
    "elbo": {"x": X, "rng": None, "n_samples": 2},
    "log_weights": {"x": X, "k": 2, "rng": None},
    "sample": {"n": 3, "rng": None},
    "loss_and_grads": {"batch": X, "noise": None},
    "check_batch": {"batch": X},
}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("method", sorted(METHODS))
@SETTINGS
@given(data=st.data())
def test_model_methods_with_one_bad_argument(model, method, data):
    net = MODELS[model]
    kwargs = {k: (rng() if k == "rng" else val) for k, val in METHODS[method].items()}
    if method == "loss_and_grads":
        kwargs["noise"] = net.draw_noise(X, rng())
    name = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(st.one_of(bad_arrays(), bad_scalars()), label="value")
    check(lambda: getattr(net, method)(**{**kwargs, name: value}), name, value)


EVALUATIONS = {
    "importance_weighted_bound": (v.importance_weighted_bound, {"x": X, "k": 2}),
    "active_units": (v.active_units, {"x": X, "threshold": 0.01}),
    "fit": (v.fit, {"data": X, "epochs": 1, "batch_size": 2, "lr": 1e-3, "progress": False}),
}


@pytest.mark.parametrize("function", sorted(EVALUATIONS))
@SETTINGS
@given(data=st.data())
def test_model_functions_with_one_bad_argument(function, data):
    f, kwargs = EVALUATIONS[function]
    model = MODELS["vae"].copy()
    if function != "active_units":
        kwargs = {**kwargs, "rng": rng()}
    name = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(st.one_of(bad_arrays(), bad_scalars()), label="value")
    check(lambda: f(model, **{**kwargs, name: value}), name, value)


@SETTINGS
@given(data=st.data())
def test_damaged_model_files_are_refused_never_loaded(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("damaged")
    path = v.save_model(MODELS["vae"], folder / "m.npz")
    raw = bytearray(path.read_bytes())
    kind = data.draw(st.sampled_from(["flip", "truncate", "zero"]), label="damage")
    at = data.draw(st.integers(0, len(raw) - 1), label="position")
    if kind == "flip":
        raw[at] ^= data.draw(st.integers(1, 255), label="bits")
    elif kind == "truncate":
        raw = raw[:at]
    else:
        raw[at : at + 64] = bytes(len(raw[at : at + 64]))
    path.write_bytes(bytes(raw))
    try:
        model, _ = v.load_model(path)
    except ValueError as err:
        assert not any(bad in str(err) for bad in NUMPY_INTERNAL[2:]), str(err)
    else:  # a change the checksums cannot see (zip padding): the weights must be the same
        assert all(np.array_equal(p, q) for p, q in zip(model.params, MODELS["vae"].params))
