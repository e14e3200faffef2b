"""Neural-network layers with explicit forward and backward passes, and an MLP.

The contract every layer keeps (the tests hold each layer to it):

- ``forward(x)`` returns a new array and never writes into ``x``; it keeps a reference to
  what its backward pass needs (``Linear`` its input, ``ReLU`` a mask, ``Tanh`` its output).
  The caller must not change ``x`` until the backward pass has run.
- ``backward(dy)`` uses what the *last* forward pass kept: calling ``forward`` twice and then
  ``backward`` once differentiates the second call. It never writes into ``dy``, and it
  overwrites the layer's parameter gradients (``grads``, arrays allocated once), so a
  training step accumulates nothing by accident.
- ``params`` and ``grads`` list the same arrays on every call, in the order of
  ``param_names()``; an optimizer may hold on to them.

Arrays are float32 by default; the gradient checks use float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validation import check_float_dtype, check_positive_int, check_rng

ACTIVATIONS = ("relu", "tanh")


class Module:
    """The contract of everything with parameters (layers, networks, flows, likelihoods).

    - ``params`` and ``grads``: the arrays, listed in the same order on every call (an
      optimizer may hold on to them); ``grads`` are overwritten by each backward pass;
    - ``param_names()``: stable names for ``params``, used when saving;
    - ``forward(...)`` and ``backward(...)``: the computation and its gradient, the backward
      pass using what the last forward pass kept.

    A module without parameters inherits the empty lists.
    """

    @property
    def params(self) -> list[np.ndarray]:
        return []

    @property
    def grads(self) -> list[np.ndarray]:
        return []

    def param_names(self) -> list[str]:
        return []

    def param_regions(self) -> list[list[tuple[slice, ...]] | None]:
        """For each of ``params``, the parts of it a gradient can reach (a list of index
        tuples), or None for all of it: what :class:`~vae_lib.core.optim.Adam` needs to
        update. A masked layer leaves most of its weights out of reach."""
        return [None] * len(self.params)

    def forward(self, *args):
        raise NotImplementedError

    def backward(self, *args, **kwargs):
        raise NotImplementedError


#: The largest MLP this library makes (about 1 GB of float32 weights): a bigger one is refused
#: before anything is allocated.
MAX_PARAMS = 1 << 28


class Linear(Module):
    r"""Affine layer y = x W + b.

    Parameters are drawn as PyTorch draws them by default, W, b ~ U(-1/√n_in, 1/√n_in), so
    that this library and a PyTorch reference can start from the same scheme.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    rng : numpy.random.Generator
    dtype : numpy dtype
    """

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator, dtype=np.float32):
        bound = 1.0 / np.sqrt(n_in)
        self.W = rng.uniform(-bound, bound, size=(n_in, n_out)).astype(dtype)
        self.b = rng.uniform(-bound, bound, size=n_out).astype(dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self._x = None

    def param_names(self) -> list[str]:
        return ["W", "b"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x : (N, n_in) -> (N, n_out)."""
        self._x = x
        y = x @ self.W
        y += self.b
        return y

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (N, n_out) -> dx : (N, n_in); stores ∂/∂W = xᵀ dy and ∂/∂b = Σₙ dy."""
        if self._x is None:
            raise RuntimeError("Linear.backward was called before forward")
        np.matmul(self._x.T, dy, out=self.dW)
        np.sum(dy, axis=0, out=self.db)
        return dy @ self.W.T if need_input_grad else None

    @property
    def params(self) -> list[np.ndarray]:
        return [self.W, self.b]

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.dW, self.db]


class ReLU(Module):
    """max(0, x), elementwise; the backward pass lets the gradient through where x > 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return dy * self._mask


class Tanh(Module):
    """tanh(x), elementwise; its derivative is 1 - tanh(x)²."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        grad = np.multiply(self._y, self._y)
        np.subtract(1.0, grad, out=grad)
        grad *= dy
        return grad


#: The layer of each activation a network may use, by name.
ACTIVATION_LAYERS = {"relu": ReLU, "tanh": Tanh}


def check_network(sizes, activation: str, dtype) -> tuple[tuple[int, ...], np.dtype]:
    """The checks of every network of fully connected layers: at least two positive widths,
    at most :data:`MAX_PARAMS` parameters, a known activation and a float dtype.

    Returns
    -------
    sizes : tuple of int
    dtype : numpy dtype
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"sizes must list at least two widths; got {sizes!r}")
    sizes = tuple(check_positive_int(s, "sizes entry") for s in sizes)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMS:
        raise ValueError(
            f"sizes {sizes} make {n_params:,} parameters; at most {MAX_PARAMS:,} are allowed"
        )
    dtype = check_float_dtype(dtype)
    if not isinstance(activation, str) or activation not in ACTIVATION_LAYERS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    return sizes, np.dtype(dtype)


class MLP(Module):
    """A multilayer perceptron: Linear, activation, …, Linear (no activation at the end).

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``(16, 32, 4)``.
    rng : numpy.random.Generator
    activation : {"relu", "tanh"}
    dtype : numpy dtype
    """

    def __init__(
        self,
        sizes: Sequence[int],
        rng: np.random.Generator,
        activation: str = "relu",
        dtype=np.float32,
    ):
        rng = check_rng(rng)
        self.sizes, self.dtype = check_network(sizes, activation, dtype)
        sizes = self.sizes
        self.layers: list = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Linear(n_in, n_out, rng, dtype))
            if i < len(sizes) - 2:
                self.layers.append(ACTIVATION_LAYERS[activation]())

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x : (N, sizes[0]) -> (N, sizes[-1])."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Gradient of the output, (N, sizes[-1]), back to the input, (N, sizes[0]).

        Fills every layer's ``grads``. With ``need_input_grad=False`` the last (first-layer)
        product is skipped, which saves work when the input is data.
        """
        for i in range(len(self.layers) - 1, -1, -1):
            dy = self.layers[i].backward(dy, need_input_grad=need_input_grad or i > 0)
        return dy

    @property
    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    def param_regions(self) -> list[list[tuple[slice, ...]] | None]:
        return [r for layer in self.layers for r in layer.param_regions()]

    @staticmethod
    def param_shapes(sizes: Sequence[int]) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter of an MLP with these widths, by name, without making it."""
        shapes = {}
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            shapes[f"{i}.W"], shapes[f"{i}.b"] = (n_in, n_out), (n_out,)
        return shapes

    def param_names(self) -> list[str]:
        """``"{i}.W"``, ``"{i}.b"`` for the i-th layer that has parameters, in ``params`` order."""
        with_params = [layer for layer in self.layers if layer.param_names()]
        return [
            f"{i}.{name}" for i, layer in enumerate(with_params) for name in layer.param_names()
        ]
