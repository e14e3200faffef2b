"""Every registered model's public methods, given one generated bad argument at a time.

The models are the registry's, each built from its small config of the conformance suite
(``tests/models/test_conformance.py``, which no model can be registered without), so a new
model joins this search by registering. Each method of :data:`METHODS` that the model has
is called with valid arguments but one, replaced by a bad value: generic junk
(:func:`~tests.properties.bad_values.bad_arrays`, :func:`~tests.properties.bad_values.bad_scalars`)
or the valid value damaged (:func:`~tests.properties.bad_values.like`); the outcome must keep
the contract of :mod:`tests.properties.bad_values`.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.models.test_conformance import SMALL, batch, given_for
from tests.properties.bad_values import bad_arrays, bad_scalars, check, like, property_settings
from vae_lib import MODELS
from vae_lib.models import Model

NAMES = sorted(MODELS)
SETTINGS = property_settings(max_examples=20)

#: The methods of the model protocol searched, wherever a model has them.
METHODS = (
    "check_batch",
    "decode",
    "decode_mean",
    "draw_noise",
    "elbo",
    "encode",
    "log_weights",
    "loss_and_grads",
    "posterior_means",
    "reconstruct",
    "sample",
    "sample_data",
)
#: The words an error about each argument may use for it (a model calls its batch x, say);
#: codes whose number differs from that of the labels or images given with them may be
#: reported as the given values' mismatch.
ALIASES = {
    "batch": ("batch", "x", "y", "labels"),
    "x": ("x", "batch", "y", "labels"),
    "z": ("z", "codes", "given"),
    "codes": ("codes", "z", "given"),
    "given": ("given", "y", "labels", "x"),
    "noise": ("noise", "eps"),
}
#: Parameters that are labels for messages, not data.
NOT_DATA = ("name",)


def make(name):
    config = SMALL[name]
    return MODELS[name](config, np.random.default_rng(0))


def valid_arguments(name, model, method) -> dict:
    """Valid keyword arguments of ``model.method`` on a batch of 3 examples."""
    x = batch(name, np.random.default_rng(1).uniform(size=(3, SMALL[name].input_dim)))
    images = x[0] if isinstance(x, tuple) else x
    labels = np.arange(3) % 4 if name == "cvae" else None
    codes, _ = model.sample(3, np.random.default_rng(2), given=labels)
    config = model.config
    values = {
        "batch": x,
        "x": x,
        "z": codes,
        "codes": codes,
        "given": labels if method == "sample" else given_for(name, 3, images),
        "rng": np.random.default_rng(3),
        "k": 2,
        "n": 3,
        "n_samples": 2,
        "noise": model.draw_noise(x, np.random.default_rng(4)),
        "log_prior": (
            np.zeros((config.n_positions, config.codebook_size))
            if hasattr(config, "codebook_size")
            else None
        ),
    }
    parameters = [p for p in inspect.signature(getattr(model, method)).parameters]
    unknown = [p for p in parameters if p not in values and p not in NOT_DATA]
    assert not unknown, f"{name}.{method}: no valid value for {unknown}; add one above"
    return {p: values[p] for p in parameters if p not in NOT_DATA}


def implements(cls, method) -> bool:
    """Whether ``cls`` has ``method`` other than as the base class's NotImplementedError."""
    function = getattr(cls, method, None)
    if function is None:
        return False
    base = getattr(Model, method, None)
    return function is not base or "raise NotImplementedError" not in inspect.getsource(base)


CASES = [(name, method) for name in NAMES for method in METHODS if implements(MODELS[name], method)]
MODEL_CACHE: dict = {}


def test_every_registered_model_is_searched():
    assert set(NAMES) <= set(SMALL), "a registered model has no small config to search with"
    for name in NAMES:  # the protocol's methods are there for every model
        for method in ("check_batch", "loss_and_grads", "log_weights", "sample", "decode"):
            assert (name, method) in CASES


@pytest.mark.parametrize("name, method", CASES, ids=[f"{n}.{m}" for n, m in CASES])
@SETTINGS
@given(data=st.data())
def test_model_method_with_one_bad_argument(name, method, data):
    if name not in MODEL_CACHE:
        MODEL_CACHE[name] = make(name)
    model = MODEL_CACHE[name]
    kwargs = valid_arguments(name, model, method)
    argument = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    valid = kwargs[argument]
    bad = [bad_arrays(), bad_scalars()]
    if isinstance(valid, (np.ndarray, tuple)):
        bad.append(like(valid))
    value = data.draw(st.one_of(*bad), label="value")
    before = [p.copy() for p in model.params]
    check(
        lambda: getattr(model, method)(**{**kwargs, argument: value}),
        ALIASES.get(argument, (argument,)),
        value,
        what=f"{name}.{method}",
    )
    if method != "loss_and_grads":  # nothing but a training step's gradients may change
        assert all(np.array_equal(p, q) for p, q in zip(before, model.params))
