"""Decoders for grey levels: VAEs whose likelihood p(x|z) is not the Bernoulli.

The :class:`~vae_lib.models.vae.VAE` reads its likelihood through three methods
(``log_likelihood``, ``likelihood_step`` and ``mean``), so a model of grey levels overrides
only those. :class:`LikelihoodVAE` is the base of such models: it asks a subclass for the
likelihood and its gradient as two methods,

- :meth:`LikelihoodVAE.log_likelihood`: log p(x|z) of each example from the decoder's
  output (logits, or a mean);
- :meth:`LikelihoodVAE.log_likelihood_backward`: its gradient in that output, and in any
  parameter of the likelihood itself (a learned noise level),

and adds what every such model needs: drawing x ~ p(x|z), and log p(x, z) for pairs.

:class:`ContinuousBernoulliVAE` (``"cb_vae"``) is the first such model: the continuous
Bernoulli of Loaiza-Ganem & Cunningham (2019), a true density on [0, 1], whose only change to
the Bernoulli is the log normaliser log C(ℓ) of each pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import (
    continuous_bernoulli_log_likelihood_kernel,
    continuous_bernoulli_log_norm_grad_kernel,
    sigmoid,
    standard_normal_log_density_kernel,
)
from ..core.validation import check_array, check_rng
from .base import register
from .vae import VAE, VAEConfig


class LikelihoodVAE(VAE):
    """A VAE whose likelihood p(x|z) is :meth:`log_likelihood` (not registered: a base).

    A subclass writes :meth:`log_likelihood`, :meth:`log_likelihood_backward`, :meth:`mean`
    and :meth:`draw`; the networks, the encoder, the KL, its schedule and the training step
    are the VAE's.
    """

    # ------------------------------------------------------------------ the likelihood
    def log_likelihood(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """log p(x|z) of each row: x (N, D), decoder output (N, D) -> (N,), nats."""
        raise NotImplementedError

    def log_likelihood_backward(self, x: np.ndarray, out: np.ndarray, scale: float) -> np.ndarray:
        """∂(-scale · Σ_n log p(x_n|z_n))/∂out, shape (N, D); also fills the gradients of
        the likelihood's own parameters, if any, with the same scale."""
        raise NotImplementedError

    def likelihood_step(self, x: np.ndarray, out: np.ndarray, scale: float):
        return float(np.sum(self.log_likelihood(x, out))), self.log_likelihood_backward(
            x, out, scale
        )

    def draw(self, out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One x ~ p(x|z) per row of the decoder's output: the mean and the pixel noise."""
        raise NotImplementedError

    def sample_data(self, z, rng: np.random.Generator) -> np.ndarray:
        """x ~ p(x|z) for each code: the mean image plus independent pixel noise, (N, D)."""
        return self.draw(self.decode(z), check_rng(rng))

    def log_joint_pairs(self, x, z) -> np.ndarray:
        """log p(x, z) for every example and every code: x (N, D), z (G, K) -> (N, G)."""
        x = self.check_data(x)
        z = check_array(z, "z", shape=(None, self.config.latent_dim))
        outs = self.decoder.forward(z.astype(self.dtype))
        pairs = np.stack([self.log_likelihood(x, row[None, :]) for row in outs], axis=1)
        return pairs + standard_normal_log_density_kernel(z.astype(np.float64))


# ----------------------------------------------------------------------------- the models
@dataclass(frozen=True)
class CBVAEConfig(VAEConfig):
    """A :class:`VAEConfig`; the decoder's logits parameterise continuous Bernoullis."""


@register("cb_vae")
class ContinuousBernoulliVAE(LikelihoodVAE):
    r"""A VAE whose decoder is a continuous Bernoulli per pixel (Loaiza-Ganem & Cunningham
    2019): a density of grey levels in [0, 1].

    .. math:: \log p(x \mid z) = \sum_d x_d \ell_d - \log(1 + e^{\ell_d}) + \log C(\ell_d)

    with ℓ the decoder's logits. The Bernoulli's log-likelihood of grey levels is the first
    two terms: it misses log C(ℓ), which depends on ℓ, so maximising it is not maximum
    likelihood of any density of the grey levels.
    """

    config_class = CBVAEConfig

    def log_likelihood(self, x, out):
        return continuous_bernoulli_log_likelihood_kernel(x, out)

    def log_likelihood_backward(self, x, out, scale):
        # ∂(-log p)/∂ℓ = σ(ℓ) - x - (1/ℓ - 1/sinh ℓ) = E[x|ℓ] - x
        d = sigmoid(out) - x - continuous_bernoulli_log_norm_grad_kernel(out)
        return (scale * d).astype(self.dtype)

    def mean(self, out):
        return sigmoid(out) - continuous_bernoulli_log_norm_grad_kernel(out)

    def draw(self, out, rng):
        # inverse CDF of the exponential e^{ℓx} truncated to [0, 1]; for ℓ > 0 by the
        # symmetry x(ℓ, u) = 1 - x(-ℓ, 1 - u), so that e^ℓ never overflows
        ell = np.asarray(out, dtype=np.float64)
        u = rng.uniform(size=ell.shape)
        neg = -np.abs(ell)
        v = np.where(ell > 0, 1.0 - u, u)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log1p(v * np.expm1(neg)) / neg
        x = np.where(np.abs(ell) < 1e-8, v, x)
        x = np.where(ell > 0, 1.0 - x, x)
        return np.clip(x, 0.0, 1.0)  # rounding only: the inverse CDF maps into [0, 1]
