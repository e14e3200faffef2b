"""Neural-network layers with explicit forward and backward passes, an MLP, and Adam.

Every layer keeps what its backward pass needs from the last forward pass, and writes its
parameter gradients into arrays allocated once (``grads``), so that a training step makes
few temporaries. Arrays are float32 by default; the gradient checks use float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .validation import check_positive_float, check_rng

ACTIVATIONS = ("relu", "tanh")


class Linear:
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

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x : (N, n_in) -> (N, n_out)."""
        self._x = x
        y = x @ self.W
        y += self.b
        return y

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (N, n_out) -> dx : (N, n_in); stores ∂/∂W = xᵀ dy and ∂/∂b = Σₙ dy."""
        np.matmul(self._x.T, dy, out=self.dW)
        np.sum(dy, axis=0, out=self.db)
        return dy @ self.W.T if need_input_grad else None

    @property
    def params(self) -> list[np.ndarray]:
        return [self.W, self.b]

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.dW, self.db]


class ReLU:
    """max(0, x), elementwise; the backward pass lets the gradient through where x > 0."""

    params: list = []
    grads: list = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0, out=x)  # x is this layer's own temporary, safe to overwrite

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        return np.multiply(dy, self._mask, out=dy)


class Tanh:
    """tanh(x), elementwise; its derivative is 1 - tanh(x)²."""

    params: list = []
    grads: list = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.tanh(x, out=x)
        return self._y

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray:
        grad = np.multiply(self._y, self._y)
        np.subtract(1.0, grad, out=grad)
        grad *= dy
        return grad


_ACTIVATION_LAYERS = {"relu": ReLU, "tanh": Tanh}


class MLP:
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
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two widths of at least 1; got {sizes}")
        if activation not in _ACTIVATION_LAYERS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
        self.sizes = sizes
        self.dtype = np.dtype(dtype)
        self.layers: list = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Linear(n_in, n_out, rng, dtype))
            if i < len(sizes) - 2:
                self.layers.append(_ACTIVATION_LAYERS[activation]())

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


class Adam:
    r"""Adam {cite}`kingma2015adam`, updating the parameter arrays in place.

    .. math:: m \leftarrow \beta_1 m + (1-\beta_1) g, \quad
              v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
              p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,
              \frac{m}{\sqrt{v/(1-\beta_2^t)} + \epsilon}

    The same arithmetic as ``torch.optim.Adam`` with default settings.

    Each step makes ten passes over each parameter and nothing else: every operation is in
    place or into one scratch array per parameter. To save two passes, the moments are kept
    without their factors 1-β, as discounted sums :math:`M = m/(1-\beta_1)` and
    :math:`V = v/(1-\beta_2)` (``M ← β₁M + g`` is two passes, ``m ← β₁m + (1-β₁)g``
    three); the factors move into the step size and ε. :attr:`m` and :attr:`v` give the
    usual moments.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ):
        self.lr = check_positive_float(lr, "lr")
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must lie in [0, 1); got {beta}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = check_positive_float(eps, "eps")
        self.params = list(params)
        self._m_sum = [np.zeros_like(p) for p in self.params]  # M = m / (1 - β₁)
        self._v_sum = [np.zeros_like(p) for p in self.params]  # V = v / (1 - β₂)
        self._tmp = [np.empty_like(p) for p in self.params]
        self.t = 0

    @property
    def m(self) -> list[np.ndarray]:
        """First moments m (exponential moving averages of the gradients), one per param."""
        return [(1.0 - self.beta1) * m_sum for m_sum in self._m_sum]

    @property
    def v(self) -> list[np.ndarray]:
        """Second moments v (moving averages of the squared gradients), one per param."""
        return [(1.0 - self.beta2) * v_sum for v_sum in self._v_sum]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Apply one update with ``grads`` (same order and shapes as ``params``)."""
        if len(grads) != len(self.params):
            raise ValueError(
                f"grads must hold one array per parameter ({len(self.params)}); got {len(grads)}"
            )
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # With m = (1-β₁)M and v = (1-β₂)V, the update p -= lr/(1-β₁ᵗ) · m / (√(v/(1-β₂ᵗ)) + ε)
        # is p -= step · M / (√V + eps) with the two scalars below (Python floats, so that
        # float32 arrays stay float32).
        scale = float(np.sqrt((1.0 - b2**self.t) / (1.0 - b2)))
        step = self.lr * (1.0 - b1) * scale / (1.0 - b1**self.t)
        eps = self.eps * scale
        for p, g, m_sum, v_sum, tmp in zip(self.params, grads, self._m_sum, self._v_sum, self._tmp):
            m_sum *= b1  # M ← β₁M + g
            m_sum += g
            v_sum *= b2  # V ← β₂V + g²
            np.multiply(g, g, out=tmp)
            v_sum += tmp
            np.sqrt(v_sum, out=tmp)  # p ← p - step · M / (√V + eps)
            tmp += eps
            np.divide(m_sum, tmp, out=tmp)
            tmp *= step
            p -= tmp
