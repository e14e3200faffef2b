"""Adam, the optimizer every model of the book trains with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .numerics import all_finite
from .validation import check_positive_float


class Adam:
    r"""Adam (Kingma and Ba, 2015), updating the parameter arrays in place.

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
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}; its parameter has {p.shape}")
            if not all_finite(g):
                raise FloatingPointError(
                    f"grads[{i}] holds NaN or infinite values; no parameter was changed"
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
