r"""The likelihood p(x | z) of a decoder's output: Bernoulli, continuous Bernoulli, Gaussian.

A model's decoder outputs one number per pixel (``out``, shape (..., N, D)); a likelihood
turns it into log p(x | z) and carries the gradient back. Every model takes its likelihood
from its config (:func:`make_likelihood`), so any of them can model binary pixels or grey
levels, and the formulas live here once:

- :class:`Bernoulli` (``"bernoulli"``): logits ℓ, log p = Σ_d x_d ℓ_d - softplus(ℓ_d), whose
  gradient in ℓ is x - σ(ℓ). Binary pixels; on grey levels it is not the density of any
  distribution (chapter "Decoders");
- :class:`ContinuousBernoulli` (``"continuous_bernoulli"``, Loaiza-Ganem & Cunningham 2019):
  the Bernoulli's formula plus the log normaliser log C(ℓ) of each pixel, a density on [0, 1];
- :class:`Gaussian` (``"gaussian"``): the mean μ itself, N(x; μ, σ² I) with one σ shared by
  every pixel, fixed or learned (the parameter ``log_std``).

Each keeps the layer contract of :class:`vae_lib.core.nn.Module`: ``forward(x, out)`` returns
log p(x | z) of each row and keeps what ``backward(scale)`` needs, which returns
∂(-Σ scale · log p)/∂out and fills the gradients of the likelihood's own parameters (the
learned σ). ``scale`` is one number (a minibatch's 1/N) or one per row (an importance
sampler's weights).
"""

from __future__ import annotations

import numpy as np

from .distributions import (
    bernoulli_log_likelihood_kernel,
    continuous_bernoulli_log_likelihood_kernel,
    continuous_bernoulli_log_norm_grad_kernel,
    gaussian_log_density_kernel,
    sigmoid,
    sigmoid_and_softplus_kernel,
    softplus_kernel,
)
from .nn import Module
from .validation import check_array, check_positive_float, check_rng, check_unit_interval

#: The likelihoods a config may name.
LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")


class Likelihood(Module):
    """Base of the likelihoods: what every one offers (see the module's doc).

    A subclass writes :meth:`log_prob`, :meth:`forward`, :meth:`backward`, :meth:`mean` and
    :meth:`draw`; the rest has a generic form here that a subclass may fuse.
    """

    name = ""

    def __init__(self, dtype=np.float32):
        self.dtype = np.dtype(dtype)

    def check_data(self, x, name: str = "x", width: int | None = None) -> np.ndarray:
        """``x`` as an (N, D) array of the likelihood's dtype with values in [0, 1]: binary
        pixels or grey levels (each likelihood says what it makes of grey levels)."""
        x = check_array(x, name, shape=(None, width), dtype=self.dtype)
        return check_unit_interval(
            x, name, f"the data of a {self.name.replace('_', ' ')} likelihood"
        )

    def log_prob(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """log p(x | z) of each row, for evaluation: x (N, D), out (..., N, D) -> (..., N)."""
        raise NotImplementedError

    def forward(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """log p(x | z) of each row, keeping what :meth:`backward` needs: -> (..., N)."""
        raise NotImplementedError

    def backward(self, scale) -> np.ndarray:
        """∂(-Σ scale · log p)/∂out for the last :meth:`forward`, shape of ``out``; ``scale``
        is a number or an array that broadcasts against the rows with a trailing axis."""
        raise NotImplementedError

    def step(self, x: np.ndarray, out: np.ndarray, scale: float) -> tuple[float, np.ndarray]:
        """Σ log p(x | z) over the rows, and :meth:`backward` with ``scale``: what a training
        step with one code per example needs."""
        total = float(np.sum(self.forward(x, out)))  # forward's rows are log_prob's
        return total, self.backward(scale)

    def mean(self, out: np.ndarray) -> np.ndarray:
        """E[x | z] from the decoder's output."""
        raise NotImplementedError

    def draw(self, out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One x ~ p(x | z) per row of the decoder's output."""
        raise NotImplementedError

    def log_prob_pairs(self, x: np.ndarray, outs: np.ndarray) -> np.ndarray:
        """log p(x_n | z_g) for every example n and every output g: x (N, D), outs (G, D) ->
        (N, G), float64."""
        return np.stack([self.log_prob(x, row[None, :]) for row in outs], axis=1).astype(np.float64)

    def terms(self) -> dict[str, float]:
        """Numbers worth recording while training (a learned σ); none by default."""
        return {}


class Bernoulli(Likelihood):
    r"""Independent Bernoullis with logits ℓ: :math:`\log p(x|z) = \sum_d x_d\ell_d -
    \operatorname{softplus}(\ell_d)`, gradient :math:`x - \sigma(\ell)`.

    On grey levels x ∈ [0, 1] the same formula is a cross-entropy, not the log-density of
    anything: the chapter "Decoders" measures what that costs.
    """

    name = "bernoulli"

    def log_prob(self, x, out):
        return bernoulli_log_likelihood_kernel(x, out)

    def forward(self, x, out):
        # σ(ℓ) and softplus(ℓ) from one tanh: the backward pass needs σ
        self._x = x
        self._sigma, softplus = sigmoid_and_softplus_kernel(out)
        if out.ndim == 3:  # a stack of K outputs for each example: (K, N, D)
            return np.einsum("knd,nd->kn", out, x) - softplus.sum(axis=-1)
        return np.einsum("nd,nd->n", out, x) - softplus.sum(axis=-1)

    def backward(self, scale):
        d_out = self._sigma  # made by forward for this: overwritten in place
        d_out -= self._x
        d_out *= scale
        return d_out

    def step(self, x, out, scale):
        # fused: the total as one dot product, σ for the gradient from the same tanh
        sigma, softplus = sigmoid_and_softplus_kernel(out)
        total = float(np.vdot(x, out)) - float(np.sum(softplus))
        d_out = sigma
        d_out -= x
        d_out *= scale
        return total, d_out

    def mean(self, out):
        return sigmoid(out)

    def draw(self, out, rng):
        return (check_rng(rng).random(out.shape) < sigmoid(out)).astype(self.dtype)

    def log_prob_pairs(self, x, outs):
        x, outs = x.astype(np.float64), outs.astype(np.float64)
        return x @ outs.T - softplus_kernel(outs).sum(axis=1)


class ContinuousBernoulli(Likelihood):
    r"""The continuous Bernoulli of Loaiza-Ganem & Cunningham (2019), a density on [0, 1]:

    .. math:: \log p(x \mid z) = \sum_d x_d \ell_d - \log(1 + e^{\ell_d}) + \log C(\ell_d)

    the Bernoulli's formula and the log normaliser log C(ℓ), which depends on ℓ: maximising
    the Bernoulli's formula alone on grey levels is not maximum likelihood of any density.
    """

    name = "continuous_bernoulli"

    def log_prob(self, x, out):
        return continuous_bernoulli_log_likelihood_kernel(x, out)

    def forward(self, x, out):
        self._x, self._out = x, out
        return self.log_prob(x, out)

    def backward(self, scale):
        # ∂(-log p)/∂ℓ = σ(ℓ) - x - (1/ℓ - 1/sinh ℓ) = E[x|ℓ] - x
        out = self._out
        d = sigmoid(out) - self._x - continuous_bernoulli_log_norm_grad_kernel(out)
        return (scale * d).astype(self.dtype)

    def mean(self, out):
        return sigmoid(out) - continuous_bernoulli_log_norm_grad_kernel(out)

    def draw(self, out, rng):
        # inverse CDF of the exponential e^{ℓx} truncated to [0, 1]; for ℓ > 0 by the
        # symmetry x(ℓ, u) = 1 - x(-ℓ, 1 - u), so that e^ℓ never overflows
        ell = np.asarray(out, dtype=np.float64)
        u = check_rng(rng).uniform(size=ell.shape)
        neg = -np.abs(ell)
        v = np.where(ell > 0, 1.0 - u, u)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log1p(v * np.expm1(neg)) / neg
        x = np.where(np.abs(ell) < 1e-8, v, x)
        x = np.where(ell > 0, 1.0 - x, x)
        return np.clip(x, 0.0, 1.0)  # rounding only: the inverse CDF maps into [0, 1]


class Gaussian(Likelihood):
    r"""p(x | z) = N(μ, σ² I) with the decoder's output as the mean μ, unsquashed:

    .. math:: -\log \mathcal N(x; \mu, \sigma^2 I) = \frac{\lVert x - \mu\rVert^2}{2\sigma^2}
              + \frac D2 \log 2\pi\sigma^2

    One σ shared by every pixel, fixed or learned (``learn_std``: one parameter ``log_std``).
    A σ per pixel would let the pixels that are 0 in every image (MNIST's border) shrink it
    towards 0 and their density without bound; one shared σ is also the model whose optimum
    has a closed form (σ² = the mean squared error per pixel) and probabilistic PCA's σ² I.

    Parameters
    ----------
    std : float
        σ, or with ``learn_std`` its starting value.
    learn_std : bool
    dtype : numpy dtype
    """

    name = "gaussian"

    def __init__(self, std: float = 0.1, learn_std: bool = False, dtype=np.float32):
        super().__init__(dtype)
        std = check_positive_float(std, "decoder_std")
        self.learn_std = bool(learn_std)
        self._fixed_log_std = float(np.log(std))
        if self.learn_std:
            self.log_std_param = np.full(1, np.log(std), dtype=self.dtype)
            self.d_log_std = np.zeros_like(self.log_std_param)

    @property
    def params(self) -> list[np.ndarray]:
        return [self.log_std_param] if self.learn_std else []

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.d_log_std] if self.learn_std else []

    def param_names(self) -> list[str]:
        return ["log_std"] if self.learn_std else []

    @staticmethod
    def param_shapes(learn_std: bool) -> dict[str, tuple[int, ...]]:
        return {"log_std": (1,)} if learn_std else {}

    @property
    def log_std(self) -> float:
        """log σ, fixed or learned."""
        return float(self.log_std_param[0]) if self.learn_std else self._fixed_log_std

    @property
    def std(self) -> float:
        """σ, fixed or learned."""
        return float(np.exp(self.log_std))

    def log_prob(self, x, out):
        # log N(x; μ, σ² I), with log σ² = 2 log σ broadcast over every pixel
        return gaussian_log_density_kernel(x, out, np.asarray(2.0 * self.log_std, out.dtype))

    def forward(self, x, out):
        self._x, self._out = x, out
        return self.log_prob(x, out)

    def backward(self, scale):
        inv_var = np.exp(-2.0 * self.log_std)
        residual = self._out - self._x  # ∂(-log p)/∂μ = (μ - x)/σ²
        if self.learn_std:
            # ∂(-log p)/∂log σ = Σ_d 1 - (x_d - μ_d)²/σ² for each row
            if np.ndim(scale) == 0:
                d = residual.size - inv_var * float(np.vdot(residual, residual))
                self.d_log_std[0] = scale * d
            else:
                per_row = residual.shape[-1] - inv_var * np.sum(residual * residual, axis=-1)
                self.d_log_std[0] = float(np.sum(np.asarray(scale)[..., 0] * per_row))
        residual *= scale * inv_var
        return residual

    def mean(self, out):
        return out

    def draw(self, out, rng):
        return out + self.std * check_rng(rng).standard_normal(out.shape)

    def terms(self):
        return {"std": self.std} if self.learn_std else {}


def make_likelihood(name: str, dtype, std: float = 0.1, learn_std: bool = False) -> Likelihood:
    """The likelihood a config names: one of :data:`LIKELIHOODS` (σ only for "gaussian")."""
    if name == "bernoulli":
        return Bernoulli(dtype)
    if name == "continuous_bernoulli":
        return ContinuousBernoulli(dtype)
    if name == "gaussian":
        return Gaussian(std, learn_std, dtype)
    raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {name!r}")
