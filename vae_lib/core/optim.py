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

    Each step makes ten passes over each parameter, a slice of about
    :data:`SLICE_ELEMENTS` at a time, and nothing else: every operation is in place or into
    one scratch array per parameter. To save two passes, the moments are kept
    without their factors 1-β, as discounted sums :math:`M = m/(1-\beta_1)` and
    :math:`V = v/(1-\beta_2)` (``M ← β₁M + g`` is two passes, ``m ← β₁m + (1-β₁)g``
    three); the factors move into the step size and ε. :attr:`m` and :attr:`v` give the
    usual moments.

    ``regions`` (a module's :meth:`~vae_lib.core.nn.Module.param_regions`) may name, for
    each parameter, the parts of it a gradient can reach; the step passes over those only.
    Elsewhere the gradient is always 0, so the moments stay 0 and the update is exactly 0:
    the parameters come out bit for bit as without ``regions``, in fewer passes (a masked
    layer of an image's causal window has most of its weights out of reach). The regions of
    one parameter must not overlap.
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        regions: Sequence | None = None,
    ):
        self.lr = check_positive_float(lr, "lr")
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must lie in [0, 1); got {beta}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = check_positive_float(eps, "eps")
        self.params = list(params)
        self.regions = _check_regions(regions, self.params)
        # one (index, M, V, scratch, slices) per region of each parameter; M = m / (1 - β₁)
        # and V = v / (1 - β₂), over that region only
        self._state = [
            [
                (index, *(np.zeros_like(p[index]) for _ in range(3)), _slices(p[index].shape))
                for index in where
            ]
            for p, where in zip(self.params, self.regions)
        ]
        self.t = 0

    def _moments(self, which: int, factor: float) -> list[np.ndarray]:
        moments = []
        for p, state in zip(self.params, self._state):
            full = np.zeros_like(p)
            for index, *arrays, _ in state:
                full[index] = factor * arrays[which]
            moments.append(full)
        return moments

    @property
    def m(self) -> list[np.ndarray]:
        """First moments m (exponential moving averages of the gradients), one per param."""
        return self._moments(0, 1.0 - self.beta1)

    @property
    def v(self) -> list[np.ndarray]:
        """Second moments v (moving averages of the squared gradients), one per param."""
        return self._moments(1, 1.0 - self.beta2)

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
        for param, grad, state in zip(self.params, grads, self._state):
            for index, m_sum, v_sum, tmp, slices in state:
                p, g = param[index], grad[index]
                if slices is None:
                    _update(p, g, m_sum, v_sum, tmp, b1, b2, step, eps)
                    continue
                for s in slices:
                    _update(p[s], g[s], m_sum[s], v_sum[s], tmp[s], b1, b2, step, eps)


#: About how many elements of a parameter one call of :func:`_update` takes. The five arrays'
#: slices (parameter, gradient, the two moments, scratch: 1.25 MiB in float32) then stay in a
#: core's own cache through the ten passes, where whole arrays would be fetched from farther
#: away ten times: on a layer of 1.2 million weights, 1.8 ms a step instead of 2.9 ms.
SLICE_ELEMENTS = 1 << 16


def _slices(shape: tuple[int, ...]) -> list[slice] | None:
    """Ranges of rows of an array of this shape, each of about :data:`SLICE_ELEMENTS`
    elements; None if the whole array is about that size or less (one call, no slicing)."""
    row = int(np.prod(shape[1:], dtype=np.int64))
    if len(shape) == 0 or shape[0] * row <= SLICE_ELEMENTS:
        return None
    rows = max(1, SLICE_ELEMENTS // max(1, row))
    return [slice(start, start + rows) for start in range(0, shape[0], rows)]


def _update(p, g, m_sum, v_sum, tmp, b1: float, b2: float, step: float, eps: float) -> None:
    """One Adam update of ``p`` in place (see :class:`Adam`): ten passes."""
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


def _check_regions(regions, params: list[np.ndarray]) -> list[list[tuple]]:
    """``regions`` as one list of index tuples per parameter (the whole array where None)."""
    whole = [(Ellipsis,)]
    if regions is None:
        return [whole for _ in params]
    regions = list(regions)
    if len(regions) != len(params):
        raise ValueError(
            f"regions must hold one entry per parameter ({len(params)}); got {len(regions)}"
        )
    checked = []
    for i, (p, where) in enumerate(zip(params, regions)):
        if where is None:
            checked.append(whole)
            continue
        where = [tuple(index) for index in where]
        for index in where:
            if len(index) != p.ndim or not all(isinstance(s, slice) for s in index):
                raise ValueError(
                    f"regions[{i}] must be a list of tuples of {p.ndim} slices (its parameter "
                    f"has shape {p.shape}); got {index!r:.80}"
                )
        checked.append(where)
    return checked
