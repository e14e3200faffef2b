r"""The Variational Lossy Autoencoder (Chen et al. 2017): the VAE with an autoregressive decoder
whose receptive field is a local window.

Only the decoder is new. Its logit for pixel i (raster order) is a function of the code and
of the pixels before it that lie in a causal window W(i) (:func:`~vae_lib.core.autoregressive.
causal_window_mask`):

.. math:: p_\theta(x \mid z) = \prod_{i=1}^{D} \mathrm{Bernoulli}\big(x_i;\ \sigma(\ell_i)\big),
          \qquad \ell_i = g_\theta(z)_i + a_\theta(x)_i,

with g an MLP of the code and a an :class:`~vae_lib.core.autoregressive.AutoregressiveNetwork`
of the pixels: one hidden layer of masked ReLU units, ``units_per_pixel`` for each pixel, plus
a masked linear layer, with output i reading only the pixels of the window W(i). The code
enters only through g, added to the logits. A window of w = 0 is empty and gives the VAE's
factorized decoder; ``"full"`` lets pixel i see every earlier pixel. Every window is the same
code.

Training uses *teacher forcing*: in log p(x | z) every ℓ_i is computed from the observed
pixels x_{<i}, so the whole likelihood is one parallel pass, and log p(x | z) is the VAE's
Bernoulli log-likelihood Σ_i x_i ℓ_i - softplus(ℓ_i) with logits that also depend on x. The
VAE's ELBO, its backward pass, its importance weights, KL warm-up and free bits therefore
apply unchanged once the decoder sees x: :meth:`AutoregressiveDecoder.teacher_forcing` gives
it x for the length of one VAE computation. Sampling is ancestral: pixel by pixel, or by
wavefront, every pixel whose window is drawn at once (:func:`~vae_lib.core.autoregressive.
wavefront_steps`).

The decoder is a mixin, :class:`AutoregressiveDecoding`, over any Gaussian-latent model: with
the VAE it is the :class:`VLAE`; with the autoregressive-flow prior it is the paper's model,
:class:`AFPriorVLAE`.

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

from ..core.autoregressive import (
    FULL,
    AutoregressiveNetwork,
    causal_window_mask,
    wavefront_steps,
)
from ..core.distributions import softplus_kernel
from ..core.nn import MLP, Module
from ..core.validation import (
    check_positive_int,
    check_rng,
    check_size,
    describe_value,
)
from .base import register
from .flows import AFPriorConfig, AFPriorVAE
from .latent_model import QUIET
from .vae import VAE, VAEConfig

#: The orders :meth:`AutoregressiveDecoding.sample_images` draws pixels in.
SAMPLING_ORDERS = ("wavefront", "raster")


@dataclass(frozen=True)
class AutoregressiveDecoderConfig:
    """The decoder's settings, shared by the configs of :class:`VLAE` and :class:`AFPriorVLAE`
    (a mixin before the config of the model it extends).

    Attributes
    ----------
    window : int ≥ 0 or "full"
        w of :func:`~vae_lib.core.autoregressive.causal_window_mask`: pixel i sees the
        earlier pixels in the w rows above it and w columns either side; 0 sees nothing (the
        VAE's decoder), ``"full"`` every earlier pixel.
    units_per_pixel : int ≥ 0
        Hidden ReLU units each pixel owns in the autoregressive network (0: the network is a
        masked linear layer alone).
    image_shape : (height, width), optional
        With height · width = input_dim. By default a square image when input_dim is a
        perfect square, else a single row of input_dim pixels.
    """

    window: int | str = 1
    units_per_pixel: int = 0
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
        k = self.units_per_pixel
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"units_per_pixel must be an integer ≥ 0; got {describe_value(k)}")
        object.__setattr__(self, "units_per_pixel", int(k))
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
        # everything the decoder's masks imply, counted before any is made: the window's
        # (D, D) mask and the network's masks, weights and buffers
        d = self.input_dim
        check_size(
            d * d + AutoregressiveNetwork.n_allocated(d, self.units_per_pixel),
            f"an autoregressive decoder of {self.units_per_pixel} units per pixel over {d} pixels",
        )

    @property
    def height_width(self) -> tuple[int, int]:
        """The image's (height, width): ``image_shape``, or the default it stands for."""
        if self.image_shape is not None:
            return self.image_shape
        side = isqrt(self.input_dim)
        return (side, side) if side * side == self.input_dim else (1, self.input_dim)


@dataclass(frozen=True)
class VLAEConfig(AutoregressiveDecoderConfig, VAEConfig):
    """A :class:`VAEConfig` and the autoregressive decoder's settings
    (:class:`AutoregressiveDecoderConfig`)."""


@dataclass(frozen=True)
class AFPriorVLAEConfig(AutoregressiveDecoderConfig, AFPriorConfig):
    """An :class:`~vae_lib.models.flows.AFPriorConfig` and the autoregressive decoder's
    settings (:class:`AutoregressiveDecoderConfig`)."""


class AutoregressiveDecoder(Module):
    r"""Logits ℓ = g(z) + a(x): an MLP of the code plus an autoregressive network of the image.

    It keeps the layer contract of :mod:`vae_lib.core.nn`. ``forward(z)`` needs the images
    whose pixels the network reads, given by :meth:`teacher_forcing`; inside that block a(x)
    is computed once and added to every forward pass (a model evaluating several codes per
    image pays for it once; m·N codes for N images are read as m blocks of N), and
    ``backward`` fills the gradients of both parts and returns that of z.

    Parameters
    ----------
    mlp : MLP
        g, from the code to the D logits.
    network : AutoregressiveNetwork
        a, over the D pixels.
    """

    def __init__(self, mlp: MLP, network: AutoregressiveNetwork):
        if len(network.field) != mlp.sizes[-1]:
            raise ValueError(
                f"the network reads {len(network.field)} pixels but g has {mlp.sizes[-1]} outputs"
            )
        self.mlp, self.network = mlp, network
        self._context: np.ndarray | None = None

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.mlp.sizes

    @property
    def mask(self) -> np.ndarray:
        """The window: ``mask[j, i]`` whether pixel i sees pixel j."""
        return self.network.field

    @contextmanager
    def teacher_forcing(self, x: np.ndarray) -> Iterator[None]:
        """Within this block the decoder reads the checked images ``x`` (N, D) as the
        earlier pixels of each output; outside it, it refuses to run."""
        self._context = self.network.forward(x)
        try:
            yield
        finally:
            self._context = None

    def _blocks(self, n_codes: int) -> int:
        if self._context is None:
            raise RuntimeError(
                "an autoregressive decoder needs the observed image: call it inside "
                "teacher_forcing(x), or sample with sample_images"
            )
        n = len(self._context)
        if n_codes % n:
            raise ValueError(f"z has {n_codes} rows, not a multiple of the {n} images given")
        return n_codes // n

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z : (m·N, K) -> logits (m·N, D), with the N images of :meth:`teacher_forcing`."""
        m = self._blocks(len(z))
        logits = self.mlp.forward(z)
        logits.reshape(m, *self._context.shape)[...] += self._context
        return logits

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (m·N, D) -> dz : (m·N, K); fills the network's gradients and the MLP's."""
        m = self._blocks(len(dy))
        d_context = dy.reshape(m, *self._context.shape).sum(axis=0) if m > 1 else dy
        self.network.backward(d_context, need_input_grad=False)
        return self.mlp.backward(dy, need_input_grad=need_input_grad)

    @property
    def params(self) -> list[np.ndarray]:
        return self.mlp.params + self.network.params

    @property
    def grads(self) -> list[np.ndarray]:
        return self.mlp.grads + self.network.grads

    def param_regions(self) -> list[list[tuple[slice, ...]] | None]:
        return self.mlp.param_regions() + self.network.param_regions()

    def param_names(self) -> list[str]:
        return self.mlp.param_names() + [f"ar.{n}" for n in self.network.param_names()]


class AutoregressiveDecoding:
    """What an autoregressive decoder changes in a Gaussian-latent model: a mixin, listed
    before the model it extends (``class VLAE(AutoregressiveDecoding, VAE)``).

    The model's own training step, ELBO and importance weights run unchanged with the
    observed images given to the decoder (teacher forcing); :meth:`sample` and
    :meth:`reconstruct` draw the images, pixel by pixel or by wavefront.
    """

    def make_network(self, part: str, sizes: tuple[int, ...], rng: np.random.Generator) -> Module:
        mlp = super().make_network(part, sizes, rng)
        if part != "decoder":
            return mlp
        field = causal_window_mask(*self.config.height_width, self.config.window)
        network = AutoregressiveNetwork(field, self.config.units_per_pixel, rng, self.dtype)
        return AutoregressiveDecoder(mlp, network)

    @classmethod
    def param_shapes(cls, config) -> dict[str, tuple[int, ...]]:
        shapes = super().param_shapes(config)
        network = AutoregressiveNetwork.param_shapes(config.input_dim, config.units_per_pixel)
        last_of_g = [n for n in shapes if n.startswith("decoder.")][-1]
        out = {}
        for name, shape in shapes.items():  # the network's parameters follow g's
            out[name] = shape
            if name == last_of_g:
                out.update({f"decoder.ar.{n}": s for n, s in network.items()})
        return out

    @property
    def window_mask(self) -> np.ndarray:
        """The decoder's window (D, D): ``mask[j, i]`` whether pixel i sees pixel j."""
        return self.decoder.mask

    @property
    def n_autoregressive_weights(self) -> int:
        """How many connections of the network are not masked, all layers together."""
        return sum(int(layer.mask.sum()) for layer in self.decoder.network.layers)

    @property
    def wavefront(self) -> np.ndarray:
        """The step of each pixel when every pixel whose window is drawn is drawn at once
        (:func:`~vae_lib.core.autoregressive.wavefront_steps`), computed once."""
        if getattr(self, "_wavefront", None) is None:
            self._wavefront = wavefront_steps(self.window_mask)
        return self._wavefront

    # ------------------------------------------------------------------ teacher forcing
    def forward_backward(self, x: np.ndarray, eps: np.ndarray):
        """The model's step with the decoder reading x."""
        with self.decoder.teacher_forcing(x):
            return super().forward_backward(x, eps)

    def elbo(self, x, rng: np.random.Generator, n_samples: int = 1):
        """The ELBO of each example (the model's own), log p(x | z) by teacher forcing."""
        x = self.check_data(x)
        with np.errstate(**QUIET), self.decoder.teacher_forcing(x):
            return super().elbo(x, rng, n_samples)

    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        """log p(x, z) - log q(z | x) for k draws per example, (k, N), float64 (the model's
        own, log p(x | z) by teacher forcing)."""
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

    def log_likelihood_pairs(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """log p(x | z) for every checked example (N, D) and code (G, K): (N, G), float64."""
        base = self.decoder.mlp.forward(z.astype(self.dtype)).astype(np.float64)  # (G, D)
        context = self.decoder.network.forward(x).astype(np.float64)  # (N, D)
        out = np.empty((len(x), len(z)))
        for n in range(len(x)):  # the logits differ for every pair, so one image at a time
            logits = base + context[n]
            out[n] = logits @ x[n] - softplus_kernel(logits).sum(axis=1)
        return out

    # ------------------------------------------------------------------ sampling
    def sample_images(
        self,
        z,
        rng: np.random.Generator,
        return_probs: bool = False,
        order: str = "wavefront",
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        r"""Ancestral samples x ~ p(x | z): pixel i drawn from σ(ℓ_i(z, x_{<i})).

        The uniforms are drawn up front, u ~ U(0, 1)^{N×D}, and x_i = [u_i < σ(ℓ_i)], so the
        two orders give the same images for the same generator. ``order="wavefront"`` draws
        together every pixel whose window is drawn (:attr:`wavefront`, far fewer steps than D
        for a small window); ``"raster"`` draws one pixel per step, D steps. Each step is
        vectorised over the N codes.

        Parameters
        ----------
        z : ndarray, shape (N, K)
        rng : numpy.random.Generator
        return_probs : bool
            Also return σ(ℓ_i), each pixel's probability given the pixels drawn before it.
        order : "wavefront" or "raster"

        Returns
        -------
        x : ndarray, shape (N, D), values 0 or 1, the model's dtype
        probs : ndarray, shape (N, D), if ``return_probs``
        """
        z = self.check_codes(z)
        rng = check_rng(rng)
        if order not in SAMPLING_ORDERS:
            raise ValueError(f"order must be one of {SAMPLING_ORDERS}; got {order!r}")
        n, d = len(z), self.config.input_dim
        check_size(n * d, f"{n} images")
        u = rng.random((n, d))
        steps = self.wavefront if order == "wavefront" else np.arange(d)
        with np.errstate(**QUIET):
            base = self.decoder.mlp.forward(z)  # the part of every logit that reads no pixel
            x, probs = self.decoder.network.sample(base, u, steps)
        self.check_finite("the sampled pixels' probabilities", probs)
        return (x, probs) if return_probs else x

    def sample(self, n: int, rng: np.random.Generator, given=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw z from the prior, then x ~ p(x | z) by wavefront: (z, x) of shapes (n, K), (n, D).

        Unlike :meth:`VAE.sample`, the images are samples (0 or 1), not mean images: an
        autoregressive decoder has no mean image in closed form. ``given`` must be None: the
        pixels are what is drawn.
        """
        n = check_positive_int(n, "n")
        check_size(n * self.config.input_dim, f"n={n} samples")
        rng = check_rng(rng)
        if given is not None:
            raise ValueError("sample() draws the pixels itself: given must be None")
        z = self.sample_prior(n, rng)
        return z, self.sample_images(z, rng)

    def sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n codes z ~ p(z) = N(0, I), (n, K)."""
        return rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)

    def reconstruct(self, x, rng: np.random.Generator | None = None) -> np.ndarray:
        """A lossy reconstruction: x' ~ p(x | z = μ(x)), drawn by wavefront, shape (N, D).

        ``rng`` is required: an autoregressive decoder has no closed-form mean image to show.
        """
        if rng is None:
            raise TypeError(
                f"the {type(self).__name__}'s reconstruction is a draw, pixel by pixel: pass rng"
            )
        rng = check_rng(rng)
        mu, _ = self.encode(x)
        return self.sample_images(np.ascontiguousarray(mu), rng)


@register("vlae")
class VLAE(AutoregressiveDecoding, VAE):
    """A VAE whose decoder is autoregressive over a causal window of ``config.window``
    (:class:`AutoregressiveDecoding`); the prior is N(0, I).

    Parameters
    ----------
    config : VLAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = VLAEConfig


@register("af_prior_vlae")
class AFPriorVLAE(AutoregressiveDecoding, AFPriorVAE):
    """The Variational Lossy Autoencoder as the paper trains it: an autoregressive decoder
    over a window (:class:`AutoregressiveDecoding`) and an autoregressive-flow prior
    (:class:`~vae_lib.models.flows.AFPriorVAE`).

    Parameters
    ----------
    config : AFPriorVLAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = AFPriorVLAEConfig

    def sample_prior(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n codes z ~ p(z): u ~ N(0, I) and z = f⁻¹(u), (n, K)."""
        u = rng.standard_normal((n, self.config.latent_dim), dtype=self.dtype)
        return self.flow.inverse(u)
