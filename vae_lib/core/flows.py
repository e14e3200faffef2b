r"""An affine autoregressive flow: one invertible map of a vector, made of one MADE network.

.. math:: u = f(z), \qquad u_i = \big(z_i - m_i(z_{<i})\big)\, e^{-s_i(z_{<i})}, \qquad
          \log\Big|\det \frac{\partial u}{\partial z}\Big| = -\sum_i s_i(z_{<i}),

with the shift m and the log-scale s the two output blocks of a MADE (Germain et al. 2015),
so that each depends only on the coordinates before it. The Jacobian is triangular; f takes
one pass of the network and its inverse, z_i = m_i(z_{<i}) + e^{s_i(z_{<i})} u_i, one pass per
coordinate. Read as a density of z with u ~ N(0, I) it is the masked autoregressive flow of
Papamakarios et al. (2017); applied to a draw z it is one step of an inverse autoregressive
flow (Kingma et al. 2016). :mod:`vae_lib.models.flows` uses it both ways. Equation labels
refer to the chapter "An autoregressive-flow prior" (chapters/vlae/flow_prior.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .autoregressive import MADE
from .nn import Module
from .validation import (
    NonFiniteError,
    check_array,
    check_layer_input,
    check_positive_int,
    check_widths,
)

#: numpy's warnings that become a FloatingPointError with a reason (see ``_finite``).
_QUIET = {"over": "ignore", "invalid": "ignore"}


class AffineAutoregressiveFlow(Module):
    r"""u = f(z) = (z - m(z)) ⊙ e^{-s(z)} with (m, s) = MADE(z), and its backward pass.

    Holds the layer contract of :mod:`vae_lib.core.nn`: :meth:`forward` keeps what
    :meth:`backward` needs (its input, e^{-s} and u), never writes into its input, and
    :meth:`backward` overwrites the MADE's ``grads``.

    :meth:`forward` and :meth:`inverse` take a finite 2-D array of K columns (integers are
    turned into the flow's dtype; a float array keeps its own). NaN or infinite input is a
    :class:`~vae_lib.core.validation.NonFiniteError` (a ``ValueError`` that a training loop
    catches as a ``FloatingPointError``), and an output that overflows is a
    ``FloatingPointError`` saying the input or the weights are too large.

    Parameters
    ----------
    dim : int
        K, the size of the code.
    hidden_dims : sequence of int
        Widths of the MADE's hidden layers.
    rng : numpy.random.Generator
    activation : {"relu", "tanh"}
    dtype : numpy dtype
    """

    def __init__(
        self,
        dim: int,
        hidden_dims: Sequence[int],
        rng: np.random.Generator,
        activation: str = "relu",
        dtype=np.float32,
    ):
        self.dim = check_positive_int(dim, "dim")
        self.made = MADE(
            dim, hidden_dims, rng, n_out_per_input=2, activation=activation, dtype=dtype
        )
        self._cache = None

    @staticmethod
    def sizes(dim: int, hidden_dims: Sequence[int]) -> tuple[int, ...]:
        """Layer widths of the MADE: K, hidden ..., 2K (the shifts, then the log-scales)."""
        dim = check_positive_int(dim, "dim")
        return (dim, *check_widths(hidden_dims, "hidden_dims"), 2 * dim)

    def forward(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z : (N, K) -> u = f(z) : (N, K) and the log-scales s : (N, K)."""
        self._cache = None
        z = self._check_input(z, "z")
        with np.errstate(**_QUIET):
            h = self.made.forward(z)
            m, s = h[:, : self.dim], h[:, self.dim :]
            inv_scale = np.exp(-s)
            u = (z - m) * inv_scale
        self._finite("f(z)", z, u, s)
        self._cache = (inv_scale, u)
        return u, s

    def backward(self, du: np.ndarray, ds: np.ndarray) -> np.ndarray:
        r"""Gradients of u and of s (from outside the flow) back to z, (N, K) each.

        .. math:: \frac{\partial}{\partial m} = -\bar u \odot e^{-s}, \qquad
                  \frac{\partial}{\partial s} = \bar s - \bar u \odot u, \qquad
                  \bar z = \bar u \odot e^{-s} + \mathrm{MADE}^\top(\bar m, \bar s)

        with ū = ∂/∂u and s̄ = ∂/∂s given; fills the MADE's ``grads``.
        """
        if self._cache is None:
            raise RuntimeError("AffineAutoregressiveFlow.backward was called before forward")
        inv_scale, u = self._cache
        du = check_layer_input(du, "du", self.dim, rows=len(u))
        ds = check_layer_input(ds, "ds", self.dim, rows=len(u))
        dh = np.concatenate([-du * inv_scale, ds - du * u], axis=1)
        dz = self.made.backward(dh)
        dz += du * inv_scale
        return dz

    def inverse(self, u: np.ndarray) -> np.ndarray:
        """z = f⁻¹(u), shape (N, K): coordinate i is set on pass i, from the z_{<i} before it."""
        u = self._check_input(u, "u")
        z = np.zeros_like(u)
        with np.errstate(**_QUIET):
            for i in range(self.dim):
                h = self.made.forward(z.copy())  # the MADE keeps its input; z changes below
                z[:, i] = h[:, i] + np.exp(h[:, self.dim + i]) * u[:, i]
        self._finite("f⁻¹(u)", u, z)
        return z

    def _check_input(self, x, name: str) -> np.ndarray:
        """``x`` as a finite float array of shape (N, K); integers become the flow's dtype."""
        if not isinstance(x, (str, bytes)) and x is not None:
            x = np.asarray(x)
            if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer):
                x = x.astype(self.made.dtype)
        return check_array(x, name, shape=(None, self.dim), nonfinite_error=NonFiniteError)

    def _finite(self, what: str, x: np.ndarray, *outputs: np.ndarray) -> None:
        """Raise FloatingPointError if an output of the finite input ``x`` overflowed."""
        for out in outputs:
            if not np.all(np.isfinite(out)):
                largest_input = float(np.max(np.abs(x)))
                largest_weight = max(float(np.max(np.abs(p))) for p in self.params)
                raise FloatingPointError(
                    f"{what} is NaN or infinite in {out.dtype}: the input or the weights are "
                    f"too large for it (largest |input| {largest_input:.3g}, largest |weight| "
                    f"{largest_weight:.3g})"
                )

    @property
    def params(self) -> list[np.ndarray]:
        return self.made.params

    @property
    def grads(self) -> list[np.ndarray]:
        return self.made.grads

    def param_names(self) -> list[str]:
        return self.made.param_names()
