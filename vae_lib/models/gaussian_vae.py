r"""The VAE with a Gaussian decoder of grey levels: p(x|z) = N(μ_θ(z), σ² I).

Only the likelihood is new (see :class:`~vae_lib.models.likelihoods.LikelihoodVAE`):

.. math:: -\log \mathcal N(x; \mu, \sigma^2 I) = \frac{\lVert x - \mu\rVert^2}{2\sigma^2}
          + \frac D2 \log 2\pi\sigma^2

The decoder's output is the mean μ itself, with no squashing, so a decoder without hidden
layers makes μ affine in z (probabilistic PCA's model). The noise level σ is either fixed
(``decoder_std``) or learned (``learn_std``): one log σ shared by every pixel. A separate σ
per pixel would let the pixels that are 0 in every image (MNIST's border) shrink their σ
towards 0 and their density without bound; one shared σ is also the model whose optimum has
a closed form (σ² = the mean squared error per pixel) and probabilistic PCA's σ² I.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import gaussian_log_density_kernel
from ..core.validation import check_positive_float, check_rng
from .base import register
from .likelihoods import LikelihoodVAE
from .vae import VAEConfig


@dataclass(frozen=True)
class GaussianVAEConfig(VAEConfig):
    """A :class:`VAEConfig` and the decoder's noise level.

    Attributes
    ----------
    decoder_std : float
        σ of p(x|z) = N(μ(z), σ² I); with ``learn_std`` its starting value.
    learn_std : bool
        Learn one log σ shared by all pixels (a parameter ``likelihood.log_std``).
    """

    decoder_std: float = 0.1
    learn_std: bool = False

    def __post_init__(self):
        super().__post_init__()
        check_positive_float(self.decoder_std, "decoder_std")
        if not isinstance(self.learn_std, (bool, np.bool_)):
            raise TypeError(f"learn_std must be True or False; got {self.learn_std!r}")


class LogStd:
    """The learned log σ: one parameter, with the network contract of :class:`vae_lib.MLP`
    (``params``, ``grads``, ``param_names()``), so saving, copying and Adam include it."""

    def __init__(self, std: float, dtype):
        self.log_std = np.full(1, np.log(std), dtype=dtype)
        self.d_log_std = np.zeros_like(self.log_std)

    @property
    def params(self) -> list[np.ndarray]:
        return [self.log_std]

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.d_log_std]

    def param_names(self) -> list[str]:
        return ["log_std"]


@register("gaussian_vae")
class GaussianVAE(LikelihoodVAE):
    """A VAE with decoder p(x|z) = N(μ(z), σ² I) for grey levels in [0, 1].

    Parameters
    ----------
    config : GaussianVAEConfig
    rng : numpy.random.Generator
    """

    config_class = GaussianVAEConfig
    term_labels = {**LikelihoodVAE.term_labels, "std": "decoder σ"}

    def build(self, rng):
        networks = super().build(rng)
        if self.config.learn_std:
            networks["likelihood"] = LogStd(self.config.decoder_std, self.dtype)
        return networks

    @classmethod
    def param_shapes(cls, config):
        shapes = super().param_shapes(config)
        if config.learn_std:
            shapes["likelihood.log_std"] = (1,)
        return shapes

    @property
    def log_std(self) -> float:
        """log σ of the decoder, fixed or learned."""
        if self.config.learn_std:
            return float(self.networks["likelihood"].log_std[0])
        return float(np.log(self.config.decoder_std))

    @property
    def std(self) -> float:
        """σ of the decoder, fixed or learned."""
        return float(np.exp(self.log_std))

    def log_likelihood(self, x, out):
        # log N(x; μ, σ² I), with log σ² = 2 log σ broadcast over every pixel
        return gaussian_log_density_kernel(x, out, np.asarray(2.0 * self.log_std, out.dtype))

    def log_likelihood_backward(self, x, out, scale):
        inv_var = np.exp(-2.0 * self.log_std)
        residual = out - x  # ∂(-log p)/∂μ = (μ - x)/σ²
        if self.config.learn_std:
            # ∂(-log p)/∂log σ = Σ_d 1 - (x_d - μ_d)²/σ²
            d = x.size - inv_var * float(np.vdot(residual, residual))
            self.networks["likelihood"].d_log_std[0] = scale * d
        residual *= scale * inv_var
        return residual

    def forward_backward(self, x, eps):
        """The VAE's step with this likelihood; a learned σ is recorded as the term ``std``."""
        result = super().forward_backward(x, eps)
        if self.config.learn_std:
            result.terms["std"] = self.std
        return result

    def mean(self, out):
        return out

    def draw(self, out, rng):
        rng = check_rng(rng)
        return out + self.std * rng.standard_normal(out.shape)
