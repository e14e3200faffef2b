"""Every public function, class and method of the autoregressive, flow and quantization
modules, given one generated bad argument at a time.

The public names are enumerated from the modules themselves (each function and class
defined there whose name has no leading underscore, and each method with arguments that a
class defines), and the first test fails for any that has no entry in :data:`CASES`: a new
public function joins the search by being added here. The outcome must keep the contract
of :mod:`tests.properties.bad_values`.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.properties.bad_values import bad_arrays, bad_scalars, check, like, property_settings
from vae_lib.core import autoregressive, flows, quantization
from vae_lib.core.autoregressive import (
    MADE,
    AutoregressiveNetwork,
    DrawPlan,
    MaskedLinear,
    causal_window_mask,
    check_steps,
    column_blocks,
    made_degrees,
    made_masks,
    receptive_field_masks,
    step_groups,
    wavefront_steps,
)
from vae_lib.core.flows import AffineAutoregressiveFlow
from vae_lib.core.quantization import Codebook, ema_codebook_update, kmeans_plus_plus, nearest_codes

MODULES = (autoregressive, flows, quantization)
SETTINGS = property_settings(max_examples=25)


def public_names(module) -> list[str]:
    """``module``'s public functions and classes, and the public methods with arguments
    that its classes define (``Class.method``; a class itself stands for its constructor)."""
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            names.append(name)
        elif inspect.isclass(obj):
            names.append(name)
            for method, attr in vars(obj).items():
                function = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
                if method.startswith("_") or not inspect.isfunction(function):
                    continue
                parameters = list(inspect.signature(function).parameters)
                if parameters[0 if isinstance(attr, staticmethod) else 1 :]:  # not self alone
                    names.append(f"{name}.{method}")
    return names


def rng(seed=0):
    return np.random.default_rng(seed)


FIELD = causal_window_mask(2, 3, 1)  # 6 pixels, each seeing a window of the ones before
MASK = made_masks(3, (4,))[0]  # (3, 4)
X3 = rng(1).uniform(size=(2, 3))
X6 = rng(2).uniform(size=(2, 6))
Z = rng(3).standard_normal((5, 2))
EMBEDDINGS = rng(4).standard_normal((4, 2))


def layer(**kwargs):
    return MaskedLinear(MASK, rng(), np.float64, **kwargs)


def network():
    return AutoregressiveNetwork(FIELD, 2, rng(), np.float64)


def flow():
    return AffineAutoregressiveFlow(3, (4,), rng(), dtype=np.float64)


def after_forward(make, x, method):
    """``method`` of a fresh object on which ``forward(x)`` has run."""

    def call(**kwargs):
        obj = make()
        obj.forward(x)
        return getattr(obj, method)(**kwargs)

    return call


def ema_update(**kwargs):
    """:func:`ema_codebook_update` on copies of its in-place arguments."""
    kwargs = {
        k: (np.copy(a) if k in ("count", "total") and isinstance(a, np.ndarray) else a)
        for k, a in kwargs.items()
    }
    return ema_codebook_update(**kwargs)


#: Each public name: (the call, its valid keyword arguments). Arguments that are generators
#: are made afresh for each call.
CASES = {
    # autoregressive
    "MaskedLinear": (
        MaskedLinear,
        {"mask": MASK, "rng": rng, "dtype": np.float64, "bias": True},
    ),
    "MaskedLinear.forward": (lambda x: layer().forward(x), {"x": X3}),
    "MaskedLinear.backward": (
        after_forward(layer, X3, "backward"),
        {"dy": np.ones((2, 4)), "need_input_grad": True},
    ),
    "made_degrees": (made_degrees, {"n_in": 3, "hidden_dims": (4,), "n_out_per_input": 2}),
    "column_blocks": (column_blocks, {"mask": MASK, "n_blocks": 2, "worth": 0.5}),
    "made_masks": (made_masks, {"n_in": 3, "hidden_dims": (4, 5), "n_out_per_input": 2}),
    "MADE": (
        MADE,
        {
            "n_in": 3,
            "hidden_dims": (4,),
            "rng": rng,
            "n_out_per_input": 2,
            "activation": "relu",
            "dtype": np.float64,
        },
    ),
    "causal_window_mask": (causal_window_mask, {"height": 2, "width": 3, "window": 1}),
    "receptive_field_masks": (
        receptive_field_masks,
        {"field_mask": FIELD, "units_per_pixel": 2},
    ),
    "AutoregressiveNetwork": (
        AutoregressiveNetwork,
        {"field_mask": FIELD, "units_per_pixel": 2, "rng": rng, "dtype": np.float64},
    ),
    "AutoregressiveNetwork.n_allocated": (AutoregressiveNetwork.n_allocated, {"d": 6, "k": 2}),
    "AutoregressiveNetwork.param_shapes": (
        AutoregressiveNetwork.param_shapes,
        {"d": 6, "units_per_pixel": 2},
    ),
    "AutoregressiveNetwork.forward": (lambda x: network().forward(x), {"x": X6}),
    "AutoregressiveNetwork.backward": (
        after_forward(network, X6, "backward"),
        {"dy": np.ones((2, 6)), "need_input_grad": True},
    ),
    "AutoregressiveNetwork.draw": (
        lambda **kwargs: network().draw(**kwargs),
        {
            "base_logits": X6 - 0.5,
            "steps": wavefront_steps(FIELD),
            "choose": lambda pixels, logits: logits > 0,
        },
    ),
    "AutoregressiveNetwork.draw_plan": (
        lambda **kwargs: network().draw_plan(**kwargs),
        {"steps": wavefront_steps(FIELD)},
    ),
    "DrawPlan": (
        lambda **kwargs: DrawPlan(network(), **kwargs),
        {"steps": wavefront_steps(FIELD)},
    ),
    "DrawPlan.draw": (
        lambda **kwargs: network().draw_plan(wavefront_steps(FIELD)).draw(**kwargs),
        {"base_logits": X6 - 0.5, "choose": lambda pixels, logits: logits > 0},
    ),
    "AutoregressiveNetwork.sample": (
        lambda **kwargs: network().sample(**kwargs),
        {"base_logits": X6 - 0.5, "u": X6, "steps": wavefront_steps(FIELD)},
    ),
    "wavefront_steps": (wavefront_steps, {"field_mask": FIELD}),
    "check_steps": (check_steps, {"steps": np.arange(6), "field_mask": FIELD}),
    "step_groups": (step_groups, {"steps": wavefront_steps(FIELD)}),
    # flows
    "AffineAutoregressiveFlow": (
        AffineAutoregressiveFlow,
        {"dim": 3, "hidden_dims": (4,), "rng": rng, "activation": "tanh", "dtype": np.float64},
    ),
    "AffineAutoregressiveFlow.sizes": (
        AffineAutoregressiveFlow.sizes,
        {"dim": 3, "hidden_dims": (4,)},
    ),
    "AffineAutoregressiveFlow.forward": (lambda z: flow().forward(z), {"z": X3}),
    "AffineAutoregressiveFlow.backward": (
        after_forward(flow, X3, "backward"),
        {"du": np.ones((2, 3)), "ds": np.ones((2, 3))},
    ),
    "AffineAutoregressiveFlow.inverse": (lambda u: flow().inverse(u), {"u": X3}),
    # quantization
    "nearest_codes": (nearest_codes, {"z": Z, "embeddings": EMBEDDINGS}),
    "ema_codebook_update": (
        ema_update,
        {
            "count": np.ones(4),
            "total": EMBEDDINGS,
            "codes": np.array([0, 1, 1, 3, 2]),
            "z": Z,
            "decay": 0.9,
            "epsilon": 1e-5,
        },
    ),
    "kmeans_plus_plus": (kmeans_plus_plus, {"z": Z, "k": 3, "rng": rng}),
    "Codebook": (
        Codebook,
        {"codebook_size": 4, "code_dim": 2, "ema": True, "rng": rng, "dtype": np.float64},
    ),
    "Codebook.shapes": (Codebook.shapes, {"codebook_size": 4, "code_dim": 2, "ema": True}),
}
#: Arguments that a value of any type may take (a flag is read for its truth).
FLAGS = ("bias", "ema", "need_input_grad")
#: A layer's passes check the type and shape of what they are given but let NaN and infinity
#: through, as an overflow upstream leaves them (the model reports it with its cause): a
#: non-finite result is allowed from these where a non-finite value went in.
PASSES = (
    "AutoregressiveNetwork.backward",
    "AutoregressiveNetwork.forward",
    "AffineAutoregressiveFlow.backward",
    "MaskedLinear.backward",
    "MaskedLinear.forward",
)


def has_nonfinite(value) -> bool:
    if isinstance(value, (str, bytes)) or value is None:
        return False
    a = np.asarray(value)
    return a.dtype.kind == "f" and not np.all(np.isfinite(a))


def quietly(call):
    """``call()`` without numpy's warnings about NaN or infinity in its arithmetic."""
    with np.errstate(all="ignore"):
        return call()


def test_every_public_name_has_a_bad_input_case():
    names = {name for module in MODULES for name in public_names(module)}
    assert names - set(CASES) == set(), "public names with no bad-input case: add them"
    assert set(CASES) - names == set(), "cases for names that are gone or private"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_valid_arguments_are_valid(name):
    call, kwargs = CASES[name]
    check(lambda: call(**fresh(kwargs)), "(none)", "(valid)", what=name)


def fresh(kwargs):
    return {k: (a() if a is rng else a) for k, a in kwargs.items()}


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_one_bad_argument(name, data):
    call, kwargs = CASES[name]
    argument = data.draw(
        st.sampled_from(sorted(a for a in kwargs if a not in FLAGS)), label="argument"
    )
    valid = kwargs[argument]
    bad = [bad_arrays(), bad_scalars()]
    if isinstance(valid, np.ndarray):
        bad.append(like(valid))
    value = data.draw(st.one_of(*bad), label="value")
    passes_nonfinite = name in PASSES and has_nonfinite(value)
    check(
        lambda: quietly(lambda: call(**{**fresh(kwargs), argument: value})),
        argument,
        value,
        what=name,
        nonfinite_allowed=passes_nonfinite,
    )
