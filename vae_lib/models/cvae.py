"""The conditional VAE (Sohn et al. 2015): the VAE's networks, each also told a class label y.

Only the label is new. A batch is a pair ``(x, y)``, images and integer labels in
0 … C - 1; the label enters both networks as a one-hot vector e(y) appended to their input,

.. math:: q_\\phi(z \\mid x, y) = \\mathcal N\\big(\\mu_\\phi(x \\oplus e(y)),
          \\operatorname{diag} \\sigma^2_\\phi(x \\oplus e(y))\\big), \\qquad
          \\log p_\\theta(x \\mid z, y) = \\sum_d x_d \\ell_d - \\log(1 + e^{\\ell_d}), \\quad
          \\ell = \\ell_\\theta(z \\oplus e(y)),

with the prior p(z) = N(0, I) independent of y, as in Kingma et al.'s (2014) model M2 with
the label observed. The training objective is the VAE's ELBO with everything conditioned on
y, a lower bound on log p(x | y):

.. math:: \\mathcal L(x \\mid y) = \\mathbb E_{q(z|x,y)}[\\log p(x \\mid z, y)]
          - \\mathrm{KL}(q(z \\mid x, y) \\,\\|\\, p(z)) \\le \\log p(x \\mid y).

Every formula and backward pass of :class:`~vae_lib.models.vae.VAE` applies unchanged once
the networks see the label, so this module adds only that: :class:`LabelledMLP` appends the
one-hot labels of the batch at hand to its input (and drops their columns from the input's
gradient), and :meth:`CVAE.conditioned` sets those labels for the length of one VAE
computation. Decoding and sampling take the labels as ``given``, as every model takes what
its decoder reads besides the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..core.categorical import one_hot
from ..core.nn import MLP
from ..core.validation import check_array, check_positive_int, check_size
from .base import register
from .vae import VAE, VAEConfig


@dataclass(frozen=True)
class CVAEConfig(VAEConfig):
    """A :class:`VAEConfig` and ``n_classes``, C: labels are the integers 0 … C - 1 (C ≥ 2)."""

    n_classes: int = 10

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.n_classes, "n_classes")
        if self.n_classes < 2:
            raise ValueError(
                f"n_classes must be at least 2 (a label with one value says nothing); "
                f"got {self.n_classes}"
            )


class LabelledMLP(MLP):
    """An MLP on h ⊕ e(y): the one-hot labels :attr:`labels` are appended to every input.

    ``sizes`` are the MLP's, label columns included: the first layer takes ``sizes[0]``
    inputs, h's ``sizes[0] - n_classes`` and the label's ``n_classes`` last. The labels are set by
    :meth:`CVAE.conditioned` before a computation and cleared after; a forward pass without them,
    or with another number of rows than the input, raises. The backward pass returns the
    gradient of h only (the labels are data).
    """

    def __init__(self, sizes, n_classes: int, rng, activation: str = "relu", dtype=np.float32):
        super().__init__(sizes, rng, activation, dtype)
        if self.sizes[0] <= n_classes:
            raise ValueError(
                f"sizes[0] ({self.sizes[0]}) must exceed n_classes ({n_classes}): it counts "
                "the input's columns and the label's"
            )
        self.n_classes = n_classes
        #: The one-hot labels of the batch at hand, shape (N, n_classes), or None.
        self.labels: np.ndarray | None = None

    def forward(self, h: np.ndarray) -> np.ndarray:
        """h : (N, sizes[0] - n_classes) -> (N, sizes[-1]), computed on h ⊕ :attr:`labels`."""
        if self.labels is None:
            raise RuntimeError(
                "a LabelledMLP needs the labels of its batch: call it inside CVAE.conditioned(y)"
            )
        if len(self.labels) != len(h):
            raise ValueError(
                f"the input has {len(h)} rows but {len(self.labels)} labels were given"
            )
        return super().forward(np.concatenate([h, self.labels], axis=1))

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Gradient of the output back to h, (N, sizes[0] - n_classes): the label columns are
        dropped."""
        dx = super().backward(dy, need_input_grad=need_input_grad)
        return None if dx is None else dx[:, : -self.n_classes]


@register("cvae")
class CVAE(VAE):
    """A conditional VAE: encoder q(z | x, y), decoder p(x | z, y), prior N(0, I).

    Its batch is ``(x, y)``: images x of shape (N, D) in [0, 1] and integer labels y of
    shape (N,) in 0 … ``n_classes`` - 1. Training, the ELBO, the importance weights and the
    encoder are the VAE's, each computed with the labels given to both networks.

    Parameters
    ----------
    config : CVAEConfig
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    config_class = CVAEConfig

    @classmethod
    def network_sizes(cls, config: CVAEConfig) -> dict[str, tuple[int, ...]]:
        """The VAE's networks, each with the label's columns added to its input."""
        return {
            part: (first + config.n_classes, *rest)
            for part, (first, *rest) in super().network_sizes(config).items()
        }

    def make_network(self, part, sizes, rng) -> LabelledMLP:
        c = self.config
        return LabelledMLP(sizes, c.n_classes, rng, c.activation, self.dtype)

    @property
    def n_classes(self) -> int:
        return self.config.n_classes

    # ------------------------------------------------------------------ checks
    def check_labels(self, y, n: int | None = None, name: str = "y") -> np.ndarray:
        """``y`` as an int64 array of shape (N,) with values in 0 … n_classes - 1 (and N = n
        when ``n`` is given), or an error naming ``name``."""
        if isinstance(y, (str, bytes)) or y is None:
            raise TypeError(f"{name} must be an array of integer labels; got {type(y).__name__}")
        arr = np.asarray(y)
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(
                f"{name} must hold integer class labels 0 to {self.n_classes - 1}; got dtype "
                f"{arr.dtype} (convert with .astype(int) if the values are whole numbers)"
            )
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of labels; got shape {arr.shape}")
        if n is not None and len(arr) != n:
            raise ValueError(
                f"{name} must hold one label per image: {n} labels expected; got {len(arr)}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_classes):
            bad = arr[(arr < 0) | (arr >= self.n_classes)]
            raise ValueError(
                f"{name} must lie in 0 to {self.n_classes - 1} (n_classes={self.n_classes}); "
                f"got {bad.size} label(s) outside, e.g. {int(bad[0])}"
            )
        return arr.astype(np.int64, copy=False)

    def check_batch(self, batch, name: str = "batch") -> tuple[np.ndarray, np.ndarray]:
        """``batch`` as a checked pair (x, y): x (N, D) in [0, 1] of the model's dtype, y (N,)
        integer labels in 0 … n_classes - 1."""
        if not isinstance(batch, tuple) or len(batch) != 2:
            if isinstance(batch, tuple):
                what = f"a tuple of {len(batch)}"
            elif isinstance(batch, np.ndarray):
                what = f"an array of shape {batch.shape}"
            else:
                what = type(batch).__name__
            raise TypeError(
                f"{name} of a CVAE must be a tuple (x, y) of images and their integer "
                f"labels; got {what}"
            )
        x = self.check_data(batch[0], f"{name} x")
        return x, self.check_labels(batch[1], len(x), f"{name} y")

    # ------------------------------------------------------------------ the label
    def check_given(self, given, n: int) -> np.ndarray:
        """The labels the decoder is given, one per code: ``given`` as :meth:`check_labels`
        checks them (required: a CVAE decodes nothing without a label)."""
        if given is None:
            raise ValueError(f"a CVAE decodes with a label per code: pass given=y of {n} labels")
        return self.check_labels(given, n, "given")

    @contextmanager
    def conditioned(self, y: np.ndarray) -> Iterator[None]:
        """Within this block both networks see the checked labels ``y`` (shape (N,)) with
        every input of N rows; outside it they refuse to run."""
        labels = one_hot(y, self.n_classes, self.dtype)
        self.encoder.labels = self.decoder.labels = labels
        try:
            yield
        finally:
            self.encoder.labels = self.decoder.labels = None

    # ------------------------------------------------------------------ training
    def forward_backward(self, batch, eps: np.ndarray):
        """The VAE's step (:meth:`VAE.forward_backward`) on a checked batch (x, y), the label
        given to both networks: loss -L(x | y) (or the VAE's objective) and its gradient."""
        x, y = batch
        with self.conditioned(y):
            return super().forward_backward(x, eps)

    # ------------------------------------------------------------------ the model
    def encode(self, batch) -> tuple[np.ndarray, np.ndarray]:
        """μ and log σ² of q(z | x, y) for a batch (x, y): shapes (N, K)."""
        x, y = self.check_batch(batch)
        with self.conditioned(y):
            return super().encode(x)

    def reconstruct(self, batch, rng: np.random.Generator | None = None) -> np.ndarray:
        """Decode the posterior mean with the same label: σ(decoder(μ(x, y) ⊕ e(y))), (N, D)."""
        x, y = self.check_batch(batch)
        with self.conditioned(y):
            mu, _ = super().encode(x)
            return self.likelihood.mean(self.decoder.forward(np.ascontiguousarray(mu)))

    # ------------------------------------------------------------------ evaluation
    def elbo(self, batch, rng: np.random.Generator, n_samples: int = 1):
        """The ELBO L(x | y) of each example of a batch (x, y), a lower bound on log p(x | y);
        see :meth:`VAE.elbo`. Returns ELBOTerms of arrays, shape (N,)."""
        x, y = self.check_batch(batch)
        with self.conditioned(y):
            return super().elbo(x, rng, n_samples)

    def log_weights(self, batch, k: int, rng: np.random.Generator) -> np.ndarray:
        r"""log w = log p(x | z, y) + log p(z) - log q(z | x, y) for ``k`` draws z ~ q(z | x, y)
        of each example of a batch (x, y).

        Their log-mean-exp over k is the importance-weighted bound on the *conditional*
        log-likelihood, :math:`\mathcal L_k(x \mid y) \le \log p(x \mid y)`.

        Returns
        -------
        ndarray, shape (k, N), float64
        """
        x, y = self.check_batch(batch)
        with self.conditioned(y):
            return super().log_weights(x, k, rng)

    def log_joint_pairs(self, batch, z) -> np.ndarray:
        r"""log p(x, z | y) = log p(x | z, y) + log N(z; 0, I) for every example (x, y) of a
        batch and every code z (for quadrature over a small latent).

        Parameters
        ----------
        batch : (x, y), x of shape (N, D) in [0, 1], y of shape (N,)
        z : ndarray, shape (G, K)

        Returns
        -------
        ndarray, shape (N, G), float64
        """
        x, y = self.check_batch(batch)
        z = check_array(z, "z", shape=(None, self.config.latent_dim))
        check_size(len(z) * len(np.unique(y)), f"{len(z)} codes for each label of the batch")
        out = np.empty((len(x), len(z)))
        for label in np.unique(y):  # one decoder pass over the codes per label present
            rows = y == label
            with self.conditioned(np.full(len(z), label)):
                out[rows] = super().log_joint_pairs(x[rows], z)
        return out
