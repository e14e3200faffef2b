r"""An autoregressive flow on the code, as a learned prior or as a richer posterior.

The flow is :class:`~vae_lib.core.flows.AffineAutoregressiveFlow`, u = f(z) with
u_i = (z_i - m_i(z_{<i})) e^{-s_i(z_{<i})} from one MADE, whose log-determinant is -Σ_i s_i.
Two models use the same f, with the same encoder q(z0|x) = N(μ(x), diag σ²(x)) and a draw
z0 = μ + σ ⊙ η:

- :class:`AFPriorVAE`, a VAE with an **autoregressive-flow prior** (Chen et al. 2017, sec. 3;
  the density of Papamakarios et al. 2017): the decoder reads z0, and the prior is the
  density of z0 when f(z0) ~ N(0, I),
  :math:`\log p(z_0) = \log\mathcal N(f(z_0); 0, I) - \sum_i s_i`;
- :class:`IAFPosteriorVAE`, a VAE with an **inverse-autoregressive-flow posterior** (Kingma
  et al. 2016) and the N(0, I) prior: the code is z = f(z0), an IAF step (its shift
  -m e^{-s} and scale e^{-s} are autoregressive in z0), with
  :math:`\log q(z \mid x) = \log q(z_0 \mid x) + \sum_i s_i`, and the decoder reads z.

In both the log-weight is

.. math:: \log w = \log p(x \mid \text{decoder input}) + \log\mathcal N(f(z_0); 0, I)
          - \sum_i s_i - \log q(z_0 \mid x),

so the two models differ only in which side of the flow the decoder reads: an AF-prior VAE
with decoder g is exactly an IAF-posterior VAE with decoder g ∘ f⁻¹ (:func:`as_iaf_posterior`).
Equation labels refer to the chapter "An autoregressive-flow prior"
(chapters/vlae/flow_prior.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.autoregressive import MADE
from ..core.distributions import (
    reparameterize_backward_kernel,
    reparameterize_kernel,
    standard_normal_log_density_kernel,
)
from ..core.flows import AffineAutoregressiveFlow
from ..core.nn import Module
from ..core.numerics import LOG_2PI
from ..core.objectives import ELBOTerms
from ..core.validation import check_positive_int, check_rng, check_size
from .base import LossTerms, register
from .gaussian_latent import GaussianLatentConfig, GaussianLatentModel
from .latent_model import LIKELIHOOD_TERM_LABELS, QUIET


@dataclass(frozen=True)
class FlowVAEConfig(GaussianLatentConfig):
    """The networks, code and likelihood of a VAE (:class:`~.gaussian_latent.GaussianLatentConfig`)
    and the hidden widths of the flow's MADE. The flow VAEs train on the ELBO, whose KL term
    has no closed form here: no β, warm-up or free bits.

    Attributes
    ----------
    flow_hidden_dims : tuple of int
        Widths of the MADE's hidden layers; each at least latent_dim - 1 gives every
        coordinate's shift and log-scale a unit of each degree.
    """

    flow_hidden_dims: tuple[int, ...] = (32,)

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "flow_hidden_dims", tuple(self.flow_hidden_dims))
        if not self.flow_hidden_dims:
            raise ValueError("flow_hidden_dims must list at least one hidden width; got ()")
        for width in self.flow_hidden_dims:
            check_positive_int(width, "flow_hidden_dims entry")


class FlowVAE(GaussianLatentModel):
    """What the two flow VAEs share: the flow network and the log-weight above. A subclass
    says which side of the flow the decoder reads (``decoder_reads_flow``)."""

    decoder_reads_flow: bool = False
    term_labels = {
        "elbo": "ELBO",
        "recon": "reconstruction",
        "kl": "KL (one-sample)",
        **LIKELIHOOD_TERM_LABELS,
    }

    def build(self, rng: np.random.Generator) -> dict:
        networks = super().build(rng)
        c = self.config
        networks["flow"] = AffineAutoregressiveFlow(
            c.latent_dim, c.flow_hidden_dims, rng, c.activation, self.dtype
        )
        return networks

    @classmethod
    def param_shapes(cls, config: FlowVAEConfig) -> dict[str, tuple[int, ...]]:
        shapes = super().param_shapes(config)
        sizes = AffineAutoregressiveFlow.sizes(config.latent_dim, config.flow_hidden_dims)
        shapes.update({f"flow.{n}": s for n, s in MADE.param_shapes(sizes).items()})
        return shapes

    @property
    def flow(self) -> AffineAutoregressiveFlow:
        return self.networks["flow"]

    def _terms(self, x: np.ndarray, mu, logvar, eps):
        """u = f(z0) and the decoder's logits, then log p(x|·), log N(u; 0, I), Σ s and
        log q(z0|x), each of shape (N,)."""
        z0, _ = reparameterize_kernel(mu, logvar, eps)
        u, s = self.flow.forward(z0)
        logits = self.decoder.forward(u if self.decoder_reads_flow else z0)
        log_px = self.likelihood.log_prob(x, logits)
        log_pu = standard_normal_log_density_kernel(u)
        log_q0 = -0.5 * np.sum(LOG_2PI + logvar + eps * eps, axis=-1)
        return u, logits, log_px, log_pu, np.sum(s, axis=-1), log_q0

    def forward_backward(self, x: np.ndarray, eps: np.ndarray) -> LossTerms:
        r"""The negative one-sample ELBO of a checked batch and its gradient.

        .. math:: -\log w = -\log p(x \mid \cdot) + \tfrac12\lVert u\rVert^2 + \sum_i s_i
                  - \tfrac12 \sum_i (\log\sigma_i^2 + \eta_i^2) + \text{const}

        The gradient reaches the decoder from its logits, the flow from u and s
        (:meth:`AffineAutoregressiveFlow.backward`), and the encoder through z0 = μ + σ ⊙ η
        and the log σ² of log q(z0|x).

        Returns
        -------
        LossTerms: loss = -ELBO estimate; terms ``elbo``, ``recon``, ``kl`` (the one-sample
        estimate of log q - log p(code)), batch means in nats.
        """
        n, k = len(x), self.config.latent_dim
        mu, logvar = self.posterior_params(x)
        std = np.exp(0.5 * logvar)
        u, logits, log_px, log_pu, sum_s, log_q0 = self._terms(x, mu, logvar, eps)

        self.likelihood.forward(x, logits)
        d_out = self.likelihood.backward(1.0 / n)
        d_decoded = self.decoder.backward(d_out)  # ∂(-log w)/∂(decoder input)
        du = u / n  # -log N(u) = ½‖u‖² + const
        if self.decoder_reads_flow:
            du += d_decoded
        dz0 = self.flow.backward(du, np.full_like(u, 1.0 / n))  # Σ s adds 1 per unit
        if not self.decoder_reads_flow:
            dz0 += d_decoded
        dh = np.empty((n, 2 * k), dtype=self.dtype)
        dh[:, :k], dlogvar = reparameterize_backward_kernel(dz0, eps, std)
        dh[:, k:] = dlogvar - 0.5 / n  # log q(z0|x) adds -½ log σ² per unit
        self.encoder.backward(dh, need_input_grad=False)

        recon = float(np.mean(log_px))
        kl = float(np.mean(log_q0 + sum_s - log_pu))
        terms = {"elbo": recon - kl, "recon": recon, "kl": kl, **self.likelihood.terms()}
        return LossTerms(loss=kl - recon, terms=terms)

    # ------------------------------------------------------------------ evaluation
    def _draws(self, x: np.ndarray, k: int, rng: np.random.Generator):
        """(log p(x|·), log q(code|x) - log p(code)) for k draws of each example: (k, N) each."""
        recon, kl = np.empty((k, len(x))), np.empty((k, len(x)))
        with np.errstate(**QUIET):
            mu, logvar = (a.copy() for a in self.posterior_params(x))
            for i in range(k):
                eps = rng.standard_normal(mu.shape, dtype=self.dtype)
                _, _, log_px, log_pu, sum_s, log_q0 = self._terms(x, mu, logvar, eps)
                recon[i], kl[i] = log_px, log_q0 + sum_s - log_pu
        self.check_finite("log p(x, z) - log q(z | x)", recon, kl)
        return recon, kl

    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        """log p(x, code) - log q(code | x) for ``k`` draws per example: (k, N), float64."""
        x = self.check_data(x)
        k = check_positive_int(k, "k")
        check_size(k * len(x) * self.config.latent_dim, f"k={k} samples of {len(x)} codes")
        recon, kl = self._draws(x, k, check_rng(rng))
        return recon - kl

    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1) -> ELBOTerms:
        r"""The ELBO of each example, both of its terms Monte Carlo means over ``n_samples``.

        The KL term has no closed form here: it is the mean of log q - log p of the code,
        the code length of eq. ``flow-code-length``.

        Returns
        -------
        ELBOTerms of arrays, shape (N,)
        """
        x, rng, n_samples = self.check_draws(x, rng, n_samples)
        recon, kl = self._draws(x, n_samples, rng)
        recon, kl = recon.mean(axis=0), kl.mean(axis=0)
        return ELBOTerms(elbo=recon - kl, recon=recon, kl=kl)


@dataclass(frozen=True)
class AFPriorConfig(FlowVAEConfig):
    """The config of an :class:`AFPriorVAE`."""


@dataclass(frozen=True)
class IAFPosteriorConfig(FlowVAEConfig):
    """The config of an :class:`IAFPosteriorVAE`."""


@register("af_prior_vae")
class AFPriorVAE(FlowVAE):
    r"""A VAE whose prior is an autoregressive flow: p(z) with f(z) ~ N(0, I) (eq.
    ``flow-af-prior``); the encoder is Gaussian and the decoder reads z."""

    config_class = AFPriorConfig
    decoder_reads_flow = False

    def log_prior(self, z) -> np.ndarray:
        r"""log p(z) = log N(f(z); 0, I) - Σ_i s_i(z_{<i}), shape (N,) for z of shape (N, K),
        float64: far from the mode the log-density (about -|f(z)|²/2) leaves float32's range
        long before the density's own arithmetic does."""
        z = self.check_codes(z)
        u, s = self.flow.forward(z)
        u, s = u.astype(np.float64), s.astype(np.float64)
        return standard_normal_log_density_kernel(u) - np.sum(s, axis=-1)

    def sample(self, n: int, rng: np.random.Generator, given=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw u ~ N(0, I), z = f⁻¹(u) ~ p(z), and return (z, mean image)."""
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        self.check_given(given, n)
        u = check_rng(rng).standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        z = self.flow.inverse(u)
        return z, self.likelihood.mean(self.decoder.forward(z))

    def log_joint_pairs(self, x, z) -> np.ndarray:
        """log p(x|z) + log p(z) with the flow prior, for every example and code: (N, G)."""
        out = super().log_joint_pairs(x, z)  # with log N(z; 0, I) in place of log p(z)
        z = np.asarray(z, dtype=self.dtype)
        return out + self.log_prior(z) - standard_normal_log_density_kernel(z.astype(np.float64))


@register("iaf_posterior_vae")
class IAFPosteriorVAE(FlowVAE):
    r"""A VAE whose posterior is one IAF step: z = f(z0), z0 ~ N(μ(x), diag σ²(x)), with
    log q(z|x) = log q(z0|x) + Σ_i s_i (eq. ``flow-iaf-posterior``); prior N(0, I), and the
    decoder reads z."""

    config_class = IAFPosteriorConfig
    decoder_reads_flow = True

    def reconstruct(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """Decode the flow of the encoder's mean: σ(decoder(f(μ(x)))), shape (N, D)."""
        mu, _ = self.encode(x)
        u, _ = self.flow.forward(np.ascontiguousarray(mu))
        return self.likelihood.mean(self.decoder.forward(u))


class _InverseFlowDecoder(Module):
    """The decoder g ∘ f⁻¹: decodes a code u by first mapping it back through the flow."""

    def __init__(self, decoder, flow: AffineAutoregressiveFlow):
        self.decoder, self.flow = decoder, flow

    def forward(self, u: np.ndarray) -> np.ndarray:
        return self.decoder.forward(self.flow.inverse(u))

    def backward(self, *args, **kwargs):
        raise NotImplementedError(
            "the IAF view of an AF-prior model (as_iaf_posterior) is for evaluation only "
            "(log_weights, elbo): its decoder g ∘ f⁻¹ has no backward pass; train the "
            "AF-prior model itself"
        )

    @property
    def params(self) -> list[np.ndarray]:
        return self.decoder.params

    @property
    def grads(self) -> list[np.ndarray]:
        return self.decoder.grads

    def param_names(self) -> list[str]:
        return self.decoder.param_names()


def as_iaf_posterior(model: AFPriorVAE) -> IAFPosteriorVAE:
    r"""The IAF-posterior VAE that is ``model`` seen from the other side of its flow.

    Same encoder, same flow, prior N(0, I), and decoder g ∘ f⁻¹ for the AF-prior model's
    decoder g: its log-weights equal ``model``'s draw by draw (eq. ``flow-equivalence``),
    up to the rounding of f⁻¹(f(z0)) = z0. For evaluation only (``log_weights``,
    ``elbo``): its decoder makes K passes of the MADE per call and has no backward pass.
    """
    if not isinstance(model, AFPriorVAE):
        raise TypeError(f"model must be an AFPriorVAE; got {type(model).__name__}")
    twin = IAFPosteriorVAE(IAFPosteriorConfig(**model.config.to_dict()), np.random.default_rng(0))
    for part in ("encoder", "flow"):
        for mine, theirs in zip(model.networks[part].params, twin.networks[part].params):
            theirs[...] = mine
    twin.networks["decoder"] = _InverseFlowDecoder(model.decoder, twin.flow)
    return twin
