r"""The VQ-VAE (van den Oord et al. 2017): a deterministic encoder, a codebook, a decoder.

The encoder maps an image to L vectors :math:`z_e \in \mathbb R^d`; each is replaced by the
nearest of K codebook vectors :math:`e_1, \dots, e_K`, so an image becomes L discrete codes;
the decoder maps the L chosen vectors :math:`z_q` to Bernoulli logits. Training minimises

.. math:: -\log p(x \mid z_q) + \lVert \mathrm{sg}[z_e] - e \rVert^2
          + \beta_c \lVert z_e - \mathrm{sg}[e] \rVert^2,

with the straight-through estimator: the gradient that reaches :math:`z_q` is passed on to
:math:`z_e` unchanged, as if quantization were the identity. That gradient is not the
derivative of the loss (the loss is piecewise constant in :math:`z_e` through the choice of
code). It *is* the exact derivative of a surrogate in which every ``sg[·]`` and the choice of
code are held at their current values; :meth:`VQVAE.gradient_surrogate` returns that
surrogate, so finite differences can check the hand-written backward pass.

With ``codebook_update="ema"`` the codebook loss is dropped and the codebook follows an
exponential moving average of the encoder outputs assigned to each code (online k-means).
Its statistics, the step counter and the code usage since the last restart are *buffers*:
arrays saved with the weights whose gradients are always zero, so the optimizer never moves
them; :meth:`VQVAE.forward_backward` updates them after each training step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.categorical import check_codes, code_perplexity
from ..core.nn import MLP
from ..core.objectives import ELBOTerms
from ..core.quantization import (
    Codebook,
    ema_codebook_update,
    kmeans_plus_plus,
    nearest_codes,
)
from ..core.validation import (
    check_array,
    check_number,
    check_positive_int,
    check_rng,
    check_size,
)
from .base import LossTerms, register
from .latent_model import LIKELIHOOD_TERM_LABELS, LatentModel, NetworkConfig

INITS = ("random", "encoder", "kmeans++")
UPDATES = ("loss", "ema")


@dataclass(frozen=True)
class VQVAEConfig(NetworkConfig):
    """Hyperparameters of a :class:`VQVAE`: the networks and the likelihood
    (:class:`~.latent_model.NetworkConfig`: ``input_dim``, ``hidden_dims``, ``activation``,
    ``dtype``, ``likelihood``, ``decoder_std``, ``learn_std``), and the codebook.

    Attributes
    ----------
    n_positions : int
        L, the codes per image (the encoder outputs L·d numbers).
    code_dim : int
        d, the size of each codebook vector.
    codebook_size : int
        K, the number of codebook vectors.
    commitment : float
        β_c, the weight of the commitment loss.
    codebook_update : {"loss", "ema"}
        Learn the codebook by the codebook loss, or by the moving average of online k-means.
    ema_decay : float
        γ of the moving average, in [0, 1).
    ema_epsilon : float
        ε of the Laplace smoothing of the moving counts, above 0.
    init : {"random", "encoder", "kmeans++"}
        The codebook at the start: uniform on [-1/K, 1/K]; or, at the first training step,
        random encoder outputs of that batch, or a k-means++ seeding on them.
    restart_every : int
        Every this many training steps, codes unused since the last check move to random
        encoder outputs of the current batch (0: never).
    seed : int
        Seeds the draws of the initialisation and the restarts (with the step number).
    """

    n_positions: int = 4
    code_dim: int = 2
    codebook_size: int = 8
    commitment: float = 0.25
    codebook_update: str = "loss"
    ema_decay: float = 0.99
    ema_epsilon: float = 1e-5
    init: str = "random"
    restart_every: int = 0
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        for name in ("n_positions", "code_dim", "codebook_size"):
            check_positive_int(getattr(self, name), name)
        for name in ("commitment", "ema_decay", "ema_epsilon"):
            check_number(getattr(self, name), name)
        if not (np.isfinite(self.commitment) and self.commitment >= 0):
            raise ValueError(
                f"commitment must be a finite number of at least 0; got {self.commitment}"
            )
        for name, value, options in (
            ("codebook_update", self.codebook_update, UPDATES),
            ("init", self.init, INITS),
        ):
            if value not in options:
                raise ValueError(f"{name} must be one of {options}; got {value!r}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1); got {self.ema_decay}")
        if not (np.isfinite(self.ema_epsilon) and self.ema_epsilon > 0):
            raise ValueError(f"ema_epsilon must be a finite number above 0; got {self.ema_epsilon}")
        for name in ("restart_every", "seed"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a whole number of at least 0; got {value!r}")


# ----------------------------------------------------------------------------- the model
@register("vqvae")
class VQVAE(LatentModel):
    """A VQ-VAE with MLP encoder and decoder, a shared codebook, and a Bernoulli decoder.

    Parameters
    ----------
    config : VQVAEConfig
    rng : numpy.random.Generator
        Draws the initial weights and the initial (random) codebook.
    """

    config_class = VQVAEConfig
    term_labels = {
        "elbo": "ELBO (uniform prior)",
        "recon": "log p(x|z_q)",
        "codebook": "codebook",
        "commitment": "commitment",
        "perplexity": "code perplexity",
        **LIKELIHOOD_TERM_LABELS,
    }

    @classmethod
    def network_sizes(cls, config: VQVAEConfig) -> dict[str, tuple[int, ...]]:
        sizes = (config.input_dim, *config.hidden_dims, config.n_positions * config.code_dim)
        return {"encoder": sizes, "decoder": tuple(reversed(sizes))}

    def build(self, rng: np.random.Generator) -> dict:
        c = self.config
        ema = c.codebook_update == "ema"
        networks = super().build(rng)  # the encoder and decoder first, then the codebook
        return {**networks, "codebook": Codebook(c.codebook_size, c.code_dim, ema, rng, self.dtype)}

    @classmethod
    def param_shapes(cls, config: VQVAEConfig) -> dict[str, tuple[int, ...]]:
        c = config
        shapes = Codebook.shapes(c.codebook_size, c.code_dim, c.codebook_update == "ema")
        codebook = {f"codebook.{n}": v for n, v in shapes.items()}
        return {**super().param_shapes(config), **codebook}

    @property
    def encoder(self) -> MLP:
        return self.networks["encoder"]

    @property
    def embeddings(self) -> np.ndarray:
        """The codebook, shape (K, d)."""
        return self.networks["codebook"].arrays["embeddings"]

    def buffer(self, name: str) -> np.ndarray:
        """A codebook buffer: ``usage``, ``steps``, and with EMA ``ema_count``, ``ema_sum``."""
        return self.networks["codebook"].arrays[name]

    # ------------------------------------------------------------------ checks
    def check_codes(self, codes, name: str = "codes") -> np.ndarray:
        """``codes`` as an (N, L) integer array with entries in 0..K-1."""
        c = self.config
        a = check_codes(codes, c.codebook_size, name, ndim=2)
        if a.shape[1] != c.n_positions:
            raise ValueError(f"{name} must have shape (N, {c.n_positions}); got {a.shape}")
        return a

    def noise_shape(self, n: int) -> None:
        """None: quantization is deterministic, a step draws no noise."""
        return None

    def check_noise(self, noise, n: int) -> None:
        if noise is not None:
            raise ValueError(
                f"noise must be None: a VQVAE draws no noise, so it has no noise shape; got "
                f"{type(noise).__name__} of shape {np.shape(noise)}"
            )
        return None

    # ------------------------------------------------------------------ encode, decode
    def encode(self, x) -> np.ndarray:
        """The encoder outputs z_e, shape (N, L, d)."""
        c = self.config
        return self.encoder.forward(self.check_data(x)).reshape(-1, c.n_positions, c.code_dim)

    def quantize(self, x) -> np.ndarray:
        """The codes of each image, shape (N, L): the nearest codebook vector to each z_e."""
        ze = self.encode(x)
        n, length, d = ze.shape
        return nearest_codes(ze.reshape(n * length, d), self.embeddings).reshape(n, length)

    def decode(self, codes, given=None) -> np.ndarray:
        """The decoder's output (N, D) for p(x | z_q) (Bernoulli logits by default), for codes
        (N, L) of the codebook."""
        codes = self.check_codes(codes)
        self.check_given(given, len(codes))
        return self.decoder.forward(self.embeddings[codes].reshape(len(codes), -1))

    def reconstruct(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """σ(decoder(z_q(x))), shape (N, D)."""
        return self.likelihood.mean(self.decode(self.quantize(x)))

    def log_likelihood_given_codes(self, x, codes) -> np.ndarray:
        """log p(x | z_q) of each image under the decoder, given its codes: shape (N,)."""
        x = self.check_data(x)
        codes = self.check_codes(codes)
        if len(codes) != len(x):
            raise ValueError(f"codes must have one row per image ({len(x)}); got {len(codes)}")
        return self.likelihood.log_prob(x, self.decode(codes)).astype(np.float64)

    def sample(self, n: int, rng: np.random.Generator, given=None, log_prior=None):
        """Draw codes from a prior and decode them: (codes (n, L), mean images (n, D)).

        ``log_prior`` (L, K): log-probabilities of an independent categorical per position
        (:func:`fit_categorical_prior`); by default uniform, the prior of the paper's ELBO.
        """
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        rng = check_rng(rng)
        self.check_given(given, n)
        c = self.config
        if log_prior is None:
            codes = rng.integers(c.codebook_size, size=(n, c.n_positions))
        else:
            log_prior = check_array(
                log_prior, "log_prior", shape=(c.n_positions, c.codebook_size), dtype=np.float64
            )
            if not np.all(np.isfinite(log_prior)):
                raise ValueError(
                    "log_prior must be finite: log-probabilities, one row per position"
                )
            # normalised in log space: a row of large log-probabilities (±1000) is still a
            # distribution, where exp alone would overflow to inf and give NaN
            p = np.exp(log_prior - log_prior.max(axis=1, keepdims=True))
            codes = np.stack(
                [rng.choice(c.codebook_size, size=n, p=row / row.sum()) for row in p], 1
            )
        return codes, self.likelihood.mean(self.decode(codes))

    # ------------------------------------------------------------------ the bound
    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1) -> ELBOTerms:
        r"""The ELBO with a uniform prior over the K^L code strings and q a point mass:
        log p(x | z_q) - L log K (the KL of a point mass from the uniform prior is L log K).

        Deterministic: ``rng`` and ``n_samples`` are checked but draw nothing.
        """
        x = self.check_data(x)
        check_rng(rng)
        check_positive_int(n_samples, "n_samples")
        recon = self.log_likelihood_given_codes(x, self.quantize(x))
        kl = np.full(len(x), self.config.n_positions * np.log(self.config.codebook_size))
        return ELBOTerms(elbo=recon - kl, recon=recon, kl=kl)

    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        """log p(x, z_q) - log q(z_q | x) = the ELBO above, the same for all ``k`` draws: (k, N)."""
        x = self.check_data(x)
        k = check_positive_int(k, "k")
        check_size(k * len(x), f"k={k} weights of {len(x)} examples")
        return np.tile(self.elbo(x, check_rng(rng)).elbo, (k, 1))

    # ------------------------------------------------------------------ a training step
    def loss_terms(self, x: np.ndarray, frozen=None) -> tuple[LossTerms, np.ndarray, np.ndarray]:
        r"""The loss of a checked batch and its straight-through gradient in ``grads``.

        Touches no buffer. With ``frozen = (codes, z_e, e)`` the choice of codes and every
        ``sg[·]`` are held at those values: z_q = z_e + (e - z_e^frozen), and the gradient is
        the exact derivative of that surrogate. Without it they are today's values, and the
        gradient is the straight-through one:

        .. math:: \frac{\partial}{\partial z_e} = \frac{\partial(-\log p(x|z_q))}{\partial z_q}
                  + 2\beta_c (z_e - e), \qquad
                  \frac{\partial}{\partial e_j} = 2 \sum_{i: k_i = j} (e_j - z_{e,i})

        (the second only with the codebook loss), each divided by the batch size N.

        Returns
        -------
        LossTerms, codes (N·L,), z_e (N·L, d)
        """
        c = self.config
        n, length, d, beta = len(x), c.n_positions, c.code_dim, c.commitment
        embeddings = self.embeddings
        ze = self.encoder.forward(x).reshape(n * length, d)  # (N·L, d)
        if frozen is None:
            codes = nearest_codes(ze, embeddings)
            e = embeddings[codes]
            zq, ze_sg, e_sg = e, ze, e
        else:
            codes, ze_sg, e_sg = frozen
            e = embeddings[codes]
            zq = ze + (e_sg - ze_sg)
        logits = self.decoder.forward(zq.reshape(n, length * d))
        recon_sum, d_out = self.likelihood.step(x, logits, 1.0 / n)
        recon = recon_sum / n
        codebook = float(np.sum((ze_sg - e) ** 2)) / n
        commitment = float(np.sum((ze - e_sg) ** 2)) / n

        dze = self.decoder.backward(d_out).reshape(n * length, d)  # straight through
        dze += (2.0 * beta / n) * (ze - e_sg)
        self.encoder.backward(dze.reshape(n, length * d), need_input_grad=False)

        grads = self.networks["codebook"].grads
        for g in grads:
            g.fill(0.0)
        loss = -recon + beta * commitment
        if c.codebook_update == "loss":
            onehot = np.zeros((n * length, c.codebook_size), dtype=self.dtype)
            onehot[np.arange(n * length), codes] = 1.0
            counts = onehot.sum(axis=0)
            grads[0][...] = (2.0 / n) * (counts[:, None] * embeddings - onehot.T @ ze_sg)
            loss += codebook
        usage = np.bincount(codes, minlength=c.codebook_size)
        terms = {
            "elbo": recon - length * float(np.log(c.codebook_size)),
            "recon": recon,
            "codebook": codebook,
            "commitment": commitment,
            "perplexity": code_perplexity(usage),
            **self.likelihood.terms(),
        }
        return LossTerms(loss=loss, terms=terms), codes, ze

    def forward_backward(self, x: np.ndarray, noise) -> LossTerms:
        """:meth:`loss_terms` of a training step, then the codebook's own updates.

        At the first step an ``init`` other than "random" sets the codebook from this
        batch's encoder outputs. After the step, the usage counts grow, the EMA (if chosen)
        moves the codebook, and every ``restart_every`` steps unused codes are restarted.
        """
        c = self.config
        steps = self.buffer("steps")
        if steps[0] == 0 and c.init != "random":
            ze = self.encoder.forward(x).reshape(-1, c.code_dim)
            self.reset_codes(np.arange(c.codebook_size), ze, c.init)
        result, codes, ze = self.loss_terms(x)
        steps += 1
        self.buffer("usage")[...] += np.bincount(codes, minlength=c.codebook_size)
        if c.codebook_update == "ema":
            self.embeddings[...] = ema_codebook_update(
                self.buffer("ema_count"), self.buffer("ema_sum"), codes, ze,
                c.ema_decay, c.ema_epsilon,
            )  # fmt: skip
        if c.restart_every and int(steps[0]) % c.restart_every == 0:
            usage = self.buffer("usage")
            self.reset_codes(np.flatnonzero(usage == 0), ze, "encoder")
            usage.fill(0.0)
        return result

    def reset_codes(self, which: np.ndarray, ze: np.ndarray, how: str) -> None:
        """Move codes ``which`` to encoder outputs ``ze`` (M, d): random rows, or k-means++.

        The draws come from a generator seeded by (config.seed, step), so training stays a
        function of its settings; with EMA the moving statistics restart at count 1.
        """
        if len(which) == 0:
            return
        rng = np.random.default_rng([self.config.seed, int(self.buffer("steps")[0])])
        if how == "kmeans++":
            new = kmeans_plus_plus(ze, len(which), rng)
        else:
            new = ze[rng.choice(len(ze), size=len(which), replace=len(which) > len(ze))]
        self.embeddings[which] = new
        if self.config.codebook_update == "ema":
            self.buffer("ema_count")[which] = 1.0
            self.buffer("ema_sum")[which] = new

    def gradient_surrogate(self, batch) -> StraightThroughSurrogate:
        """The loss with codes and stop-gradients frozen at their values on ``batch`` now."""
        return StraightThroughSurrogate(self, self.check_batch(batch))


class StraightThroughSurrogate:
    """What a gradient check differentiates for a :class:`VQVAE`.

    Holds the codes, z_e and e of one batch fixed; its ``loss_and_grads`` is the model's
    loss with those frozen (:meth:`VQVAE.loss_terms`), a smooth function of the parameters
    whose exact gradient, at the frozen point, is the straight-through gradient the model
    trains on. It offers what :func:`vae_lib.testing.check_model_gradients` uses.
    """

    def __init__(self, model: VQVAE, x: np.ndarray):
        self.model, self.x = model, x.copy()
        d = model.config.code_dim
        ze = model.encoder.forward(x).reshape(-1, d).copy()
        codes = nearest_codes(ze, model.embeddings)
        self.frozen = (codes, ze, model.embeddings[codes].copy())
        self.params, self.grads = model.params, model.grads

    def check_batch(self, batch, name: str = "batch") -> np.ndarray:
        return self.model.check_batch(batch, name)

    def draw_noise(self, batch, rng) -> None:
        return None

    def loss_and_grads(self, batch, noise=None) -> LossTerms:
        batch = self.model.check_batch(batch)
        self.model.check_noise(noise, len(batch))
        if batch.shape != self.x.shape or not np.array_equal(batch, self.x):
            raise ValueError(
                f"batch must be the batch the gradient surrogate froze its codes for "
                f"(shape {self.x.shape}); got another of shape {batch.shape}"
            )
        return self.model.loss_terms(batch, self.frozen)[0]
