r"""An autoregressive prior over strings of discrete codes, for a VQ-VAE's samples.

A VQ-VAE encodes an image as a string k = (k_1, …, k_L) of codebook indices. To draw new
images it needs a prior over strings; the independent categorical per position
(:func:`vae_lib.core.categorical.fit_categorical_prior`) ignores how the symbols depend on
each other. This prior does not:

.. math:: p_\psi(k) = \prod_{l=1}^{L} \mathrm{Categorical}\big(k_l;\
          \mathrm{softmax}(f_\psi(k_{<l})_l)\big),

with f_ψ a MADE (Germain et al. 2015) over the one-hot string: L groups of K inputs, the
K logits of position l reading only the groups before it. Position 1 reads nothing: its
logits are the output layer's bias, the marginal of k_1. It is the paper's idea (a
PixelCNN prior over the code grid, van den Oord et al. 2017) at the size of the book's
strings of 8 codes. Equation labels refer to the chapter "VQ-VAE" (chapters/variants/vqvae.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.autoregressive import MaskedLinear, made_degrees
from ..core.categorical import check_codes, one_hot
from ..core.nn import ACTIVATION_LAYERS, MLP, check_network
from ..core.numerics import logsumexp_kernel
from ..core.optim import Adam
from ..core.validation import check_positive_int, check_rng, check_size


def code_made_masks(n_positions: int, codebook_size: int, hidden_dims: Sequence[int]):
    r"""The masks of a MADE over L one-hot groups of K, position-major on both sides.

    Input column l·K + k and output column l·K + k belong to position l (degree l + 1); the
    hidden units take :func:`~vae_lib.core.autoregressive.made_degrees` of L variables.
    Into a hidden layer ``mask[j, u] = m(u) ≥ m(j)``; into the output, strictly ``>``, so the
    logits of position l read the one-hot groups of positions before l only.
    """
    degrees = made_degrees(n_positions, hidden_dims)
    by_position = np.repeat(np.arange(1, n_positions + 1), codebook_size)
    layers = [by_position, *degrees[1:-1]]
    masks = [d_out[None, :] >= d_in[:, None] for d_in, d_out in zip(layers[:-1], layers[1:])]
    masks.append(by_position[None, :] > layers[-1][:, None])
    return masks


class CodeMADE(MLP):
    """The network f_ψ: an :class:`~vae_lib.core.nn.MLP` of masked layers (the MLP's
    forward, backward and parameters) with the masks of :func:`code_made_masks`."""

    def __init__(
        self,
        n_positions: int,
        codebook_size: int,
        hidden_dims: Sequence[int],
        rng: np.random.Generator,
        dtype=np.float64,
    ):
        width = check_positive_int(n_positions, "n_positions") * check_positive_int(
            codebook_size, "codebook_size"
        )
        self.sizes, self.dtype = check_network((width, *hidden_dims, width), "relu", dtype)
        masks = code_made_masks(n_positions, codebook_size, hidden_dims)
        self.layers = []
        for i, mask in enumerate(masks):
            self.layers.append(MaskedLinear(mask, rng, dtype))
            if i < len(masks) - 1:
                self.layers.append(ACTIVATION_LAYERS["relu"]())


class AutoregressiveCodePrior:
    r"""p_ψ(k) = Π_l p_ψ(k_l | k_{<l}) over strings of L codes from a codebook of K.

    Parameters
    ----------
    n_positions : int
        L.
    codebook_size : int
        K.
    hidden_dims : sequence of int
        Widths of the MADE's hidden layers; each at least L - 1 gives every position a unit
        of each degree.
    rng : numpy.random.Generator
    """

    def __init__(
        self,
        n_positions: int,
        codebook_size: int,
        hidden_dims: Sequence[int],
        rng: np.random.Generator,
    ):
        self.n_positions = check_positive_int(n_positions, "n_positions")
        self.codebook_size = check_positive_int(codebook_size, "codebook_size")
        check_size(
            n_positions * codebook_size, f"strings of {n_positions} codes of {codebook_size}"
        )
        self.network = CodeMADE(n_positions, codebook_size, tuple(hidden_dims), check_rng(rng))

    def check_codes(self, codes) -> np.ndarray:
        a = check_codes(codes, self.codebook_size, "codes", ndim=2)
        if a.shape[1] != self.n_positions:
            raise ValueError(f"codes must have shape (N, {self.n_positions}); got {a.shape}")
        return a

    def _inputs(self, codes: np.ndarray) -> np.ndarray:
        """The one-hot strings, (N, L·K), position-major."""
        onehot = one_hot(codes.ravel(), self.codebook_size, np.float64)
        return onehot.reshape(len(codes), self.n_positions * self.codebook_size)

    def logits(self, codes) -> np.ndarray:
        """f_ψ(k): the logits of every position given the codes before it, (N, L, K)."""
        codes = self.check_codes(codes)
        out = self.network.forward(self._inputs(codes))
        return out.reshape(len(codes), self.n_positions, self.codebook_size)

    def log_prob(self, codes) -> np.ndarray:
        """log p_ψ(k) of each string, (N,), nats."""
        codes = self.check_codes(codes)
        logits = self.logits(codes)
        log_norm = logsumexp_kernel(logits, axis=2)  # (N, L)
        chosen = np.take_along_axis(logits, codes[:, :, None], axis=2)[:, :, 0]
        return (chosen - log_norm).sum(axis=1)

    def loss_and_grads(self, codes) -> float:
        """The mean of -log p_ψ(k) over the strings; fills the network's gradients."""
        codes = self.check_codes(codes)
        n = len(codes)
        logits = self.network.forward(self._inputs(codes)).reshape(
            n, self.n_positions, self.codebook_size
        )
        log_norm = logsumexp_kernel(logits, axis=2)
        chosen = np.take_along_axis(logits, codes[:, :, None], axis=2)[:, :, 0]
        # d(-log softmax_k)/d logits = softmax - e_k
        d_logits = np.exp(logits - log_norm[:, :, None])
        np.put_along_axis(
            d_logits, codes[:, :, None], np.take_along_axis(d_logits, codes[:, :, None], 2) - 1, 2
        )
        self.network.backward(d_logits.reshape(n, -1) / n, need_input_grad=False)
        return float(-(chosen - log_norm).sum() / n)

    @property
    def params(self) -> list[np.ndarray]:
        return self.network.params

    @property
    def grads(self) -> list[np.ndarray]:
        return self.network.grads

    def fit(
        self,
        codes,
        held_out,
        rng: np.random.Generator,
        max_epochs: int = 100,
        batch_size: int = 100,
        lr: float = 1e-3,
        patience: int = 5,
    ) -> dict[str, list[float]]:
        """Adam on the mean -log p_ψ of ``codes``, stopped early on ``held_out``: training
        ends when the held-out loss has not improved for ``patience`` epochs, and the
        parameters of its best epoch are kept (a prior of K^L strings from a few thousand
        overfits within tens of epochs).

        Returns
        -------
        {"train": [...], "held_out": [...]}, the mean -log p_ψ (nats) after each epoch
        """
        codes, held_out = self.check_codes(codes), self.check_codes(held_out)
        rng = check_rng(rng)
        max_epochs = check_positive_int(max_epochs, "max_epochs")
        batch_size = check_positive_int(batch_size, "batch_size")
        patience = check_positive_int(patience, "patience")
        optimizer = Adam(self.params, lr=lr, regions=self.network.param_regions())
        history = {"train": [], "held_out": []}
        best, best_params = np.inf, [p.copy() for p in self.params]
        for _ in range(max_epochs):
            order = rng.permutation(len(codes))
            for start in range(0, len(codes), batch_size):
                self.loss_and_grads(codes[order[start : start + batch_size]])
                optimizer.step(self.grads)
            history["train"].append(float(-self.log_prob(codes).mean()))
            history["held_out"].append(float(-self.log_prob(held_out).mean()))
            if history["held_out"][-1] < best:
                best, best_params = history["held_out"][-1], [p.copy() for p in self.params]
            elif len(history["held_out"]) - 1 - int(np.argmin(history["held_out"])) >= patience:
                break
        for p, kept in zip(self.params, best_params):
            p[...] = kept
        return history

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n strings k ~ p_ψ, drawn position by position: (n, L) int."""
        n = check_positive_int(n, "n")
        check_size(n * self.n_positions * self.codebook_size, f"n={n} strings")
        rng = check_rng(rng)
        codes = np.zeros((n, self.n_positions), dtype=np.int64)
        for pos in range(self.n_positions):  # position l reads only the codes before it
            logits = self.logits(codes)[:, pos]
            p = np.exp(logits - logsumexp_kernel(logits, axis=1)[:, None])
            drawn = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
            # a uniform above a cumulative sum that rounds to just below 1 takes the last code
            codes[:, pos] = np.minimum(drawn, self.codebook_size - 1)
        return codes
