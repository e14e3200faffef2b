r"""Bits-back coding of binary images with a trained Gaussian-latent model (BB-ANS).

Townsend, Bird and Barber (2019) made the bits-back argument a working compressor by
coding with ANS, whose message is a stack. To append an image x to a message, the sender

1. *pops* a code z with the posterior q(z | x): it draws z from q using bits of the message
   as its randomness, which shortens the message by about −log2 q(z | x) bits;
2. *pushes* x with the decoder p(x | z), pixel by pixel: about −log2 p(x | z) bits;
3. *pushes* z with the prior p(z): about −log2 p(z) bits.

The receiver undoes the three steps in reverse: pops z with the prior, pops x with the
decoder, and then, knowing x, pushes z back with q(z | x), which restores the bits the
sender took. Each image adds, on average over the sender's draw of z,
E_q[−log2 p(x | z) − log2 p(z) + log2 q(z | x)] = −ELBO(x) / ln 2 bits: the negative ELBO is a
code length (chapter "Compressing digits with bits-back coding",
chapters/vlae/compression.md).

The code is discretised into the prior's buckets (:mod:`vae_lib.coding.latents`). The
decoder may be factorized (a VAE: every pixel's probability from g(z) at once) or
autoregressive (a VLAE: pixel i's probability from g(z) and the pixels before it); the
receiver then decodes the pixels in the decoder's wavefront order, and the sender codes the
image it knows with the *same* arithmetic, by the same routine reading the image instead of
the message, so that the two compute identical frequencies.
"""

from __future__ import annotations

import numpy as np

from ..core.distributions import kl_standard_normal_kernel, sigmoid
from ..core.numerics import LOG_2
from ..core.validation import check_array, check_positive_int, check_rng, describe_value
from ..models.cvae import CVAE
from ..models.flows import FlowVAE
from ..models.gaussian_latent import GaussianLatentModel
from ..models.vlae import AutoregressiveDecoding
from .ans import Message, check_precision
from .latents import PriorBuckets


def bernoulli_frequencies(logits, precision: int) -> np.ndarray:
    r"""The frequency of pixel value 1 out of 2^P for each logit: round(σ(ℓ) 2^P), kept in
    [1, 2^P − 1] so that both values can be coded. Value 0 occupies [0, 2^P − f), value 1
    [2^P − f, 2^P). Returns Python ints."""
    total = 1 << precision
    logits = np.asarray(logits, dtype=np.float64)
    if np.any(np.isnan(logits)):
        raise ValueError("the decoder's logits hold NaN: no frequencies can be made from them")
    p1 = sigmoid(logits)
    return np.clip(np.floor(p1 * total + 0.5), 1, total - 1).astype(np.int64).tolist()


class BitsBackCoder:
    """Codes binary images with a trained model by bits-back coding, onto a :class:`Message`.

    Parameters
    ----------
    model : a VAE-like model: Gaussian posterior, N(0, I) prior, Bernoulli decoder
        (``VAE``, ``IWAE``, ``VLAE``); the decoder is factorized or autoregressive.
    latent_bits : int
        B: the prior's buckets per coordinate are 2^B.
    posterior_precision : int
        The posterior's frequencies are out of 2^P.
    pixel_precision : int
        The pixels' frequencies are out of 2^P.
    """

    def __init__(
        self,
        model,
        latent_bits: int = 12,
        posterior_precision: int = 24,
        pixel_precision: int = 24,
    ):
        check_codable(model)
        self.model = model
        self.buckets = PriorBuckets(latent_bits, posterior_precision)
        self.pixel_precision = check_precision(pixel_precision)
        self.autoregressive = isinstance(model, AutoregressiveDecoding)
        # gathered once: the coder draws one image at a time, always in the same order
        self.plan = (
            model.decoder.network.draw_plan(model.wavefront) if self.autoregressive else None
        )

    @property
    def settings(self) -> dict[str, int]:
        """The precisions a receiver must use."""
        return {
            "latent_bits": self.buckets.bits,
            "posterior_precision": self.buckets.precision,
            "pixel_precision": self.pixel_precision,
        }

    @property
    def input_dim(self) -> int:
        return self.model.config.input_dim

    # ------------------------------------------------------------------ the three parts
    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """μ and σ of q(z | x) for one image (D,), float64, as the receiver computes them."""
        mu, logvar = self.model.encode(x[None].astype(self.model.dtype))
        sigma = np.exp(0.5 * logvar[0].astype(np.float64))
        if not np.all(sigma > 0):  # a posterior too narrow for float64 has no buckets
            raise ValueError(
                f"the posterior's σ underflows to 0 (log σ² down to {logvar.min():.4g}): this "
                "model cannot code this image"
            )
        return mu[0].astype(np.float64), sigma

    def code_of(self, buckets) -> np.ndarray:
        """The decoder's input for a code's buckets: each bucket's centre, (1, K)."""
        return self.buckets.centres[np.asarray(buckets)][None].astype(self.model.dtype)

    def pixels_in_order(self, z: np.ndarray, choose) -> None:
        """Run the decoder on the code ``z``, handing ``choose(pixels, logits)`` each group
        of pixels whose logits are known, in the order a receiver can decode them."""
        if self.autoregressive:
            base = self.model.decoder.mlp.forward(z)
            self.plan.draw(base, choose)
        else:
            choose(np.arange(self.input_dim), self.model.decoder.forward(z))

    def push_pixels(self, message: Message, x: np.ndarray, z: np.ndarray, trace=None) -> None:
        """Push the image x (D,) with p(x | z), last decoded pixel first."""
        precision, total = self.pixel_precision, 1 << self.pixel_precision
        intervals = []

        def known(pixels, logits):
            values = x[pixels]
            for value, f1 in zip(values.tolist(), bernoulli_frequencies(logits[0], precision)):
                intervals.append((total - f1, f1) if value else (0, total - f1))
            return values[None]

        self.pixels_in_order(z, known)
        for start, freq in reversed(intervals):
            message.push(start, freq, precision)
            if trace is not None:
                trace.append(message.bit_length())

    def pop_pixels(self, message: Message, z: np.ndarray) -> np.ndarray:
        """Pop an image with p(x | z), pixel by pixel in decoding order: (D,) uint8."""
        precision, total = self.pixel_precision, 1 << self.pixel_precision
        x = np.zeros(self.input_dim, dtype=np.uint8)

        def read(pixels, logits):
            for i, f1 in zip(pixels.tolist(), bernoulli_frequencies(logits[0], precision)):
                x[i] = message.peek(precision) >= total - f1
                start, freq = (total - f1, f1) if x[i] else (0, total - f1)
                message.pop_interval(start, freq, precision)
            return x[pixels][None]

        self.pixels_in_order(z, read)
        return x

    # ------------------------------------------------------------------ one image
    def push_image(self, message: Message, x, trace: list | None = None) -> list[int]:
        """Append the binary image ``x`` (D,) to ``message`` by bits-back coding: pop a code
        with q(z | x), push x with p(x | z), push the code with p(z).

        Returns the buckets of the code drawn for it. With ``trace`` (a list), the
        message's length in bits after every pop and push is appended to it: K pops of the
        code, D pushes of pixels, K pushes of the code.
        """
        x = self.check_images(np.asarray(x)[None], "x")[0]
        mu, sigma = self.posterior(x)
        buckets = self.buckets.pop_posterior(message, mu, sigma, trace)  # borrow bits
        self.push_pixels(message, x, self.code_of(buckets), trace)
        self.buckets.push_prior(message, buckets, trace)
        return buckets

    def pop_image(self, message: Message) -> np.ndarray:
        """Take the last image off ``message`` and give back the bits its code borrowed:
        (D,) uint8."""
        buckets = self.buckets.pop_prior(message, self.model.config.latent_dim)
        x = self.pop_pixels(message, self.code_of(buckets))
        mu, sigma = self.posterior(x)
        self.buckets.push_posterior(message, buckets, mu, sigma)  # the bits back
        return x

    # ------------------------------------------------------------------ a chain of images
    def encode(self, images, message: Message) -> list[int]:
        """Append the images (N, D), in order, to ``message``; returns its length in bits
        after each image."""
        lengths = []
        for x in self.check_images(images):
            self.push_image(message, x)
            lengths.append(message.bit_length())
        return lengths

    def decode(self, n: int, message: Message, max_bits: int | None = None) -> np.ndarray:
        """Take ``n`` images off ``message``, undoing :meth:`encode`: (n, D) uint8, in the
        order they were encoded (the receiver gets the last image first: a stack).

        With ``max_bits``, a message that grows past it between images is refused: an
        encoder's message never held more than its longest, so a longer one is not its.
        """
        n = check_positive_int(n, "n")
        # grown image by image: a message that holds fewer images runs out first, and says so
        images = []
        for _ in range(n):
            images.append(self.pop_image(message))
            if max_bits is not None and message.bit_length() > max_bits:
                raise ValueError(
                    f"the message grew to {message.bit_length()} bits, past the {max_bits} its "
                    "encoder reached: it was not encoded with this model"
                )
        return np.array(images[::-1], dtype=np.uint8)

    # ------------------------------------------------------------------ expected lengths
    def expected_lengths(self, images, rng: np.random.Generator, n_samples: int = 10) -> dict:
        r"""What each image should cost, in bits, before and after the code is discretised.

        With the same ``n_samples`` draws z ~ q(z | x) for both, and b the bucket of z (so b
        is a draw from the discretised posterior Q̃):

        - ``neg_elbo``: −ELBO / ln 2, the reconstruction term E_q[−log p(x | z)] by Monte
          Carlo and KL(q ‖ p) in closed form: the continuous model's code length;
        - ``neg_elbo_discrete``: E_Q̃[−log p(x | c_b) − log P̃(b) + log Q̃(b)] / ln 2, the
          code length of the discretised model the coder uses (c_b the bucket's centre,
          P̃(b) = 2^-B), which its average rate should match up to the rounding of the
          frequencies;

        and their parts ``recon``, ``kl``, ``recon_discrete``, ``kl_discrete``
        (neg_elbo = recon + kl). Each is an array (N,).
        """
        images = self.check_images(images)
        rng, n_samples = check_rng(rng), check_positive_int(n_samples, "n_samples")
        x = images.astype(self.model.dtype)
        mu, logvar = (a.astype(np.float64) for a in self.model.encode(x))
        sigma = np.exp(0.5 * logvar)
        given = x if self.autoregressive else None
        terms = {k: np.zeros(len(x)) for k in ("recon", "recon_discrete", "kl_discrete")}
        for _ in range(n_samples):
            z = mu + sigma * rng.standard_normal(mu.shape)
            b = self.buckets.bucket_of(z)
            for key, code in (("recon", z), ("recon_discrete", self.buckets.centres[b])):
                logits = self.model.decode(code.astype(self.model.dtype), given=given)
                terms[key] -= self.model.likelihood.log_prob(x, logits) / n_samples
            log_q = self.buckets.posterior_log_mass(b, mu, sigma).sum(axis=1)
            log_p = -self.buckets.bits * LOG_2 * mu.shape[1]
            terms["kl_discrete"] += (log_q - log_p) / n_samples
        terms["kl"] = kl_standard_normal_kernel(mu, logvar)
        out = {k: v / LOG_2 for k, v in terms.items()}
        out["neg_elbo"] = out["recon"] + out["kl"]
        out["neg_elbo_discrete"] = out["recon_discrete"] + out["kl_discrete"]
        return out

    def check_images(self, images, name: str = "images") -> np.ndarray:
        """``images`` as (N, D) uint8 if every value is 0 or 1, else a clear error."""
        a = check_array(images, name, ndim=2)
        if a.shape[1] != self.input_dim:
            raise ValueError(
                f"{name} must have {self.input_dim} pixels per image, as the model; got shape "
                f"{a.shape}"
            )
        if not np.all((a == 0) | (a == 1)):
            raise ValueError(f"{name} must be binary images (values 0 and 1 only)")
        return a.astype(np.uint8)


def check_codable(model) -> None:
    """Refuse a model this coder cannot drive, saying why."""
    if not isinstance(model, GaussianLatentModel) or isinstance(model, (FlowVAE, CVAE)):
        raise TypeError(
            "the bits-back coder needs a model with a Gaussian posterior and the N(0, I) "
            f"prior, and no label (VAE, IWAE, VLAE); got {describe_value(model)}"
        )
    if model.config.likelihood != "bernoulli":
        raise ValueError(
            f"the bits-back coder codes binary pixels with a Bernoulli decoder; this model's "
            f"likelihood is {model.config.likelihood!r}"
        )
