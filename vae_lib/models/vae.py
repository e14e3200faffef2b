"""The Variational Autoencoder: an MLP encoder q(z|x), an MLP decoder p(x|z), and the ELBO.

The encoder outputs μ and log σ² of a diagonal Gaussian; the decoder's output goes through
the likelihood the config names (Bernoulli logits by default, or a continuous Bernoulli or a
Gaussian for grey levels: :mod:`vae_lib.core.likelihoods`); the prior is N(0, I).
:meth:`VAE.forward_backward` is the whole training signal: the negative ELBO on a batch and
its gradient, by a hand-written backward pass that goes through the reparameterization
z = μ + σ ⊙ ε.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import (
    gaussian_log_density_kernel,
    kl_standard_normal_grad_kernel,
    kl_standard_normal_kernel,
    reparameterize_backward_kernel,
    reparameterize_kernel,
    standard_normal_log_density_kernel,
)
from ..core.likelihoods import Likelihood
from ..core.nn import ACTIVATIONS, MLP
from ..core.objectives import ELBOTerms
from ..core.validation import (
    check_array,
    check_positive_int,
    check_rng,
    check_size,
)
from .base import LIKELIHOOD_TERM_LABELS, LikelihoodConfig, LossTerms, Model, register


@dataclass(frozen=True)
class VAEConfig(LikelihoodConfig):
    """Hyperparameters of a :class:`VAE`, and its likelihood (:class:`LikelihoodConfig`:
    ``likelihood``, ``decoder_std``, ``learn_std``).

    Attributes
    ----------
    input_dim : int
        D, the number of pixels.
    hidden_dims : tuple of int
        Widths of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int
        K, the size of the code z.
    activation : {"relu", "tanh"}
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
    dtype : {"float32", "float64"}
    """

    input_dim: int = 16
    hidden_dims: tuple[int, ...] = (32,)
    latent_dim: int = 2
    activation: str = "relu"
    beta: float = 1.0
    kl_warmup_epochs: int = 0
    free_bits: float = 0.0
    dtype: str = "float32"

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.input_dim, "input_dim")
        check_positive_int(self.latent_dim, "latent_dim")
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        for width in self.hidden_dims:
            check_positive_int(width, "hidden_dims entry")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {self.activation!r}")
        if not (np.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number of at least 0; got {self.beta}")
        if not isinstance(self.kl_warmup_epochs, (int, np.integer)) or self.kl_warmup_epochs < 0:
            raise ValueError(
                f"kl_warmup_epochs must be a whole number of at least 0; "
                f"got {self.kl_warmup_epochs!r}"
            )
        if not (np.isfinite(self.free_bits) and self.free_bits >= 0):
            raise ValueError(
                f"free_bits must be a finite number of nats of at least 0; got {self.free_bits}"
            )
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")


@register("vae")
class VAE(Model):
    """A VAE with Gaussian encoder, a decoder with the config's likelihood and N(0, I) prior.

    Parameters
    ----------
    config : VAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = VAEConfig
    term_labels = {
        "objective": "training objective",
        "elbo": "ELBO",
        "recon": "reconstruction",
        "kl": "KL",
        **LIKELIHOOD_TERM_LABELS,
    }

    def build(self, rng: np.random.Generator) -> dict[str, MLP]:
        c = self.config
        encoder = MLP(
            (c.input_dim, *c.hidden_dims, 2 * c.latent_dim), rng, c.activation, self.dtype
        )
        decoder = MLP(
            (c.latent_dim, *reversed(c.hidden_dims), c.input_dim), rng, c.activation, self.dtype
        )
        return {"encoder": encoder, "decoder": decoder, "likelihood": c.make_likelihood(self.dtype)}

    @classmethod
    def param_shapes(cls, config: VAEConfig) -> dict[str, tuple[int, ...]]:
        c = config
        shapes = {}
        for part, sizes in (
            ("encoder", (c.input_dim, *c.hidden_dims, 2 * c.latent_dim)),
            ("decoder", (c.latent_dim, *reversed(c.hidden_dims), c.input_dim)),
        ):
            shapes.update({f"{part}.{n}": s for n, s in MLP.param_shapes(sizes).items()})
        return {**shapes, **config.likelihood_param_shapes()}

    @property
    def likelihood(self) -> Likelihood:
        """p(x | z) of the decoder's output (:mod:`vae_lib.core.likelihoods`)."""
        return self.networks["likelihood"]

    @property
    def encoder(self) -> MLP:
        return self.networks["encoder"]

    @property
    def decoder(self) -> MLP:
        return self.networks["decoder"]

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    # ------------------------------------------------------------------ the KL schedule
    #: The warm-up's factor on β in the current epoch (1 outside warm-up; see start_epoch).
    kl_weight: float = 1.0

    def start_epoch(self, epoch: int) -> None:
        warmup = self.config.kl_warmup_epochs
        self.kl_weight = min(1.0, (epoch + 1) / warmup) if warmup else 1.0

    @property
    def trains_on_elbo(self) -> bool:
        """Whether the training objective is the ELBO itself (no β, warm-up or free bits)."""
        c = self.config
        return c.beta == 1.0 and c.kl_warmup_epochs == 0 and c.free_bits == 0.0

    # ------------------------------------------------------------------ checks
    def check_data(self, x, name: str = "x") -> np.ndarray:
        """``x`` as an (N, D) array of this model's dtype with values in [0, 1]."""
        return self.likelihood.check_data(x, name, width=self.config.input_dim)

    def check_batch(self, batch, name: str = "batch") -> np.ndarray:
        return self.check_data(batch, name)

    def _check_codes(self, z, name: str = "z") -> np.ndarray:
        return check_array(z, name, shape=(None, self.config.latent_dim), dtype=self.dtype)

    def noise_shape(self, n: int) -> tuple[int, int]:
        """One ε ~ N(0, I) per example: (n, K)."""
        return (n, self.config.latent_dim)

    # ------------------------------------------------------------------ the model
    # Evaluation runs under np.errstate(over=..., invalid="ignore"): an overflow is not a
    # warning to print but an error to raise, with its cause, by _finite.
    _QUIET = {"over": "ignore", "invalid": "ignore"}

    def _finite(self, what: str, *arrays: np.ndarray) -> None:
        """Raise FloatingPointError if an output overflowed (the weights are too large)."""
        for a in arrays:
            if not np.all(np.isfinite(a)):
                largest = max(float(np.max(np.abs(p))) for p in self.params)
                raise FloatingPointError(
                    f"{what} is NaN or infinite in {self.dtype}: the weights are too large "
                    f"for it (largest |weight| {largest:.3g}); this model cannot be evaluated"
                )

    def encode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Parameters of q(z|x) = N(μ, diag σ²).

        Parameters
        ----------
        x : ndarray, shape (N, D), values in [0, 1]

        Returns
        -------
        mu, logvar : ndarray, shape (N, K)
        """
        with np.errstate(**self._QUIET):
            mu, logvar = self.posterior_params(self.check_data(x))
        self._finite("the encoder's output", mu, logvar)
        return mu, logvar

    def posterior_params(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode` on data that has been checked: μ and log σ² are halves of one output."""
        h = self.encoder.forward(x)
        k = self.config.latent_dim
        return h[:, :k], h[:, k:]

    def decode(self, z) -> np.ndarray:
        """The decoder's output for p(x|z) (Bernoulli logits, or the likelihood's own
        parameter): z (N, K) -> (N, D)."""
        return self.decoder.forward(self._check_codes(z))

    def decode_mean(self, z) -> np.ndarray:
        """The mean image E[x|z] (σ(logits) for the Bernoulli), shape (N, D)."""
        return self.likelihood.mean(self.decode(z))

    def sample_data(self, z, rng: np.random.Generator) -> np.ndarray:
        """x ~ p(x|z) for each code: the mean image and independent pixel noise, (N, D)."""
        return self.likelihood.draw(self.decode(z), check_rng(rng))

    def reconstruct(self, x) -> np.ndarray:
        """Decode the posterior mean: E[x | z = μ(x)], shape (N, D)."""
        mu, _ = self.encode(x)
        return self.likelihood.mean(self.decoder.forward(np.ascontiguousarray(mu)))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw z ~ N(0, I) and return (z, mean image) of shapes (n, K) and (n, D)."""
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        rng = check_rng(rng)
        z = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        return z, self.likelihood.mean(self.decoder.forward(z))

    # ------------------------------------------------------------------ the ELBO
    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1) -> ELBOTerms:
        r"""The ELBO of each example, estimated with ``n_samples`` draws of z.

        .. math:: \mathcal L(x) = \mathbb E_{q(z|x)}[\log p(x|z)]
                  - \mathrm{KL}(q(z|x)\,\|\,p(z))

        The KL term is exact (closed form); the reconstruction term is a Monte Carlo mean.
        This is the ELBO whatever the model's β (a β-VAE's objective is recon - β·KL).

        Returns
        -------
        ELBOTerms of arrays, shape (N,)
        """
        x = self.check_data(x)
        rng = check_rng(rng)
        n_samples = check_positive_int(n_samples, "n_samples")
        check_size(n_samples * len(x), f"n_samples={n_samples} for {len(x)} examples")
        with np.errstate(**self._QUIET):
            mu, logvar = (a.copy() for a in self.posterior_params(x))
            std = np.exp(0.5 * logvar)
            recon = np.zeros(len(x), dtype=np.float64)
            for _ in range(n_samples):
                z = mu + std * rng.standard_normal(mu.shape, dtype=self.dtype)
                recon += self.likelihood.log_prob(x, self.decoder.forward(z))
            recon /= n_samples
            kl = kl_standard_normal_kernel(mu, logvar).astype(np.float64)
        self._finite("the ELBO", recon, kl)
        return ELBOTerms(elbo=recon - kl, recon=recon, kl=kl)

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

    # ------------------------------------------------------------------ evaluation
    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        r"""log w = log p(x|z) + log p(z) - log q(z|x) for ``k`` draws z ~ q(z|x) per example.

        Returns
        -------
        ndarray, shape (k, N), float64
        """
        x = self.check_data(x)
        k = check_positive_int(k, "k")
        check_size(k * len(x) * self.config.latent_dim, f"k={k} samples of {len(x)} codes")
        rng = check_rng(rng)
        with np.errstate(**self._QUIET):
            mu, logvar = (a.copy() for a in self.posterior_params(x))
            std = np.exp(0.5 * logvar)
            out = np.empty((k, len(x)))
            for i in range(k):
                z = mu + std * rng.standard_normal(mu.shape, dtype=self.dtype)
                log_px_z = self.likelihood.log_prob(x, self.decoder.forward(z))
                log_pz = standard_normal_log_density_kernel(z)
                log_qz = gaussian_log_density_kernel(z, mu, logvar)
                out[i] = log_px_z + log_pz - log_qz
        self._finite("log p(x, z) - log q(z | x)", out)
        return out

    def log_joint_pairs(self, x, z) -> np.ndarray:
        r"""log p(x, z) = log p(x | z) + log N(z; 0, I) for every example and every code.

        Parameters
        ----------
        x : ndarray, shape (N, D), values in [0, 1]
        z : ndarray, shape (G, K)

        Returns
        -------
        ndarray, shape (N, G), float64
        """
        x = self.check_data(x)
        z = check_array(z, "z", shape=(None, self.config.latent_dim))
        outs = self.decoder.forward(z.astype(self.dtype))  # (G, D)
        log_prior = standard_normal_log_density_kernel(z.astype(np.float64))  # (G,)
        return self.likelihood.log_prob_pairs(x, outs) + log_prior
