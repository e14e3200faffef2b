"""The Variational Autoencoder: an MLP encoder q(z|x), an MLP decoder p(x|z), and the ELBO.

The encoder outputs μ and log σ² of a diagonal Gaussian; the decoder outputs Bernoulli
logits; the prior is N(0, I). :meth:`VAE.loss_and_grads` is the whole training signal: the
negative ELBO on a batch and its gradient, by a hand-written backward pass that goes through
the reparameterization z = μ + σ ⊙ ε.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .distributions import (
    _bernoulli_log_likelihood,
    _kl_standard_normal,
    _sigmoid_and_softplus,
    sigmoid,
)
from .nn import ACTIVATIONS, MLP
from .validation import check_array, check_positive_int, check_rng, check_unit_interval


@dataclass(frozen=True)
class VAEConfig:
    """Hyperparameters of a :class:`VAE`.

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
        Weight on the KL term (1 is the ELBO; other values give a β-VAE).
    dtype : {"float32", "float64"}
    """

    input_dim: int = 16
    hidden_dims: tuple[int, ...] = (32,)
    latent_dim: int = 2
    activation: str = "relu"
    beta: float = 1.0
    dtype: str = "float32"

    def __post_init__(self):
        check_positive_int(self.input_dim, "input_dim")
        check_positive_int(self.latent_dim, "latent_dim")
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        for width in self.hidden_dims:
            check_positive_int(width, "hidden_dims entry")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {self.activation!r}")
        if not (np.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number of at least 0; got {self.beta}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(
                f"unknown VAEConfig field(s) {sorted(unknown)}; expected {sorted(fields)}"
            )
        return cls(**d)


@dataclass
class ELBOTerms:
    """The ELBO and its two parts, in nats: elbo = recon - beta * kl.

    Arrays of shape (N,) from :meth:`VAE.elbo`; batch means (floats) from
    :meth:`VAE.loss_and_grads`.
    """

    elbo: np.ndarray | float
    recon: np.ndarray | float
    kl: np.ndarray | float


class VAE:
    """A VAE with Gaussian encoder, Bernoulli decoder and N(0, I) prior.

    Parameters
    ----------
    config : VAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    def __init__(self, config: VAEConfig, rng: np.random.Generator):
        if not isinstance(config, VAEConfig):
            raise TypeError(f"config must be a VAEConfig; got {type(config).__name__}")
        rng = check_rng(rng)
        self.config = config
        self.dtype = np.dtype(config.dtype)
        c = config
        self.encoder = MLP(
            (c.input_dim, *c.hidden_dims, 2 * c.latent_dim), rng, c.activation, self.dtype
        )
        self.decoder = MLP(
            (c.latent_dim, *reversed(c.hidden_dims), c.input_dim), rng, c.activation, self.dtype
        )

    # ------------------------------------------------------------------ checks
    def check_data(self, x, name: str = "x") -> np.ndarray:
        """``x`` as an (N, D) array of this model's dtype with values in [0, 1]."""
        x = check_array(x, name, shape=(None, self.config.input_dim), dtype=self.dtype)
        return check_unit_interval(x, name)

    def _check_codes(self, z, name: str = "z") -> np.ndarray:
        return check_array(z, name, shape=(None, self.config.latent_dim), dtype=self.dtype)

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
        return self._encode(self.check_data(x))

    def _encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = self.encoder.forward(x)
        k = self.config.latent_dim
        return h[:, :k], h[:, k:]

    def decode(self, z) -> np.ndarray:
        """Bernoulli logits of p(x|z): z (N, K) -> logits (N, D)."""
        return self.decoder.forward(self._check_codes(z))

    def decode_mean(self, z) -> np.ndarray:
        """The mean image E[x|z] = σ(logits), shape (N, D), values in (0, 1)."""
        return sigmoid(self.decode(z))

    def reconstruct(self, x) -> np.ndarray:
        """Decode the posterior mean: σ(decoder(μ(x))), shape (N, D)."""
        mu, _ = self.encode(x)
        return sigmoid(self.decoder.forward(np.ascontiguousarray(mu)))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw z ~ N(0, I) and return (z, mean image) of shapes (n, K) and (n, D)."""
        n = check_positive_int(n, "n")
        rng = check_rng(rng)
        z = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        return z, sigmoid(self.decoder.forward(z))

    # ------------------------------------------------------------------ the ELBO
    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1) -> ELBOTerms:
        r"""The ELBO of each example, estimated with ``n_samples`` draws of z.

        .. math:: \mathcal L(x) = \mathbb E_{q(z|x)}[\log p(x|z)]
                  - \beta\,\mathrm{KL}(q(z|x)\,\|\,p(z))

        The KL term is exact (closed form); the reconstruction term is a Monte Carlo mean.

        Returns
        -------
        ELBOTerms of arrays, shape (N,)
        """
        x = self.check_data(x)
        rng = check_rng(rng)
        n_samples = check_positive_int(n_samples, "n_samples")
        mu, logvar = self._encode(x)
        mu, logvar = mu.copy(), logvar.copy()
        std = np.exp(0.5 * logvar)
        recon = np.zeros(len(x), dtype=np.float64)
        for _ in range(n_samples):
            z = mu + std * rng.standard_normal(mu.shape, dtype=self.dtype)
            recon += _bernoulli_log_likelihood(x, self.decoder.forward(z))
        recon /= n_samples
        kl = _kl_standard_normal(mu, logvar).astype(np.float64)
        return ELBOTerms(elbo=recon - self.config.beta * kl, recon=recon, kl=kl)

    def loss_and_grads(self, x, rng: np.random.Generator | None = None, eps=None) -> ELBOTerms:
        r"""Negative mean ELBO of a batch, and its gradient in every parameter's ``grads``.

        The backward pass, from the loss to the encoder's output:

        .. math::
            \frac{\partial(-\mathcal L)}{\partial \ell} = \sigma(\ell) - x, \qquad
            \frac{\partial(-\mathcal L)}{\partial \mu} = \frac{\partial(-\mathcal L)}{\partial z}
            + \beta\mu, \qquad
            \frac{\partial(-\mathcal L)}{\partial \log\sigma^2} =
            \frac{\partial(-\mathcal L)}{\partial z} \odot \varepsilon \odot \frac{\sigma}{2}
            + \frac{\beta}{2}(\sigma^2 - 1)

        each divided by the batch size N.

        Parameters
        ----------
        x : ndarray, shape (N, D)
        rng : numpy.random.Generator, optional
            Draws ε; give this or ``eps``.
        eps : ndarray, shape (N, K), optional
            Fixed noise, for gradient checks and for pairing runs.

        Returns
        -------
        ELBOTerms of batch means (floats).
        """
        x = self.check_data(x)
        k = self.config.latent_dim
        if eps is None:
            if rng is None:
                raise TypeError("loss_and_grads needs rng (a numpy.random.Generator) or eps")
            eps = check_rng(rng).standard_normal((len(x), k), dtype=self.dtype)
        else:
            eps = check_array(eps, "eps", shape=(len(x), k), dtype=self.dtype)
        return self._loss_and_grads(x, eps)

    def _loss_and_grads(self, x: np.ndarray, eps: np.ndarray) -> ELBOTerms:
        """The arithmetic of :meth:`loss_and_grads`, on data that has been checked."""
        n, k, beta = len(x), self.config.latent_dim, self.config.beta
        mu, logvar = self._encode(x)
        std = np.exp(0.5 * logvar)
        z = mu + std * eps
        logits = self.decoder.forward(z)

        # log p(x|z) = Σ_d x_d ℓ_d - softplus(ℓ_d), summed over the batch; its gradient in
        # the logits ℓ is x - σ(ℓ), and σ(ℓ) comes out of the same tanh as the softplus
        sigma, softplus = _sigmoid_and_softplus(logits)
        recon_sum = float(np.vdot(x, logits)) - float(np.sum(softplus))
        kl = _kl_standard_normal(mu, logvar)

        dlogits = sigma
        dlogits -= x
        dlogits *= 1.0 / n
        dz = self.decoder.backward(dlogits)

        dh = np.empty((n, 2 * k), dtype=self.dtype)
        np.multiply(mu, beta / n, out=dh[:, :k])
        dh[:, :k] += dz  # through z = μ + σ ε, ∂z/∂μ = 1
        var_minus_one = std * std - 1.0
        dh[:, k:] = dz * eps * (0.5 * std) + (0.5 * beta / n) * var_minus_one
        self.encoder.backward(dh, need_input_grad=False)

        mean_recon, mean_kl = recon_sum / n, float(np.mean(kl))
        return ELBOTerms(elbo=mean_recon - beta * mean_kl, recon=mean_recon, kl=mean_kl)

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> list[np.ndarray]:
        return self.encoder.params + self.decoder.params

    @property
    def grads(self) -> list[np.ndarray]:
        return self.encoder.grads + self.decoder.grads

    def param_names(self) -> list[str]:
        """Stable names for :attr:`params`, e.g. ``encoder.0.W``, used when saving."""
        names = []
        for part, mlp in (("encoder", self.encoder), ("decoder", self.decoder)):
            linear = [layer for layer in mlp.layers if layer.params]
            for i, _ in enumerate(linear):
                names += [f"{part}.{i}.W", f"{part}.{i}.b"]
        return names

    def num_params(self) -> int:
        return int(sum(p.size for p in self.params))
