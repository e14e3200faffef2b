r"""A hierarchical VAE with two stochastic layers and ladder inference (Sønderby et al. 2016).

The generative model is a chain from the top down,

.. math:: p(z_2) = \mathcal N(0, I), \qquad
          p(z_1 \mid z_2) = \mathcal N(\mu_p(z_2), \operatorname{diag}\sigma_p^2(z_2)), \qquad
          p(x \mid z_1) \text{ the config's likelihood of } \ell(z_1),

and inference goes up and then down. A deterministic bottom-up pass gives
:math:`d_1 = f_1(x)` and :math:`d_2 = f_2(d_1)`, and from them the encoder's Gaussians
:math:`(\hat\mu_1, \hat\sigma_1^2)` and :math:`(\hat\mu_2, \hat\sigma_2^2)`. The top layer is
:math:`q(z_2 \mid x) = \mathcal N(\hat\mu_2, \hat\sigma_2^2)`; going down, the posterior of the
bottom layer merges the encoder's Gaussian with the prior's (eq. ``hvae-merge``):

.. math:: q(z_1 \mid z_2, x) \propto \mathcal N(z_1; \hat\mu_1, \hat\sigma_1^2)\,
          \mathcal N(z_1; \mu_p(z_2), \sigma_p^2(z_2)).

:class:`BottomUpHVAE` has the same generative model and the plain bottom-up inference
:math:`q(z_1 \mid x)\, q(z_2 \mid z_1)`, the baseline Sønderby et al. compare the ladder
with: its top layer sees x only through a draw of z1.

Siblings of the VAE: they share the likelihood, the data check and decoding
(:class:`~vae_lib.models.latent_model.LatentModel`) and β with KL warm-up (``KLSchedule``).
What the two inference schemes share (the generative chain, sampling, and the ELBO, the
importance weights and the posterior means, all computed from one draw of (z1, z2) down
the model's own q) is :class:`TwoLayerVAE`; each scheme adds its draw and its training step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..core.distributions import (
    gaussian_entropy_kernel,
    gaussian_log_density_grad_kernel,
    gaussian_log_density_kernel,
    kl_standard_normal_grad_kernel,
    kl_standard_normal_kernel,
    reparameterize_backward_kernel,
    reparameterize_kernel,
    standard_normal_log_density_kernel,
)
from ..core.divergences import kl_diag_gaussians_grad_kernel, kl_diag_gaussians_kernel
from ..core.gaussians import precision_weighted_merge_backward, precision_weighted_merge_kernel
from ..core.nn import ACTIVATION_LAYERS
from ..core.objectives import TwoLayerELBOTerms
from ..core.validation import (
    check_array,
    check_positive_int,
    check_rng,
    check_size,
)
from .base import LossTerms, register
from .gaussian_latent import GaussianLatentConfig
from .kl_schedule import KLSchedule, check_kl_schedule
from .latent_model import ELBO_TERM_LABELS, QUIET, LatentModel


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class HVAEConfig(GaussianLatentConfig):
    """Hyperparameters of an :class:`HVAE`: the networks, code and likelihood of a VAE
    (:class:`~.gaussian_latent.GaussianLatentConfig`) for x and the bottom layer z1, the KL
    terms' weight, and the size of the top layer z2 and of the networks between the layers.

    Attributes
    ----------
    latent_dim : int
        K1, the size of the bottom code z1 (the decoder p(x | z1) reads it).
    hidden_dims : tuple of int
        Widths of f1 (x -> d1; d1 is its last hidden layer) and, reversed, of p(x | z1).
    top_latent_dim : int
        K2, the size of the top code z2.
    top_hidden_dims : tuple of int
        Widths of f2 (d1 -> d2) and, reversed, of the prior network p(z1 | z2).
    beta : float
        As the VAE's: the weight of both KL terms in the training objective.
    kl_warmup_epochs : int
        As the VAE's: both KL terms are weighted by β·min(1, (e + 1)/W) in epoch e.
    """

    hidden_dims: tuple[int, ...] = (32,)
    latent_dim: int = 4
    beta: float = 1.0
    kl_warmup_epochs: int = 0
    top_latent_dim: int = 2
    top_hidden_dims: tuple[int, ...] = (16,)

    def __post_init__(self):
        super().__post_init__()
        check_kl_schedule(self.beta, self.kl_warmup_epochs)
        check_positive_int(self.top_latent_dim, "top_latent_dim")
        object.__setattr__(self, "top_hidden_dims", tuple(self.top_hidden_dims))
        if not self.hidden_dims or not self.top_hidden_dims:
            raise ValueError(
                "hidden_dims and top_hidden_dims must each name at least one width (d1 and d2 "
                f"are hidden layers); got {self.hidden_dims} and {self.top_hidden_dims}"
            )
        for width in self.top_hidden_dims:
            check_positive_int(width, "top_hidden_dims entry")


class LayerDraw(NamedTuple):
    """One draw (z1, z2) ~ q(z1, z2 | x) of N examples, and what the ELBO, the importance
    weights and the posterior means need of it (each array has N rows)."""

    z1: np.ndarray
    z2: np.ndarray
    #: The means of q's Gaussians for z1 and z2 in this draw (one may depend on the other).
    mean1: np.ndarray
    mean2: np.ndarray
    #: p(z1 | z2) at the drawn z2.
    mu_p: np.ndarray
    logvar_p: np.ndarray
    #: The two layers' shares of KL(q(z1, z2 | x) ‖ p(z1, z2)), each (N,): estimates whose
    #: expectations over draws add up to the KL (see :class:`TwoLayerVAE.elbo`).
    kl1: np.ndarray
    kl2: np.ndarray
    #: log q of each layer's draw given what it is conditioned on, each (N,).
    log_q1: np.ndarray
    log_q2: np.ndarray


class TwoLayerVAE(KLSchedule, LatentModel):
    """What both inference schemes share: p(z2) p(z1 | z2) p(x | z1), sampling down the chain,
    and the ELBO, importance weights and posterior means of draws from the model's q.

    A subclass says how the top encoder is fed (:meth:`top_encoder_input`), how one draw
    goes (:meth:`_draw`), what :meth:`encode` returns, and its training step
    (:meth:`forward_backward`).

    Networks, in ``params`` order: ``encoder`` (f1: x -> d1, then the activation),
    ``encoder_head`` (d1 -> μ̂1, log σ̂1²), ``top_encoder`` (its input -> μ̂2, log σ̂2²),
    ``prior`` (z2 -> μ_p, log σ_p²) and ``decoder`` (z1 -> logits).
    """

    config_class = HVAEConfig
    term_labels = {**ELBO_TERM_LABELS, "kl1": "KL layer 1", "kl2": "KL layer 2"}
    #: Quadrature needs p(x, z) on a grid of one latent layer; this model has two.
    log_joint_pairs = None

    @classmethod
    def top_encoder_input(cls, c: HVAEConfig) -> int:
        """The width of what the top encoder reads."""
        raise NotImplementedError

    @classmethod
    def network_sizes(cls, c: HVAEConfig) -> dict[str, tuple[int, ...]]:
        d1 = c.hidden_dims[-1]
        return {
            "encoder": (c.input_dim, *c.hidden_dims),
            "encoder_head": (d1, 2 * c.latent_dim),
            "top_encoder": (cls.top_encoder_input(c), *c.top_hidden_dims, 2 * c.top_latent_dim),
            "prior": (c.top_latent_dim, *reversed(c.top_hidden_dims), 2 * c.latent_dim),
            "decoder": (c.latent_dim, *reversed(c.hidden_dims), c.input_dim),
        }

    def build(self, rng: np.random.Generator) -> dict:
        # f1 ends in a Linear layer; d1 is its activation
        self._d1_activation = ACTIVATION_LAYERS[self.config.activation]()
        return super().build(rng)

    @property
    def trains_on_elbo(self) -> bool:
        """Whether the training objective is the ELBO itself (no β or warm-up)."""
        return self.config.beta == 1.0 and self.config.kl_warmup_epochs == 0

    def noise_shape(self, n: int) -> tuple[int, int]:
        """ε1 and ε2 side by side: (n, K1 + K2), the first K1 columns for z1."""
        return (n, self.config.latent_dim + self.config.top_latent_dim)

    @property
    def top_latent_dim(self) -> int:
        return self.config.top_latent_dim

    def _check_top_codes(self, z2, name: str = "z2") -> np.ndarray:
        return check_array(z2, name, shape=(None, self.config.top_latent_dim), dtype=self.dtype)

    # ------------------------------------------------------------------ the networks
    def _d1(self, x: np.ndarray) -> np.ndarray:
        """d1 = f1(x), the encoder's last hidden layer, from checked data."""
        return self._d1_activation.forward(self.networks["encoder"].forward(x))

    def _prior(self, z2: np.ndarray):
        """(μ_p, log σ_p²) of p(z1 | z2), each (N, K1)."""
        h = self.networks["prior"].forward(z2)
        k1 = self.config.latent_dim
        return h[:, :k1], h[:, k1:]

    def prior_params(self, z2) -> tuple[np.ndarray, np.ndarray]:
        """μ_p(z2) and log σ_p²(z2) of p(z1 | z2): z2 (N, K2) -> two arrays (N, K1)."""
        return tuple(a.copy() for a in self._prior(self._check_top_codes(z2)))

    def generate(self, z2, eps1) -> tuple[np.ndarray, np.ndarray]:
        """The top-down generative path with its noise given: z1 = μ_p(z2) + σ_p(z2) ⊙ ε1.

        Holding ``eps1`` and changing ``z2`` shows what the top layer controls; holding ``z2``
        and drawing new ``eps1`` shows what is left to the bottom layer.

        Parameters
        ----------
        z2 : ndarray, shape (N, K2)
        eps1 : ndarray, shape (N, K1)

        Returns
        -------
        z1 : ndarray, shape (N, K1)
        mean : ndarray, shape (N, D)
            The mean image σ(ℓ(z1)).
        """
        z2 = self._check_top_codes(z2)
        eps1 = check_array(eps1, "eps1", shape=(len(z2), self.config.latent_dim), dtype=self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, with a reason
            mu_p, logvar_p = self._prior(z2)
            z1 = mu_p + np.exp(0.5 * logvar_p) * eps1
            mean = self.likelihood.mean(self.decoder.forward(z1))
        self.check_finite("the generated code or image", z1, mean)
        return z1, mean

    def sample_layers(self, n: int, rng: np.random.Generator):
        """Ancestral sampling: z2 ~ N(0, I), z1 ~ p(z1 | z2), and the mean image of p(x | z1).

        Returns
        -------
        z1 : ndarray, shape (n, K1)
        z2 : ndarray, shape (n, K2)
        mean : ndarray, shape (n, D)
        """
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        rng = check_rng(rng)
        z2 = rng.standard_normal((n, self.config.top_latent_dim), dtype=self.dtype)
        eps1 = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        z1, mean = self.generate(z2, eps1)
        return z1, z2, mean

    def sample(self, n: int, rng: np.random.Generator, given=None):
        """(z1, mean image): :meth:`sample_layers` without the top code; z1 is what
        :meth:`decode` reads."""
        self.check_given(given, n)
        z1, _, mean = self.sample_layers(n, rng)
        return z1, mean

    def _loss_terms(self, mean_recon: float, kl1, kl2, weight: float) -> LossTerms:
        """A training step's LossTerms from the batch's mean reconstruction term, the KL
        shares per example, and the KL's weight c = β·w."""
        mean_kl1, mean_kl2 = float(np.mean(kl1)), float(np.mean(kl2))
        mean_kl = mean_kl1 + mean_kl2
        terms = {
            "elbo": mean_recon - mean_kl,
            "recon": mean_recon,
            "kl": mean_kl,
            "kl1": mean_kl1,
            "kl2": mean_kl2,
            **self.likelihood.terms(),
        }
        if self.trains_on_elbo:
            return LossTerms(loss=-terms["elbo"], terms=terms)
        objective = mean_recon - weight * mean_kl
        return LossTerms(loss=-objective, terms={"objective": objective, **terms})

    # ------------------------------------------------------------------ inference
    def _encoded(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """What q computes from checked data before it draws anything: the same for every
        draw, so computed once for all of them."""
        raise NotImplementedError

    def _draw(self, encoded: tuple[np.ndarray, ...], eps: np.ndarray) -> LayerDraw:
        """One draw down the model's q from :meth:`_encoded`, with the noise ``eps``
        (N, K1 + K2)."""
        raise NotImplementedError

    def _draws(self, x: np.ndarray, n: int, rng: np.random.Generator):
        """``n`` draws of (z1, z2) ~ q for every example, one at a time; the encoder's pass
        over x runs once."""
        encoded = self._encoded(x)
        for _ in range(n):
            yield self._draw(
                encoded, rng.standard_normal(self.noise_shape(len(x)), dtype=self.dtype)
            )

    def posterior_means(self, x, rng: np.random.Generator | None = None, n_samples: int = 64):
        r"""The posterior mean of each layer, E_q[z1 | x] and E_q[z2 | x], for active units.

        Each is the mean over ``n_samples`` draws of the mean of that layer's Gaussian in the
        draw: exact for a layer q does not condition on the other (E_q[z2 | x] = μ̂2(x) in
        the ladder, E_q[z1 | x] = μ̂1(x) bottom-up), a Monte Carlo mean for the other
        (for the ladder :math:`\mathbb E_q[z_1 \mid x] = \mathbb E_{q(z_2|x)}[\mu_q(z_2, x)]`).

        Returns
        -------
        mean1 : ndarray, shape (N, K1), float64
        mean2 : ndarray, shape (N, K2), float64
        """
        x = self.check_data(x)
        rng = check_rng(rng)
        n_samples = check_positive_int(n_samples, "n_samples")
        check_size(n_samples * len(x) * self.config.latent_dim, f"n_samples={n_samples}")
        mean1 = np.zeros((len(x), self.config.latent_dim))
        mean2 = np.zeros((len(x), self.config.top_latent_dim))
        with np.errstate(**QUIET):
            for draw in self._draws(x, n_samples, rng):
                mean1 += draw.mean1
                mean2 += draw.mean2
            mean1 /= n_samples
            mean2 /= n_samples
        self.check_finite("the posterior mean", mean1, mean2)
        return mean1, mean2

    def reconstruct(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """Decode the posterior at its centre (the draw with ε = 0: z1 is the mean of its
        Gaussian given the mean z2, or given nothing); shape (N, D)."""
        x = self.check_data(x)
        with np.errstate(**QUIET):
            draw = self._draw(self._encoded(x), np.zeros(self.noise_shape(len(x)), self.dtype))
            mean = self.likelihood.mean(self.decoder.forward(draw.mean1))
        self.check_finite("the reconstruction", mean)
        return mean

    # ------------------------------------------------------------------ the ELBO
    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1) -> TwoLayerELBOTerms:
        r"""The ELBO of each example, with its two KL terms, from ``n_samples`` draws.

        .. math:: \mathcal L(x) = \mathbb E_{q}\big[\log p(x \mid z_1)\big]
                  - \mathrm{KL}\big(q(z_1, z_2 \mid x)\,\|\,p(z_1, z_2)\big)

        The KL is split by layer as each scheme's q factorizes; each share is the mean over
        the draws of :attr:`LayerDraw.kl1` and ``kl2``. This is the ELBO whatever the
        warm-up.

        Returns
        -------
        TwoLayerELBOTerms of arrays, shape (N,)
        """
        x, rng, n_samples = self.check_draws(x, rng, n_samples)
        recon, kl1, kl2 = np.zeros(len(x)), np.zeros(len(x)), np.zeros(len(x))
        with np.errstate(**QUIET):
            for draw in self._draws(x, n_samples, rng):
                kl1 += draw.kl1
                kl2 += draw.kl2
                recon += self.likelihood.log_prob(x, self.decoder.forward(draw.z1))
            recon /= n_samples
            kl1 /= n_samples
            kl2 /= n_samples
        self.check_finite("the ELBO", recon, kl1, kl2)
        kl = kl1 + kl2
        return TwoLayerELBOTerms(elbo=recon - kl, recon=recon, kl=kl, kl1=kl1, kl2=kl2)

    # ------------------------------------------------------------------ evaluation
    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        r"""log w = log p(x | z1) + log p(z1 | z2) + log p(z2) - log q(z1, z2 | x) for ``k``
        draws (z1, z2) ~ q, per example.

        Returns
        -------
        ndarray, shape (k, N), float64
        """
        x = self.check_data(x)
        k = check_positive_int(k, "k")
        k1, k2 = self.config.latent_dim, self.config.top_latent_dim
        check_size(k * len(x) * (k1 + k2), f"k={k} samples of {len(x)} codes")
        rng = check_rng(rng)
        out = np.empty((k, len(x)))
        with np.errstate(**QUIET):
            for i, draw in enumerate(self._draws(x, k, rng)):
                out[i] = (
                    self.likelihood.log_prob(x, self.decoder.forward(draw.z1))
                    + gaussian_log_density_kernel(draw.z1, draw.mu_p, draw.logvar_p)
                    + standard_normal_log_density_kernel(draw.z2)
                    - draw.log_q1
                    - draw.log_q2
                )
        self.check_finite("log p(x, z1, z2) - log q(z1, z2 | x)", out)
        return out


@register("hvae")
class HVAE(TwoLayerVAE):
    """A two-layer ladder VAE: p(z2) p(z1 | z2) p(x | z1), with q(z2 | x) q(z1 | z2, x).

    The top encoder is f2 and its head: d1 -> d2 -> μ̂2, log σ̂2²; the bottom layer's
    posterior merges the encoder's Gaussian with the prior's.

    Parameters
    ----------
    config : HVAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    @classmethod
    def top_encoder_input(cls, c: HVAEConfig) -> int:
        """d1: the top encoder reads the deterministic bottom-up pass."""
        return c.hidden_dims[-1]

    def _bottom_up(self, x: np.ndarray):
        """(μ̂1, log σ̂1², μ̂2, log σ̂2²), each (N, K_l), from checked data."""
        k1, k2 = self.config.latent_dim, self.config.top_latent_dim
        d1 = self._d1(x)
        h1 = self.networks["encoder_head"].forward(d1)
        h2 = self.networks["top_encoder"].forward(d1)
        return h1[:, :k1], h1[:, k1:], h2[:, :k2], h2[:, k2:]

    def bottom_up(self, x):
        """The encoder's Gaussians from the bottom-up pass d1 = f1(x), d2 = f2(d1).

        Parameters
        ----------
        x : ndarray, shape (N, D), values in [0, 1]

        Returns
        -------
        mu1_hat, logvar1_hat : ndarray, shape (N, K1)
            The encoder's own Gaussian for z1, before the merge with p(z1 | z2).
        mu2, logvar2 : ndarray, shape (N, K2)
            q(z2 | x).
        """
        with np.errstate(**QUIET):
            out = tuple(a.copy() for a in self._bottom_up(self.check_data(x)))
        self.check_finite("the encoder's output", *out)
        return out

    def encode(self, x):
        """The encoder's two Gaussians, (μ̂1, log σ̂1², μ̂2, log σ̂2²): :meth:`bottom_up`."""
        return self.bottom_up(x)

    def _encoded(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """The bottom-up pass, (μ̂1, log σ̂1², μ̂2, log σ̂2²)."""
        return self._bottom_up(x)

    def _posterior(self, bottom_up: tuple[np.ndarray, ...], eps2: np.ndarray):
        """One draw down the ladder from the bottom-up pass: everything the ELBO's terms
        need."""
        mu1_hat, logvar1_hat, mu2, logvar2 = bottom_up
        z2 = mu2 + np.exp(0.5 * logvar2) * eps2
        mu_p, logvar_p = self._prior(z2)
        mu1, logvar1, _, _ = precision_weighted_merge_kernel(mu1_hat, logvar1_hat, mu_p, logvar_p)
        return z2, mu2, logvar2, mu_p, logvar_p, mu1, logvar1

    def _draw(self, encoded: tuple[np.ndarray, ...], eps: np.ndarray) -> LayerDraw:
        """Down the ladder: both KL shares in closed form (the bottom one given z2)."""
        k1 = self.config.latent_dim
        z2, mu2, logvar2, mu_p, logvar_p, mu1, logvar1 = self._posterior(encoded, eps[:, k1:])
        z1 = mu1 + np.exp(0.5 * logvar1) * eps[:, :k1]
        return LayerDraw(
            z1=z1,
            z2=z2,
            mean1=mu1,
            mean2=mu2,
            mu_p=mu_p,
            logvar_p=logvar_p,
            kl1=kl_diag_gaussians_kernel(mu1, logvar1, mu_p, logvar_p),
            kl2=kl_standard_normal_kernel(mu2, logvar2),
            log_q1=gaussian_log_density_kernel(z1, mu1, logvar1),
            log_q2=gaussian_log_density_kernel(z2, mu2, logvar2),
        )

    def forward_backward(self, x: np.ndarray, noise: np.ndarray) -> LossTerms:
        r"""The negative training objective of a checked batch and its gradient in ``grads``.

        The objective is recon - c·(KL1 + KL2), with c = β·w (w the warm-up weight
        :attr:`kl_weight`): the ELBO when c = 1. The backward pass runs top-down in reverse:
        the decoder, the reparameterization z1 = μ_q + σ_q ε1 and KL1 in closed form
        (:func:`vae_lib.core.divergences.kl_diag_gaussians_grad_kernel`), the merge
        (:func:`precision_weighted_merge_backward`), the prior network into z2, the
        reparameterization z2 = μ̂2 + σ̂2 ε2 and KL2, the two heads, and f1.

        Parameters
        ----------
        x : ndarray, shape (N, D)
        noise : ndarray, shape (N, K1 + K2)
            ε1 (first K1 columns) and ε2.

        Returns
        -------
        LossTerms: loss = -objective; terms ``elbo``, ``recon``, ``kl``, ``kl1``, ``kl2``
        (batch means, nats) and first, unless it trains on the ELBO, ``objective``.
        """
        n, k1, k2 = len(x), self.config.latent_dim, self.config.top_latent_dim
        weight = self.config.beta * self.kl_weight
        eps1, eps2 = noise[:, :k1], noise[:, k1:]
        mu1_hat, logvar1_hat, mu2, logvar2 = self._bottom_up(x)
        z2, std2 = reparameterize_kernel(mu2, logvar2, eps2)
        mu_p, logvar_p = self._prior(z2)
        mu1, logvar1, w, one_minus_w = precision_weighted_merge_kernel(
            mu1_hat, logvar1_hat, mu_p, logvar_p
        )
        z1, std1 = reparameterize_kernel(mu1, logvar1, eps1)
        logits = self.decoder.forward(z1)

        recon_sum, d_out = self.likelihood.step(x, logits, 1.0 / n)
        kl1 = kl_diag_gaussians_kernel(mu1, logvar1, mu_p, logvar_p)
        kl2 = kl_standard_normal_kernel(mu2, logvar2)

        # the bottom layer: p(x | z1) through z1 = μ_q + σ_q ε1, and KL1's four arguments
        dz1 = self.decoder.backward(d_out)  # (N, K1)
        c = weight / n
        g_mu1, g_logvar1, g_mu_p, g_logvar_p = kl_diag_gaussians_grad_kernel(
            mu1, logvar1, mu_p, logvar_p
        )
        dmu1, dlogvar1 = reparameterize_backward_kernel(dz1, eps1, std1)
        dmu1 = dmu1 + c * g_mu1
        dlogvar1 = dlogvar1 + c * g_logvar1
        dmu1_hat, dlogvar1_hat, dmu_p, dlogvar_p = precision_weighted_merge_backward(
            dmu1, dlogvar1, mu1_hat, mu_p, w, one_minus_w
        )
        dmu_p += c * g_mu_p
        dlogvar_p += c * g_logvar_p

        # the top layer: the prior network into z2 = μ̂2 + σ̂2 ε2, and KL2
        dz2 = self.networks["prior"].backward(np.concatenate([dmu_p, dlogvar_p], axis=1))
        dmu2, dlogvar2 = reparameterize_backward_kernel(dz2, eps2, std2)
        kl_dmu2, kl_dlogvar2 = kl_standard_normal_grad_kernel(mu2, std2, c)
        dh2 = np.empty((n, 2 * k2), dtype=self.dtype)
        np.add(dmu2, kl_dmu2, out=dh2[:, :k2])
        np.add(dlogvar2, kl_dlogvar2, out=dh2[:, k2:])

        # both heads read d1, so their gradients add up there
        dd1 = self.networks["encoder_head"].backward(np.concatenate([dmu1_hat, dlogvar1_hat], 1))
        dd1 += self.networks["top_encoder"].backward(dh2)
        self.networks["encoder"].backward(self._d1_activation.backward(dd1), need_input_grad=False)

        return self._loss_terms(recon_sum / n, kl1, kl2, weight)


# ----------------------------------------------------------------------------- bottom-up
@dataclass(frozen=True)
class BottomUpHVAEConfig(HVAEConfig):
    """Hyperparameters of a :class:`BottomUpHVAE`: those of :class:`HVAEConfig`, with the
    same meaning; f2 reads z1 instead of d1."""


@register("bottom_up_hvae")
class BottomUpHVAE(TwoLayerVAE):
    r"""The ladder VAE's generative model with bottom-up inference, q(z1 | x) q(z2 | z1).

    q(z1 | x) = N(μ̂1(d1), σ̂1²(d1)) as the ladder's encoder Gaussian, and the top encoder
    (f2 and its head) reads a draw of z1 instead of d1. Nothing flows down: the posterior of
    z1 ignores what the prior p(z1 | z2) expects. The ELBO's shares per layer are

    .. math:: \mathrm{KL}_1 = \mathbb E_q\big[\log q(z_1 \mid x) - \log p(z_1 \mid z_2)\big],
              \qquad
              \mathrm{KL}_2 = \mathbb E_{q(z_1|x)}\big[\mathrm{KL}(q(z_2 \mid z_1)\,\|\,
              p(z_2))\big],

    the second in closed form given z1, the first with q's entropy in closed form and
    log p(z1 | z2) at the drawn codes. KL₁ is an accounting share, not a KL: it can be
    negative when q(z2 | z1) picks a z2 whose prior fits z1 closely; the sum is the KL.

    Parameters
    ----------
    config : BottomUpHVAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = BottomUpHVAEConfig

    @classmethod
    def top_encoder_input(cls, c: HVAEConfig) -> int:
        """K1: the top encoder reads a draw of z1."""
        return c.latent_dim

    def _bottom_encoder(self, x: np.ndarray):
        """(μ̂1, log σ̂1²) of q(z1 | x), each (N, K1), from checked data."""
        h1 = self.networks["encoder_head"].forward(self._d1(x))
        k1 = self.config.latent_dim
        return h1[:, :k1], h1[:, k1:]

    def _top_encoder(self, z1: np.ndarray):
        """(μ̂2, log σ̂2²) of q(z2 | z1), each (N, K2)."""
        h2 = self.networks["top_encoder"].forward(z1)
        k2 = self.config.top_latent_dim
        return h2[:, :k2], h2[:, k2:]

    def encode(self, x):
        """(μ̂1, log σ̂1²) of q(z1 | x), each (N, K1); q(z2 | z1) is :meth:`top_posterior`."""
        with np.errstate(**QUIET):
            out = tuple(a.copy() for a in self._bottom_encoder(self.check_data(x)))
        self.check_finite("the encoder's output", *out)
        return out

    def top_posterior(self, z1) -> tuple[np.ndarray, np.ndarray]:
        """(μ̂2, log σ̂2²) of q(z2 | z1): z1 (N, K1) -> two arrays (N, K2)."""
        z1 = check_array(z1, "z1", shape=(None, self.config.latent_dim), dtype=self.dtype)
        with np.errstate(**QUIET):
            out = tuple(a.copy() for a in self._top_encoder(z1))
        self.check_finite("the top encoder's output", *out)
        return out

    def _encoded(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """q(z1 | x)'s Gaussian, (μ̂1, log σ̂1²)."""
        return self._bottom_encoder(x)

    def _draw(self, encoded: tuple[np.ndarray, ...], eps: np.ndarray) -> LayerDraw:
        """Up the chain: z1 ~ q(z1 | x), then z2 ~ q(z2 | z1)."""
        k1 = self.config.latent_dim
        mu1, logvar1 = encoded
        z1 = mu1 + np.exp(0.5 * logvar1) * eps[:, :k1]
        mu2, logvar2 = self._top_encoder(z1)
        z2 = mu2 + np.exp(0.5 * logvar2) * eps[:, k1:]
        mu_p, logvar_p = self._prior(z2)
        return LayerDraw(
            z1=z1,
            z2=z2,
            mean1=mu1,
            mean2=mu2,
            mu_p=mu_p,
            logvar_p=logvar_p,
            kl1=-gaussian_entropy_kernel(logvar1) - gaussian_log_density_kernel(z1, mu_p, logvar_p),
            kl2=kl_standard_normal_kernel(mu2, logvar2),
            log_q1=gaussian_log_density_kernel(z1, mu1, logvar1),
            log_q2=gaussian_log_density_kernel(z2, mu2, logvar2),
        )

    def forward_backward(self, x: np.ndarray, noise: np.ndarray) -> LossTerms:
        r"""The negative training objective of a checked batch and its gradient in ``grads``.

        The objective is recon - c·(KL₁ + KL₂) with c = β·w as the ladder's, KL₁ and KL₂ as in
        the class docstring for the drawn codes. The backward pass: the decoder into z1;
        -log p(z1 | z2) into z1 directly and into (μ_p, log σ_p²), then through the prior
        network into z2; z2 = μ̂2 + σ̂2 ε2 and KL₂ through the top encoder into z1 again;
        then z1 = μ̂1 + σ̂1 ε1 and the entropy, the head and f1.

        Parameters
        ----------
        x : ndarray, shape (N, D)
        noise : ndarray, shape (N, K1 + K2)
            ε1 (first K1 columns) and ε2.

        Returns
        -------
        LossTerms: loss = -objective; terms ``elbo``, ``recon``, ``kl``, ``kl1``, ``kl2``
        (batch means, nats) and first, unless it trains on the ELBO, ``objective``.
        """
        n, k1, k2 = len(x), self.config.latent_dim, self.config.top_latent_dim
        weight = self.config.beta * self.kl_weight
        eps1, eps2 = noise[:, :k1], noise[:, k1:]
        mu1, logvar1 = self._bottom_encoder(x)
        z1, std1 = reparameterize_kernel(mu1, logvar1, eps1)
        mu2, logvar2 = self._top_encoder(z1)
        z2, std2 = reparameterize_kernel(mu2, logvar2, eps2)
        mu_p, logvar_p = self._prior(z2)
        logits = self.decoder.forward(z1)

        recon_sum, d_out = self.likelihood.step(x, logits, 1.0 / n)
        kl1 = -gaussian_entropy_kernel(logvar1) - gaussian_log_density_kernel(z1, mu_p, logvar_p)
        kl2 = kl_standard_normal_kernel(mu2, logvar2)

        # -log p(z1 | z2), weighted c = β·w / n, into z1 directly and into the prior's Gaussian
        c = weight / n
        g_z1, g_mu_p, g_logvar_p = gaussian_log_density_grad_kernel(z1, mu_p, logvar_p)
        dz2 = self.networks["prior"].backward(-c * np.concatenate([g_mu_p, g_logvar_p], axis=1))
        # z2 = μ̂2 + σ̂2 ε2 and KL2, through the top encoder back into z1
        dmu2, dlogvar2 = reparameterize_backward_kernel(dz2, eps2, std2)
        kl_dmu2, kl_dlogvar2 = kl_standard_normal_grad_kernel(mu2, std2, c)
        dh2 = np.empty((n, 2 * k2), dtype=self.dtype)
        np.add(dmu2, kl_dmu2, out=dh2[:, :k2])
        np.add(dlogvar2, kl_dlogvar2, out=dh2[:, k2:])
        dz1 = self.networks["top_encoder"].backward(dh2)
        dz1 += self.decoder.backward(d_out)
        dz1 -= c * g_z1
        # z1 = μ̂1 + σ̂1 ε1; the entropy's gradient in log σ̂1² is -½ per unit, so c·E[log q]'s is -c/2
        dmu1, dlogvar1 = reparameterize_backward_kernel(dz1, eps1, std1)
        dh1 = np.concatenate([dmu1, dlogvar1 - 0.5 * c], axis=1)
        dd1 = self.networks["encoder_head"].backward(dh1)
        self.networks["encoder"].backward(self._d1_activation.backward(dd1), need_input_grad=False)

        return self._loss_terms(recon_sum / n, kl1, kl2, weight)
