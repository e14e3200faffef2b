"""The importance-weighted autoencoder (Burda et al. 2016): the VAE's networks, trained on L_K.

Only the loss and the noise are new. A step draws K codes per example, z_k = μ + σ ⊙ ε_k,
and maximises the importance-weighted bound's estimate

.. math:: \\hat{\\mathcal L}_K(x) = \\log \\frac1K \\sum_{k=1}^K w_k, \\qquad
          \\log w_k = \\log p(x \\mid z_k) + \\log p(z_k) - \\log q(z_k \\mid x).

Its gradient is Burda et al.'s eq. 14, :math:`\\sum_k \\tilde w_k \\nabla \\log w_k` with the
normalised weights :math:`\\tilde w_k = w_k / \\sum_j w_j` held constant: the softmax is the
exact derivative of the log-sum-exp, so nothing flows through the weights themselves. With
K = 1 the step is a VAE step whose KL term is estimated from the sample instead of exactly.

With ``gradient="dreg"`` the encoder's gradient is instead the doubly reparameterized
estimator of Tucker et al. (2019),

.. math:: \\nabla_\\phi \\mathcal L_K \\approx \\sum_k \\tilde w_k^2
          \\frac{\\partial \\log w_k}{\\partial z_k} \\frac{\\partial z_k}{\\partial \\phi},

the gradient in φ of the surrogate :math:`\\sum_k \\operatorname{stop}(\\tilde w_k^2) \\log w_k`
in which log q(z_k | x) is evaluated at a stopped φ: the score-function part of the IWAE
gradient (log q's dependence on φ at fixed z) is replaced by its reparameterized
expectation. Both estimators have the same expectation, the gradient of L_K; the decoder's
gradient is the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import reparameterize_backward_kernel, reparameterize_kernel
from ..core.numerics import LOG_2PI, logsumexp_kernel
from ..core.validation import check_positive_int
from .base import LossTerms, register
from .gaussian_latent import GaussianLatentConfig, GaussianLatentModel
from .latent_model import LIKELIHOOD_TERM_LABELS

#: The encoder gradient estimators an IWAE can train with.
GRADIENTS = ("iwae", "dreg")
#: The most codes per image a training step may draw (Burda et al. train with K ≤ 50).
MAX_SAMPLES = 10_000


@dataclass(frozen=True)
class IWAEConfig(GaussianLatentConfig):
    """The networks, code and likelihood of a VAE (:class:`~.gaussian_latent.GaussianLatentConfig`)
    and ``n_samples``, the K of the bound trained on. The bound has no KL term, so no β,
    warm-up or free bits.

    ``gradient`` chooses the encoder's gradient estimator: ``"iwae"`` (Burda et al.'s eq. 14,
    the exact gradient of the sampled bound) or ``"dreg"`` (doubly reparameterized, Tucker
    et al. 2019: the same expectation, less noise at large K).
    """

    n_samples: int = 5
    gradient: str = "iwae"

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.n_samples, "n_samples")
        if self.n_samples > MAX_SAMPLES:
            raise ValueError(
                f"n_samples must be at most {MAX_SAMPLES:,} codes per image in a training "
                f"step; got {self.n_samples:,} (evaluate larger K with log_weights instead)"
            )
        if self.gradient not in GRADIENTS:
            raise ValueError(f"gradient must be one of {GRADIENTS}; got {self.gradient!r}")


@register("iwae")
class IWAE(GaussianLatentModel):
    """A VAE trained on the importance-weighted bound L_K with K = ``config.n_samples``."""

    config_class = IWAEConfig
    term_labels = {"bound": "L_K", "elbo": "ELBO", **LIKELIHOOD_TERM_LABELS}

    def noise_shape(self, n: int) -> tuple[int, int, int]:
        """K draws of ε per example: (K, n, latent_dim)."""
        return (self.config.n_samples, n, self.config.latent_dim)

    def forward_backward(self, x: np.ndarray, eps: np.ndarray) -> LossTerms:
        """-L_K on a checked batch x (N, D) with noise eps (K, N, latent), and its gradient.

        With ``gradient="dreg"`` the encoder's part of ``grads`` is the DReG estimate, which is
        not the derivative of this loss at this noise but has the same expectation (the
        decoder's part is unchanged).

        Returns
        -------
        LossTerms: loss = -L_K; terms ``bound`` (L_K) and ``elbo`` (the mean of the K log
        weights, an estimate of the ELBO), batch means in nats.
        """
        n_samples, n, k = eps.shape
        mu, logvar = self.posterior_params(x)  # (N, k)
        z, std = reparameterize_kernel(mu, logvar, eps)  # (K, N, k)
        out = self.decoder.forward(z.reshape(n_samples * n, k)).reshape(n_samples, n, -1)

        # log w = log p(x|z) + log p(z) - log q(z|x); with z = μ + σ ε, log q(z|x) is
        # -½ Σ (log 2π + log σ² + ε²), which depends on the parameters only through log σ²
        log_px_z = self.likelihood.forward(x, out)  # (K, N)
        log_pz = -0.5 * np.sum(LOG_2PI + z * z, axis=-1)
        log_qz = -0.5 * np.sum(LOG_2PI + logvar + eps * eps, axis=-1)
        log_w = (log_px_z + log_pz - log_qz).astype(np.float64)  # (K, N)
        log_sum = logsumexp_kernel(log_w, axis=0)  # (N,)
        weights = np.exp(log_w - log_sum)  # w̃, constants: eq. 14
        # A weight below ε² (ε of the model's dtype) is set to 0. Beside the image's largest
        # weight, at least 1/K, it is below the resolution of the sum Σ_k w̃_k ∇log w_k; kept,
        # it makes the backward pass's float32 operands subnormal, which x86 processors
        # multiply many times slower (the decoder's backward pass at K = 50 took 5× as long).
        weights[weights < np.finfo(self.dtype).eps ** 2] = 0.0
        weights = weights.astype(self.dtype)

        # ∂(-L_K)/∂log w_k = -w̃_k / N; each path below multiplies it by ∂log w_k/∂(·)
        scale = (weights / n)[..., None]  # (K, N, 1)
        d_out = self.likelihood.backward(scale)  # (K, N, D): σ(ℓ) - x for the Bernoulli
        dz = self.decoder.backward(d_out.reshape(n_samples * n, -1)).reshape(n_samples, n, k)
        dz += scale * z  # -log p(z) adds z
        dreg = self.config.gradient == "dreg"
        if dreg:
            # the path derivative alone: ∂log q/∂z = -(z - μ)/σ² = -ε/σ joins ∂log p(x, z)/∂z,
            # and each sample is weighted by w̃² instead of w̃
            dz -= scale * (eps / std)
            dz *= weights[..., None]
        dh = np.empty((n, 2 * k), dtype=self.dtype)
        dh[:, :k], dh[:, k:] = reparameterize_backward_kernel(dz, eps, std, sample_axis=0)
        if not dreg:
            dh[:, k:] -= 0.5 / n  # + log q adds ½ per unit (the total derivative in log σ²)
        self.encoder.backward(dh, need_input_grad=False)

        bound = float(np.mean(log_sum - np.log(n_samples)))
        terms = {"bound": bound, "elbo": float(np.mean(log_w)), **self.likelihood.terms()}
        return LossTerms(loss=-bound, terms=terms)
