r"""The Variational Lossy Autoencoder (Chen et al. 2017): the VAE with an autoregressive decoder
whose receptive field is a local window.

Only the decoder is new. Its logit for pixel i (raster order) is a function of the code and
of the pixels before it that lie in a causal window W(i) (:func:`~vae_lib.core.autoregressive.
causal_window_mask`):

.. math:: p_\theta(x \mid z) = \prod_{i=1}^{D} \mathrm{Bernoulli}\big(x_i;\ \sigma(\ell_i)\big),
          \qquad \ell_i = g_\theta(z)_i + \sum_{j \in W(i)} A_{ji}\, x_j + b_i,

with g an MLP and A a weight matrix masked to the window, one :class:`~vae_lib.core.
autoregressive.MaskedLinear` layer. A window of w = 0 is empty and gives the VAE's factorized
decoder; ``"full"`` lets pixel i see every earlier pixel. Every window is the same code.

Training uses *teacher forcing*: in log p(x | z) every ℓ_i is computed from the observed
pixels x_{<i}, so the whole likelihood is one parallel pass, and log p(x | z) is the VAE's
Bernoulli log-likelihood Σ_i x_i ℓ_i - softplus(ℓ_i) with logits that also depend on x. The
VAE's ELBO, its backward pass, its importance weights, KL warm-up and free bits therefore
apply unchanged once the decoder sees x: :meth:`AutoregressiveDecoder.teacher_forcing` gives
it x for the length of one VAE computation. Sampling is ancestral, pixel by pixel.

The point of the window (Chen et al. 2017, sec. 3): a decoder that can model local texture
itself but cannot see far has to take the global shape of a digit from z, so the code keeps
global information and drops the local detail: a lossy code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from math import isqrt

import numpy as np

from ..core.autoregressive import FULL, MaskedLinear, causal_window_mask
from ..core.distributions import (
    sigmoid,
    sigmoid_and_softplus_kernel,
    standard_normal_log_density_kernel,
)
from ..core.nn import MLP, Module
from ..core.validation import check_array, check_positive_int, check_rng, check_size
from .base import register
from .latent_model import QUIET
from .vae import VAE, VAEConfig


@dataclass(frozen=True)
class VLAEConfig(VAEConfig):
    """A :class:`VAEConfig`, the image's shape and the decoder's causal window.

    Attributes
    ----------
    window : int ≥ 0 or "full"
        w of :func:`~vae_lib.core.autoregressive.causal_window_mask`: pixel i sees the
        earlier pixels in the w rows above it and w columns either side; 0 sees nothing (the
        VAE's decoder), ``"full"`` every earlier pixel.
    image_shape : (height, width), optional
        With height · width = input_dim. By default a square image when input_dim is a
        perfect square, else a single row of input_dim pixels.
    """

    window: int | str = 1
    image_shape: tuple[int, int] | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.likelihood != "bernoulli":
            raise ValueError(
                "the autoregressive decoder models binary pixels (it samples each pixel from "
                f"a Bernoulli given those before it): likelihood must be 'bernoulli'; got "
                f"{self.likelihood!r}"
            )
        w = self.window
        if not (w == FULL or (isinstance(w, (int, np.integer)) and not isinstance(w, bool))):
            raise ValueError(f"window must be an integer ≥ 0 or {FULL!r}; got {w!r}")
        if w != FULL and w < 0:
            raise ValueError(f"window must be an integer ≥ 0 or {FULL!r}; got {w!r}")
        if w != FULL:
            object.__setattr__(self, "window", int(w))
        if self.image_shape is not None:
            if isinstance(self.image_shape, (str, bytes)) or not hasattr(
                self.image_shape, "__len__"
            ):
                raise TypeError(f"image_shape must be (height, width); got {self.image_shape!r}")
            shape = tuple(self.image_shape)
            if len(shape) != 2:
                raise ValueError(f"image_shape must be (height, width); got {self.image_shape!r}")
            for side in shape:
                check_positive_int(side, "image_shape entry")
            if shape[0] * shape[1] != self.input_dim:
                raise ValueError(
                    f"image_shape {shape} has {shape[0] * shape[1]} pixels; input_dim is "
                    f"{self.input_dim}"
                )
            object.__setattr__(self, "image_shape", (int(shape[0]), int(shape[1])))

    @property
    def height_width(self) -> tuple[int, int]:
        """The image's (height, width): ``image_shape``, or the default it stands for."""
        if self.image_shape is not None:
            return self.image_shape
        side = isqrt(self.input_dim)
        return (side, side) if side * side == self.input_dim else (1, self.input_dim)


class AutoregressiveDecoder(Module):
    r"""Logits ℓ = g(z) + x (A ⊙ M) + b: an MLP of the code plus a masked layer of the image.

    It keeps the layer contract of :mod:`vae_lib.core.nn`. ``forward(z)`` needs the image
    whose pixels the masked layer reads, given by :meth:`teacher_forcing`; inside that block
    the masked term x (A ⊙ M) + b is computed once and added to every forward pass (a model
    evaluating k codes per image pays for it once), and ``backward`` fills the gradients of
    both parts and returns that of z.

    Parameters
    ----------
    mlp : MLP
        g, from the code to the D logits.
    mask : ndarray of bool, shape (D, D)
        ``mask[j, i]``: whether pixel i sees pixel j (strictly upper triangular).
    rng : numpy.random.Generator
        Draws the masked layer's weights.
    """

    def __init__(self, mlp: MLP, mask: np.ndarray, rng: np.random.Generator):
        self.mlp = mlp
        d = mlp.sizes[-1]
        if mask.shape != (d, d) or np.any(np.tril(mask)):
            raise ValueError(f"mask must be strictly upper triangular of shape {(d, d)}")
        self.autoregressive = MaskedLinear(mask, rng, mlp.dtype)
        # g has a bias already; this one starts at 0, so that the decoder starts as g plus
        # the masked term alone (at w = 0, as the VAE's decoder)
        self.autoregressive.b[...] = 0
        #: for each pixel, the earlier pixels it sees (used by ancestral sampling)
        self.parents = [np.flatnonzero(column) for column in mask.T]
        self._context: np.ndarray | None = None

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.mlp.sizes

    @property
    def mask(self) -> np.ndarray:
        return self.autoregressive.mask

    @contextmanager
    def teacher_forcing(self, x: np.ndarray) -> Iterator[None]:
        """Within this block the decoder reads the checked images ``x`` (N, D) as the
        earlier pixels of each output; outside it, it refuses to run."""
        self._context = self.autoregressive.forward(x)
        try:
            yield
        finally:
            self._context = None

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z : (N, K) -> logits (N, D), with the pixels of :meth:`teacher_forcing`."""
        if self._context is None:
            raise RuntimeError(
                "an autoregressive decoder needs the observed image: call it inside "
                "teacher_forcing(x), or sample with VLAE.sample_images"
            )
        if len(self._context) != len(z):
            raise ValueError(f"z has {len(z)} rows but {len(self._context)} images were given")
        logits = self.mlp.forward(z)
        logits += self._context
        return logits

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (N, D) -> dz : (N, K); ∂/∂A = (xᵀ dy) ⊙ M, ∂/∂b = Σₙ dy, and the MLP's."""
        self.autoregressive.backward(dy, need_input_grad=False)
        return self.mlp.backward(dy, need_input_grad=need_input_grad)

    @property
    def params(self) -> list[np.ndarray]:
        return self.mlp.params + self.autoregressive.params

    @property
    def grads(self) -> list[np.ndarray]:
        return self.mlp.grads + self.autoregressive.grads

    def param_names(self) -> list[str]:
        return self.mlp.param_names() + ["ar.W", "ar.b"]

    @staticmethod
    def param_shapes(sizes) -> dict[str, tuple[int, ...]]:
        d = sizes[-1]
        return {**MLP.param_shapes(sizes), "ar.W": (d, d), "ar.b": (d,)}


@register("vlae")
class VLAE(VAE):
    """A VAE whose decoder is autoregressive over a causal window of ``config.window``.

    Training, the ELBO and the importance weights are the VAE's, computed with the observed
    image given to the decoder (teacher forcing). :meth:`sample` and :meth:`reconstruct`
    draw images pixel by pixel.

    Parameters
    ----------
    config : VLAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = VLAEConfig

    def build(self, rng: np.random.Generator) -> dict:
        # the VAE's networks, drawn first, so that a VLAE starts from the same encoder and
        # g as the VAE of the same seed; then the masked layer
        networks = super().build(rng)
        networks["decoder"] = AutoregressiveDecoder(
            networks["decoder"], self.window_mask(self.config), rng
        )
        return networks

    @staticmethod
    def window_mask(config: VLAEConfig) -> np.ndarray:
        """The decoder's mask (D, D): ``mask[j, i]`` whether pixel i sees pixel j."""
        return causal_window_mask(*config.height_width, config.window)

    @classmethod
    def param_shapes(cls, config: VLAEConfig) -> dict[str, tuple[int, ...]]:
        c = config
        shapes = {
            f"encoder.{n}": s
            for n, s in MLP.param_shapes((c.input_dim, *c.hidden_dims, 2 * c.latent_dim)).items()
        }
        sizes = (c.latent_dim, *reversed(c.hidden_dims), c.input_dim)
        shapes.update(
            {f"decoder.{n}": s for n, s in AutoregressiveDecoder.param_shapes(sizes).items()}
        )
        return {**shapes, **config.likelihood_param_shapes()}

    @property
    def n_autoregressive_weights(self) -> int:
        """How many weights of the masked layer are not masked: Σ_i |W(i)|."""
        return int(self.decoder.mask.sum())

    # ------------------------------------------------------------------ teacher forcing
    def forward_backward(self, x: np.ndarray, eps: np.ndarray):
        """The VAE's step (:meth:`VAE.forward_backward`) with the decoder reading x."""
        with self.decoder.teacher_forcing(x):
            return super().forward_backward(x, eps)

    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1):
        """The ELBO of each example (:meth:`VAE.elbo`), log p(x | z) by teacher forcing."""
        x = self.check_data(x)
        with np.errstate(**QUIET), self.decoder.teacher_forcing(x):
            return super().elbo(x, rng, n_samples)

    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        """log p(x | z) + log p(z) - log q(z | x) for k draws z ~ q(z | x): (k, N), float64
        (:meth:`VAE.log_weights`, log p(x | z) by teacher forcing)."""
        x = self.check_data(x)
        with np.errstate(**QUIET), self.decoder.teacher_forcing(x):
            return super().log_weights(x, k, rng)

    # ------------------------------------------------------------------ decoding
    # decode(z, given=x) and decode_mean(z, given=x): the logits ℓ_i of p(x_i | z, x_{<i})
    # and p(x_i = 1 | z, x_{<i}) of every pixel, given the pixels x that come before it
    def check_given(self, given, n: int) -> np.ndarray:
        """The pixels the autoregressive decoder reads, one image per code (required)."""
        if given is None:
            raise ValueError(
                "the autoregressive decoder reads the pixels before each one: pass given=x, "
                f"{n} images (sample() draws them instead)"
            )
        x = self.check_data(given, "given")
        if len(x) != n:
            raise ValueError(f"given has {len(x)} images for {n} codes; one per code is needed")
        return x

    def conditioned(self, x: np.ndarray):
        return self.decoder.teacher_forcing(x)

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
        base = self.decoder.mlp.forward(z.astype(self.dtype)).astype(np.float64)  # (G, D)
        context = self.decoder.autoregressive.forward(x).astype(np.float64)  # (N, D)
        out = np.empty((len(x), len(z)))
        for n in range(len(x)):  # the logits differ for every pair, so one image at a time
            logits = base + context[n]
            out[n] = logits @ x[n] - sigmoid_and_softplus_kernel(logits)[1].sum(axis=1)
        return out + standard_normal_log_density_kernel(z.astype(np.float64))

    # ------------------------------------------------------------------ sampling
    def sample_images(
        self, z, rng: np.random.Generator, return_probs: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        r"""Ancestral samples x ~ p(x | z): pixel i drawn from σ(ℓ_i(z, x_{<i})), i = 1 … D.

        D sequential steps, each vectorised over the N codes; the uniforms are drawn up front,
        u ~ U(0, 1)^{N×D}, and x_i = [u_i < σ(ℓ_i)].

        Parameters
        ----------
        z : ndarray, shape (N, K)
        rng : numpy.random.Generator
        return_probs : bool
            Also return σ(ℓ_i), each pixel's probability given the pixels drawn before it.

        Returns
        -------
        x : ndarray, shape (N, D), values 0 or 1, the model's dtype
        probs : ndarray, shape (N, D), if ``return_probs``
        """
        z = self.check_codes(z)
        rng = check_rng(rng)
        n, d = len(z), self.config.input_dim
        check_size(n * d, f"{n} images")
        u = rng.random((n, d))
        ar = self.decoder.autoregressive
        weights = ar.W * ar.mask
        with np.errstate(**QUIET):
            logits = self.decoder.mlp.forward(z)
            logits += ar.b  # (N, D): the part of every logit that needs no pixel
            x = np.zeros((n, d), dtype=self.dtype)
            probs = np.empty((n, d), dtype=self.dtype)
            for i, parents in enumerate(self.decoder.parents):
                logit = logits[:, i] + x[:, parents] @ weights[parents, i]
                probs[:, i] = sigmoid(logit)
                x[:, i] = u[:, i] < probs[:, i]
        self.check_finite("the sampled pixels' probabilities", probs)
        return (x, probs) if return_probs else x

    def sample(self, n: int, rng: np.random.Generator, given=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw z ~ N(0, I), then x ~ p(x | z) pixel by pixel: (z, x) of shapes (n, K), (n, D).

        Unlike :meth:`VAE.sample`, the images are samples (0 or 1), not mean images: an
        autoregressive decoder has no mean image in closed form. ``given`` must be None: the
        pixels are what is drawn.
        """
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        rng = check_rng(rng)
        if given is not None:
            raise ValueError("sample() draws the pixels itself: given must be None")
        z = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        return z, self.sample_images(z, rng)

    def reconstruct(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """A lossy reconstruction: x' ~ p(x | z = μ(x)), drawn pixel by pixel, shape (N, D).

        ``rng`` is required: an autoregressive decoder has no closed-form mean image to show.
        """
        if rng is None:
            raise TypeError("the VLAE's reconstruction is a draw, pixel by pixel: pass rng")
        rng = check_rng(rng)
        mu, _ = self.encode(x)
        return self.sample_images(np.ascontiguousarray(mu), rng)
