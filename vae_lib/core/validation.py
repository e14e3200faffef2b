"""Checks on the arguments of public functions.

Each check either returns its argument (as a numpy array where that makes sense) or raises
a ``ValueError``/``TypeError`` whose message names the argument, what was expected and what
came. Nothing is clipped or repaired silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``, else raise ``TypeError``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (make one with "
            f"np.random.default_rng(seed)); got {type(rng).__name__}"
        )
    return rng


def _describe_shape(shape) -> str:
    return "(" + ", ".join(str(s) if s is not None else "N" for s in shape) + ")"


class NonFiniteError(ValueError, FloatingPointError):
    """NaN or infinite values in an argument that must be finite.

    A ``ValueError``, as all bad input is, and a ``FloatingPointError`` too: where a layer
    checks the arrays a model passes it, such values are what an overflow upstream left,
    and a training loop that stops cleanly on ``FloatingPointError`` must stop on them.
    """


def check_array(
    x,
    name: str,
    *,
    ndim: int | None = None,
    shape: tuple | None = None,
    dtype=None,
    nonfinite_error: type[ValueError] = ValueError,
) -> np.ndarray:
    """Return ``x`` as a finite floating-point array, checking its rank and shape.

    Parameters
    ----------
    x : array_like
        The value to check.
    name : str
        The argument's name, used in error messages.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries match any length. Implies ``ndim``.
    dtype : numpy dtype, optional
        Convert to this floating dtype; by default keep a floating dtype and turn anything
        else into float64.
    nonfinite_error : ValueError subclass
        Raised for NaN or infinite values (e.g. :class:`NonFiniteError`).
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers; got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be an array of numbers; got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real; got dtype {arr.dtype}")
    if dtype is not None:
        with np.errstate(over="ignore"):  # a value too large for dtype becomes inf: see below
            arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:  # too coarse for the library's arithmetic (and its exp)
        arr = arr.astype(np.float32)
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        expected = _describe_shape(shape) if shape is not None else f"{ndim}-D"
        raise ValueError(
            f"{name} must be a {ndim}-D array of shape {expected}; got shape {arr.shape}"
        )
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, arr.shape)):
            if want is not None and want != got:
                raise ValueError(
                    f"{name} must have shape {_describe_shape(shape)}; got shape {arr.shape} "
                    f"(axis {axis} has length {got}, expected {want})"
                )
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise nonfinite_error(f"{name} must be finite; got {bad} NaN or infinite value(s)")
    return arr


def check_layer_input(x, name: str, width: int, rows: int | None = None) -> np.ndarray:
    """``x`` as a real array of shape (N, ``width``) (N = ``rows`` if given), or an error
    naming ``name``: the check of a layer's forward or backward pass. NaN and infinity pass,
    as an overflow upstream leaves them; the model reports that with its cause."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers; got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be an array of real numbers; got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != width or rows is not None and arr.shape[0] != rows:
        expected = _describe_shape((rows, width))
        raise ValueError(f"{name} must have shape {expected}; got shape {arr.shape}")
    return arr


def check_widths(widths, name: str) -> tuple[int, ...]:
    """``widths`` (a sequence of layer widths, perhaps empty) as a tuple of ints ≥ 1."""
    sequence = (
        widths.ndim == 1
        if isinstance(widths, np.ndarray)
        else isinstance(widths, Sequence) and not isinstance(widths, (str, bytes))
    )
    if not sequence:
        raise TypeError(f"{name} must be a sequence of ints; got {describe_value(widths)}")
    return tuple(check_positive_int(w, f"{name} entry") for w in widths)


def check_unit_interval(x: np.ndarray, name: str, what: str = "pixel values") -> np.ndarray:
    """Raise ``ValueError`` unless every value of ``x`` lies in [0, 1]; ``what`` says what
    the values are, for the message (a likelihood's data: "for a Gaussian likelihood")."""
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); expected at least one value")
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{name} must lie in [0, 1] ({what}); got values from {lo:.4g} to {hi:.4g}"
        )
    return x


def finite_result(out, what: str, cause: str):
    """``out`` if all its entries are finite, else a ``FloatingPointError`` saying that
    ``what`` overflowed and which arguments (``cause``) made it."""
    if not np.all(np.isfinite(out)):
        raise FloatingPointError(f"{what} overflowed for these values of {cause}")
    return out


def check_broadcastable(**arrays: np.ndarray) -> tuple[int, ...]:
    """The shape the arrays broadcast to, or a ``ValueError`` naming each argument's shape."""
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"the shapes of {shapes} do not broadcast against each other") from None


#: The most array entries one call may ask for (2 GiB of float64): larger requests are
#: refused with the argument's name before anything is allocated.
MAX_ELEMENTS = 1 << 28


def check_size(n_elements: int, what: str) -> int:
    """``n_elements`` if at most :data:`MAX_ELEMENTS`, else a ``ValueError`` naming ``what``."""
    if n_elements > MAX_ELEMENTS:
        raise ValueError(
            f"{what} asks for {n_elements:,} array entries; at most {MAX_ELEMENTS:,} are allowed"
        )
    return n_elements


def check_positive_int(value, name: str) -> int:
    """Return ``value`` if it is an integer of at least 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value}")
    return int(value)


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """``dtype`` as a numpy dtype if it is float32 or float64, else ``TypeError``."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be float32 or float64; got {describe_value(dtype)}, not a dtype"
        ) from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64; got {dt}")
    return dt


def check_number(value, name: str) -> float:
    """``value`` as a float if it is a real number (not a bool, not a string), else
    ``TypeError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {describe_value(value)}")
    return float(value)


def check_positive_float(value, name: str) -> float:
    """Return ``value`` as a float if it is finite and greater than 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number greater than 0; got {value}")
    return float(value)


def describe_value(value) -> str:
    """``repr(value)`` cut to 60 characters, for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
