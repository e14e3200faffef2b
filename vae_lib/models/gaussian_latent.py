"""The models whose code is one Gaussian layer: q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I).

:class:`GaussianLatentModel` is what the VAE, the IWAE, the flow VAEs, the conditional VAE
and the VLAE share: an MLP encoder whose output is μ and log σ², a decoder of z, and the
likelihood of the config; encoding, decoding, sampling, the ELBO with its KL in closed form,
the importance weights and log p(x, z) on a grid. Each model adds its training step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import (
    gaussian_log_density_kernel,
    kl_standard_normal_kernel,
    standard_normal_log_density_kernel,
)
from ..core.nn import MLP
from ..core.objectives import ELBOTerms
from ..core.validation import check_array, check_positive_int, check_rng, check_size
from .latent_model import QUIET, LatentModel, NetworkConfig


@dataclass(frozen=True)
class GaussianLatentConfig(NetworkConfig):
    """A :class:`~vae_lib.models.latent_model.NetworkConfig` and the size of the code.

    Attributes
    ----------
    latent_dim : int
        K, the size of the code z.
    """

    latent_dim: int = 2

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.latent_dim, "latent_dim")


class GaussianLatentModel(LatentModel):
    """A model with the Gaussian encoder q(z|x) and the prior N(0, I) (not registered: a
    base). A subclass writes its training step (``noise_shape``, ``forward_backward``)."""

    @classmethod
    def network_sizes(cls, config: GaussianLatentConfig) -> dict[str, tuple[int, ...]]:
        c = config
        return {
            "encoder": (c.input_dim, *c.hidden_dims, 2 * c.latent_dim),
            "decoder": (c.latent_dim, *reversed(c.hidden_dims), c.input_dim),
        }

    @property
    def encoder(self) -> MLP:
        return self.networks["encoder"]

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def noise_shape(self, n: int) -> tuple[int, int]:
        """One ε ~ N(0, I) per example: (n, K)."""
        return (n, self.config.latent_dim)

    # ------------------------------------------------------------------ the model
    def encode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Parameters of q(z|x) = N(μ, diag σ²).

        Parameters
        ----------
        x : ndarray, shape (N, D), values in [0, 1]

        Returns
        -------
        mu, logvar : ndarray, shape (N, K)
        """
        with np.errstate(**QUIET):
            mu, logvar = self.posterior_params(self.check_data(x))
        self.check_finite("the encoder's output", mu, logvar)
        return mu, logvar

    def posterior_params(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode` on data that has been checked: μ and log σ² are halves of one output."""
        h = self.encoder.forward(x)
        k = self.config.latent_dim
        return h[:, :k], h[:, k:]

    def reconstruct(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """Decode the posterior mean: E[x | z = μ(x)], shape (N, D) (no draw: ``rng`` unused)."""
        mu, _ = self.encode(x)
        return self.likelihood.mean(self.decoder.forward(np.ascontiguousarray(mu)))

    def posterior_means(self, x, rng: np.random.Generator | None = None) -> tuple[np.ndarray]:
        """(μ(x),), the mean of q(z | x), float64 (exact: ``rng`` unused)."""
        mu, _ = self.encode(x)
        return (mu.astype(np.float64),)

    def sample(self, n: int, rng: np.random.Generator, given=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw z ~ N(0, I) and return (z, mean image) of shapes (n, K) and (n, D)."""
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        rng = check_rng(rng)
        given = self.check_given(given, n)
        z = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        with self.conditioned(given):
            return z, self.likelihood.mean(self.decoder.forward(z))

    # ------------------------------------------------------------------ evaluation
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
        x, rng, n_samples = self.check_draws(x, rng, n_samples)
        with np.errstate(**QUIET):
            mu, logvar = (a.copy() for a in self.posterior_params(x))
            std = np.exp(0.5 * logvar)
            recon = np.zeros(len(x), dtype=np.float64)
            for _ in range(n_samples):
                z = mu + std * rng.standard_normal(mu.shape, dtype=self.dtype)
                recon += self.likelihood.log_prob(x, self.decoder.forward(z))
            recon /= n_samples
            kl = kl_standard_normal_kernel(mu, logvar).astype(np.float64)
        self.check_finite("the ELBO", recon, kl)
        return ELBOTerms(elbo=recon - kl, recon=recon, kl=kl)

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
        with np.errstate(**QUIET):
            mu, logvar = (a.copy() for a in self.posterior_params(x))
            std = np.exp(0.5 * logvar)
            out = np.empty((k, len(x)))
            for i in range(k):
                z = mu + std * rng.standard_normal(mu.shape, dtype=self.dtype)
                log_px_z = self.likelihood.log_prob(x, self.decoder.forward(z))
                log_pz = standard_normal_log_density_kernel(z)
                log_qz = gaussian_log_density_kernel(z, mu, logvar)
                out[i] = log_px_z + log_pz - log_qz
        self.check_finite("log p(x, z) - log q(z | x)", out)
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
        check_size(len(z) * self.config.input_dim, f"{len(z)} codes")
        log_prior = standard_normal_log_density_kernel(z.astype(np.float64))  # (G,)
        return self.log_likelihood_pairs(x, z) + log_prior

    def log_likelihood_pairs(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """log p(x | z) for every checked example (N, D) and code (G, K): (N, G), float64."""
        return self.likelihood.log_prob_pairs(x, self.decoder.forward(z.astype(self.dtype)))
