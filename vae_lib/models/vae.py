"""The Variational Autoencoder: an MLP encoder q(z|x), an MLP decoder p(x|z), and the ELBO.

The encoder outputs μ and log σ² of a diagonal Gaussian; the decoder's output goes through
the likelihood the config names (Bernoulli logits by default, or a continuous Bernoulli or a
Gaussian for grey levels: :mod:`vae_lib.core.likelihoods`); the prior is N(0, I). All that is
shared with the other one-layer models is :class:`~.gaussian_latent.GaussianLatentModel`;
what is the VAE's own is its training step, :meth:`VAE.forward_backward`: the negative ELBO
on a batch (or, with β, KL warm-up or free bits, the objective they make) and its gradient,
by a hand-written backward pass that goes through the reparameterization z = μ + σ ⊙ ε.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import (
    kl_standard_normal_grad_kernel,
    kl_standard_normal_kernel,
    reparameterize_backward_kernel,
    reparameterize_kernel,
)
from .base import LossTerms, register
from .gaussian_latent import GaussianLatentConfig, GaussianLatentModel
from .kl_schedule import KLSchedule, check_kl_schedule
from .latent_model import ELBO_TERM_LABELS


@dataclass(frozen=True)
class VAEConfig(GaussianLatentConfig):
    """Hyperparameters of a :class:`VAE`: the networks, the code and the likelihood
    (:class:`~.gaussian_latent.GaussianLatentConfig`: ``input_dim``, ``hidden_dims``,
    ``latent_dim``, ``activation``, ``dtype``, ``likelihood``, ``decoder_std``,
    ``learn_std``), and the objective's KL term.

    Attributes
    ----------
    beta : float
        Weight on the KL term of the training objective, recon - β·KL. At β = 1 that is the
        ELBO; any other β trains a β-VAE on another objective (the ELBO is still reported).
    kl_warmup_epochs : int
        W: KL warm-up (Bowman et al. 2016; Sønderby et al. 2016). In epoch e (from 0) the KL
        term's weight is β·min(1, (e + 1)/W); 0 means no warm-up.
    free_bits : float
        λ, in nats per latent unit (Kingma et al. 2016): the objective's KL term becomes
        Σ_j max(λ, KL_j) with KL_j unit j's KL averaged over the minibatch, so a unit pays
        nothing for the first λ nats it carries; 0 means none.
    """

    beta: float = 1.0
    kl_warmup_epochs: int = 0
    free_bits: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        check_kl_schedule(self.beta, self.kl_warmup_epochs)
        if isinstance(self.free_bits, bool) or not isinstance(
            self.free_bits, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"free_bits must be a number of nats; got {self.free_bits!r}")
        if not (np.isfinite(self.free_bits) and self.free_bits >= 0):
            raise ValueError(
                f"free_bits must be a finite number of nats of at least 0; got {self.free_bits}"
            )


@register("vae")
class VAE(KLSchedule, GaussianLatentModel):
    """A VAE with Gaussian encoder, a decoder with the config's likelihood and N(0, I) prior.

    Parameters
    ----------
    config : VAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = VAEConfig
    term_labels = ELBO_TERM_LABELS

    @property
    def trains_on_elbo(self) -> bool:
        """Whether the training objective is the ELBO itself (no β, warm-up or free bits)."""
        c = self.config
        return c.beta == 1.0 and c.kl_warmup_epochs == 0 and c.free_bits == 0.0

    def forward_backward(self, x: np.ndarray, eps: np.ndarray) -> LossTerms:
        r"""The negative training objective of a checked batch, and its gradient in every
        ``grads``.

        The objective is the ELBO, recon - KL, unless the config sets β, warm-up or free
        bits; then it is recon - β·w·R, with w the warm-up weight :attr:`kl_weight` and R the
        KL, or with free bits λ, :math:`R = \sum_j \max(\lambda, \overline{\mathrm{KL}}_j)`.
        The backward pass, from the loss to the encoder's output:

        .. math::
            \frac{\partial(-\mathcal L)}{\partial \ell} = \sigma(\ell) - x, \qquad
            \frac{\partial(-\mathcal L)}{\partial \mu} = \frac{\partial(-\mathcal L)}{\partial z}
            + c\,\mu, \qquad
            \frac{\partial(-\mathcal L)}{\partial \log\sigma^2} =
            \frac{\partial(-\mathcal L)}{\partial z} \odot \varepsilon \odot \frac{\sigma}{2}
            + \frac{c}{2}(\sigma^2 - 1)

        each divided by the batch size N, where c is the KL term's weight β·w (and 0 for a
        unit that free bits exempts: its batch-mean KL is below λ).

        Parameters
        ----------
        x : ndarray, shape (N, D)
        eps : ndarray, shape (N, K)
            The noise of z = μ + σ ⊙ ε.

        Returns
        -------
        LossTerms: loss = -objective; terms ``elbo``, ``recon``, ``kl`` (batch means, nats),
        and first, unless the model trains on the ELBO, ``objective``, the number trained on.
        """
        n, k = len(x), self.config.latent_dim
        weight = self.config.beta * self.kl_weight  # c, the KL term's weight
        mu, logvar = self.posterior_params(x)
        z, std = reparameterize_kernel(mu, logvar, eps)  # z = μ + σ ⊙ ε
        logits = self.decoder.forward(z)

        # log p(x|z) summed over the batch, and its gradient in the decoder's output
        recon_sum, dlogits = self.likelihood.step(x, logits, 1.0 / n)
        kl = kl_standard_normal_kernel(mu, logvar)
        dz = self.decoder.backward(dlogits)

        # the KL term's weight per unit: free bits exempt the units under λ from it
        unit_weight = weight
        rate = float(np.mean(kl))
        if self.config.free_bits:
            unit_kl = 0.5 * np.mean(mu * mu + std * std - 1.0 - logvar, axis=0)  # (K,)
            rate = float(np.sum(np.maximum(self.config.free_bits, unit_kl)))
            unit_weight = weight * (unit_kl > self.config.free_bits).astype(self.dtype)

        # through z = μ + σ ε to the encoder's outputs μ and log σ², and the KL term's share
        dmu, dlogvar = reparameterize_backward_kernel(dz, eps, std)
        kl_dmu, kl_dlogvar = kl_standard_normal_grad_kernel(mu, std, unit_weight / n)
        dh = np.empty((n, 2 * k), dtype=self.dtype)
        np.add(dmu, kl_dmu, out=dh[:, :k])
        np.add(dlogvar, kl_dlogvar, out=dh[:, k:])
        self.encoder.backward(dh, need_input_grad=False)

        mean_recon, mean_kl = recon_sum / n, float(np.mean(kl))
        terms = {"elbo": mean_recon - mean_kl, "recon": mean_recon, "kl": mean_kl}
        if not self.trains_on_elbo:
            objective = mean_recon - weight * rate
            terms = {"objective": objective, **terms}
        return LossTerms(
            loss=-terms.get("objective", terms["elbo"]), terms={**terms, **self.likelihood.terms()}
        )
