"""Generated bad values, and the one contract every public function is held to.

A call given a bad value either returns a correct result (finite numbers) or raises a
``ValueError``, ``TypeError`` or (for non-finite numerics) ``FloatingPointError`` whose
message names the argument and is not one of numpy's own; nothing else may escape
(``IndexError``, ``AttributeError``, ``OverflowError``, ``MemoryError``, ``RecursionError``
...), and no call may hang (:func:`tests.guards.returns`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vae_lib as v
from tests.guards import returns

#: Messages of numpy's (and Python's) own that mean a check is missing.
NUMPY_INTERNAL = (
    "zero-size array",
    "could not be broadcast",
    "index ",
    "out of bounds",
    "object arrays",
    "unsupported operand",
    "ufunc",
    "gufunc",
    "not supported between",
    "has no attribute",
    "cannot reshape",
    "truth value of an array",
    "Probabilities contain",
    "probabilities are not",
    "could not convert",
    "invalid literal for",
    "object of type",
    "not subscriptable",
    "not iterable",
    "unhashable",
    "arrays used as indices",
    "only integers, slices",
    "mismatch in its core dimension",
)
#: The only errors bad input may raise.
CLEAR_ERRORS = (ValueError, TypeError, FloatingPointError)


def property_settings(max_examples: int):
    """Hypothesis settings for the bad-input searches: reproducible, no example database."""
    return settings(
        max_examples=max_examples,
        deadline=None,  # no clock: a hang is caught by tests.guards.returns
        database=None,  # keeps .hypothesis/ out of the repository
        derandomize=True,  # the same examples on every run, so that CI is reproducible
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )


def bad_arrays():
    """Arrays and objects no numeric function should accept silently."""
    shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
    return st.one_of(
        hnp.arrays(np.float64, shapes, elements=st.sampled_from([np.nan, np.inf, -np.inf, 0.5])),
        hnp.arrays(np.float64, shapes, elements=st.floats(-1e3, 1e3)),
        hnp.arrays(np.float64, shapes, elements=st.sampled_from([1e300, -1e300, 0.0])),
        hnp.arrays(np.complex128, shapes, elements=st.complex_numbers(max_magnitude=2)),
        hnp.arrays(np.bool_, shapes),
        hnp.arrays(np.int64, shapes, elements=st.integers(-(2**40), 2**40)),
        shapes.map(lambda s: np.full(s, "a")),
        st.sampled_from(["abc", None, object(), [1, "a"], ["a", "b"], {"a": 1}, b"xy", (), []]),
        shapes.map(lambda s: np.zeros(s, dtype=object)),
        shapes.map(lambda s: np.zeros(s)),  # right type, perhaps wrong shape or empty
    )


def bad_scalars():
    """Numbers and non-numbers where a count, a size or a rate is wanted."""
    return st.one_of(
        st.sampled_from(
            [0, -1, -12.0, 10**12, 2**63, 2.5, np.nan, np.inf, -np.inf, "x", None, True, False]
        ),
        st.sampled_from([[3], np.int64(-2), np.float64(3.0), np.array([2, 3]), 1e300]),
        st.integers(-10, 10),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def _set_entry(value):
    def change(a, index):
        a = np.array(a, dtype=np.result_type(a.dtype, type(value)), copy=True)
        a.flat[index % a.size] = value
        return a

    return change


#: What :func:`like` does to a valid array: (name, function of the array and an index).
CHANGES = {
    "nan entry": _set_entry(np.nan),
    "inf entry": _set_entry(np.inf),
    "-inf entry": _set_entry(-np.inf),
    "huge entry": _set_entry(1e300),
    "-huge entry": _set_entry(-1e300),
    "entry 2": _set_entry(2.0),
    "entry -0.5": _set_entry(-0.5),
    "entry -1": _set_entry(-1),
    "entry 10**9": _set_entry(10**9),
    "entry 0.5": _set_entry(0.5),
    "bools": lambda a, i: a.astype(bool),
    "ints": lambda a, i: a.astype(np.int64),
    "floats": lambda a, i: a.astype(np.float64) + 0.25,
    "float16": lambda a, i: a.astype(np.float16),
    "strings": lambda a, i: a.astype(str),
    "objects": lambda a, i: a.astype(object),
    "complex": lambda a, i: a.astype(np.complex128),
    "list of strings": lambda a, i: [str(e) for e in np.ravel(a)],
    "nested list": lambda a, i: a.tolist(),
    "one column less": lambda a, i: a[..., :-1],
    "one column more": lambda a, i: np.concatenate([a, a[..., :1]], axis=-1),
    "no rows": lambda a, i: a[:0],
    "one row less": lambda a, i: a[:-1],
    "one row more": lambda a, i: np.concatenate([a, a[:1]]),
    "flattened": lambda a, i: np.ravel(a),
    "first row": lambda a, i: a[0],
    "a new axis": lambda a, i: a[None],
    "transposed": lambda a, i: np.swapaxes(a, 0, -1),
    "one entry": lambda a, i: a.flat[i % a.size],
    "reversed": lambda a, i: a[::-1],
}


def like(valid):
    """Bad values made from a valid array: one entry changed, the dtype changed, a row or a
    column too many or too few, the wrong rank (the valid value itself may come out, as the
    change of an array to which it does not apply)."""
    if isinstance(valid, tuple):
        return st.one_of(
            *(
                st.tuples(*(like(p) if j == i else st.just(p) for j, p in enumerate(valid)))
                for i in range(len(valid))
            ),
            st.just(valid[0]),  # the images without their labels
            st.just((*valid, valid[0])),
        )
    a = np.asarray(valid)
    if a.dtype == object or a.ndim == 0 or a.size == 0:
        return st.just(valid)
    return st.builds(
        lambda change, index: CHANGES[change](a, index),
        st.sampled_from(sorted(CHANGES)),
        st.integers(0, a.size - 1),
    )


def finite(result) -> bool:
    """Whether every number in ``result`` (arrays, tuples, dicts, bounds) is finite."""
    if result is None or isinstance(result, (str, bytes, bool)):
        return True
    if isinstance(result, (tuple, list)):
        return all(finite(r) for r in result)
    if isinstance(result, dict):
        return all(finite(r) for r in result.values())
    if isinstance(result, v.LossTerms):
        return bool(np.isfinite(result.loss)) and finite(list(result.terms.values()))
    if hasattr(result, "__dataclass_fields__"):
        return finite([getattr(result, f) for f in result.__dataclass_fields__])
    a = np.asarray(result)
    if np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating):
        return bool(np.all(np.isfinite(a)))
    return True


def describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check(call, names, value, what: str = "the call", nonfinite_allowed: bool = False):
    """Hold ``call()``, given the bad ``value`` for the argument ``names[0]``, to the
    contract; ``names`` are the words of which the error message must contain one. With
    ``nonfinite_allowed`` a result may hold NaN or infinity (a pass that lets them through)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    label = f"{what} with {names[0]}={describe(value)}"
    try:
        result = returns(call, label)
    except CLEAR_ERRORS as err:
        message = str(err)
        assert not any(bad in message for bad in NUMPY_INTERNAL), (
            f"{label}: a message of numpy's own ({type(err).__name__}: {message})"
        )
        assert any(name in message for name in names) or "shapes of" in message, (
            f"{label}: the error does not name {' or '.join(map(repr, names))} "
            f"({type(err).__name__}: {message})"
        )
        return err
    except Exception as err:
        raise AssertionError(f"{label}: raised {type(err).__name__}: {err}") from err
    assert nonfinite_allowed or finite(result), f"{label}: a silent non-finite result"
    return result
