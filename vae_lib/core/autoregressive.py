r"""Autoregressive layers: a masked linear layer, MADE, and the causal window of an image.

An autoregressive network maps x to outputs where output i depends only on the inputs
before it, x_{<i}. Masking the weights of ordinary layers is the whole trick: each layer
computes x (W ⊙ M) + b with a fixed binary mask M, so a connection whose mask entry is 0 does
not exist, however the weights are trained.

- :class:`MaskedLinear` is that layer. It keeps the layer contract of :mod:`.nn`, and its
  gradient is masked too, so a masked weight stays exactly 0 under any optimizer step.
- :func:`made_degrees` and :func:`made_masks` give the masks of MADE (Germain et al. 2015)
  for a multilayer network; :class:`MADE` is that network.
- :func:`causal_window_mask` is the mask of one masked layer over the pixels of an image in
  raster order that sees only a local window of the pixels before each one: the receptive
  field the Variational Lossy Autoencoder restricts (Chen et al. 2017).

Masks are bool arrays of shape (n_in, n_out), the shape of the weight they mask:
``mask[j, i]`` says whether input j may reach output i.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .nn import ACTIVATION_LAYERS, MAX_PARAMS, MLP, Linear, check_network
from .validation import (
    check_float_dtype,
    check_positive_int,
    check_rng,
    check_size,
    describe_value,
)

#: The ``window`` of :func:`causal_window_mask` that lets each pixel see every earlier pixel.
FULL = "full"


class MaskedLinear(Linear):
    r"""Affine layer y = x (W ⊙ M) + b with a fixed binary mask M.

    The weights are drawn as :class:`~vae_lib.core.nn.Linear` draws them (PyTorch's scheme,
    with n_in the full input width) and the masked ones set to 0. The forward pass uses
    W ⊙ M, so a masked entry of ``W`` has no effect even if something writes into it; the
    backward pass stores ∂/∂W = (xᵀ dy) ⊙ M, so a gradient step never moves it.

    Besides its input, the forward pass keeps W ⊙ M (computed into a buffer allocated once),
    which the backward pass uses for dx = dy (W ⊙ M)ᵀ.

    Parameters
    ----------
    mask : array_like of bool, shape (n_in, n_out)
        ``mask[j, i]`` is True where input j may reach output i.
    rng : numpy.random.Generator
    dtype : numpy dtype
    """

    def __init__(self, mask, rng: np.random.Generator, dtype=np.float32):
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.ndim != 2 or 0 in mask.shape:
            raise ValueError(
                "mask must be a non-empty 2-D bool array of shape (n_in, n_out); got "
                f"dtype {mask.dtype} and shape {mask.shape}"
            )
        dtype = check_float_dtype(dtype)
        rng = check_rng(rng)
        if mask.size > MAX_PARAMS:
            raise ValueError(
                f"mask of shape {mask.shape} makes {mask.size:,} weights; at most "
                f"{MAX_PARAMS:,} are allowed"
            )
        check_size(_masked_linear_entries(*mask.shape), f"a MaskedLinear of mask {mask.shape}")
        super().__init__(mask.shape[0], mask.shape[1], rng, dtype)
        self.mask = mask.copy()
        self.mask.setflags(write=False)
        self._m = self.mask.astype(self.W.dtype)
        self.W *= self._m
        self._W_masked = np.empty_like(self.W)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x : (N, n_in) -> (N, n_out)."""
        np.multiply(self.W, self._m, out=self._W_masked)
        self._x = x
        y = x @ self._W_masked
        y += self.b
        return y

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (N, n_out) -> dx : (N, n_in); stores ∂/∂W = (xᵀ dy) ⊙ M and ∂/∂b = Σₙ dy."""
        if self._x is None:
            raise RuntimeError("MaskedLinear.backward was called before forward")
        np.matmul(self._x.T, dy, out=self.dW)
        self.dW *= self._m
        np.sum(dy, axis=0, out=self.db)
        return dy @ self._W_masked.T if need_input_grad else None


def _masked_linear_entries(n_in: int, n_out: int) -> int:
    """The array entries a :class:`MaskedLinear` allocates: the weights as drawn (float64,
    before the cast), W, ∂W, the mask's copy, the mask as floats and the W ⊙ M buffer; b (as
    drawn and cast) and ∂b."""
    return 6 * n_in * n_out + 3 * n_out


# ---------------------------------------------------------------------- MADE
def _made_sizes(n_in, hidden_dims, n_out_per_input) -> tuple[int, ...]:
    """The checked widths of a MADE's layers, (n_in, *hidden_dims, n_out_per_input · n_in),
    found without allocating anything."""
    n_in = check_positive_int(n_in, "n_in")
    n_out_per_input = check_positive_int(n_out_per_input, "n_out_per_input")
    sequence = (
        hidden_dims.ndim == 1
        if isinstance(hidden_dims, np.ndarray)
        else isinstance(hidden_dims, Sequence) and not isinstance(hidden_dims, (str, bytes))
    )
    if not sequence:
        raise TypeError(
            f"hidden_dims must be a sequence of ints; got {describe_value(hidden_dims)}"
        )
    hidden = tuple(check_positive_int(h, "hidden_dims entry") for h in hidden_dims)
    return (n_in, *hidden, n_out_per_input * n_in)


def _n_weights(sizes: tuple[int, ...]) -> int:
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _made_arguments(sizes: tuple[int, ...]) -> str:
    hidden = describe_value(sizes[1:-1])
    return f"n_in={sizes[0]}, hidden_dims={hidden}, n_out_per_input={sizes[-1] // sizes[0]}"


def made_degrees(
    n_in: int, hidden_dims: Sequence[int], n_out_per_input: int = 1
) -> list[np.ndarray]:
    r"""The degree of every unit of a MADE network, input layer first, output layer last.

    Input j (0-based) has degree j + 1. Hidden units take the degrees 1, …, n_in - 1 in turn
    (unit k of a layer has degree k mod (n_in - 1) + 1; every degree is 1 when n_in = 1), so a
    layer at least n_in - 1 wide has every degree. The outputs come in ``n_out_per_input``
    blocks of n_in: output column b·n_in + i belongs to input i and has degree i + 1.

    A unit of degree m may depend only on the inputs of degree ≤ m; an output of degree i + 1
    only on inputs of degree < i + 1, i.e. on x_0, …, x_{i-1}.

    Returns
    -------
    list of int arrays: shapes (n_in,), (hidden_dims[0],), …, (n_out_per_input · n_in,)
    """
    sizes = _made_sizes(n_in, hidden_dims, n_out_per_input)
    check_size(sum(sizes), f"made_degrees({_made_arguments(sizes)})")
    n_in, hidden_dims, n_out_per_input = sizes[0], sizes[1:-1], sizes[-1] // sizes[0]
    degrees = [np.arange(1, n_in + 1)]
    for width in hidden_dims:
        degrees.append(np.arange(width) % max(n_in - 1, 1) + 1)
    degrees.append(np.tile(np.arange(1, n_in + 1), n_out_per_input))
    return degrees


def made_masks(n_in: int, hidden_dims: Sequence[int], n_out_per_input: int = 1) -> list[np.ndarray]:
    r"""The masks of a MADE network's layers, from its :func:`made_degrees` m.

    Into a hidden layer, ``mask[j, k] = m_out[k] >= m_in[j]``; into the output layer,
    ``mask[j, k] = m_out[k] > m_in[j]`` (strictly), which makes output i a function of
    x_{<i} only (Germain et al. 2015, eqs. 12-13).

    Returns
    -------
    list of bool arrays, one per layer, shape (width in, width out)
    """
    sizes = _made_sizes(n_in, hidden_dims, n_out_per_input)
    check_size(sum(sizes) + _n_weights(sizes), f"made_masks({_made_arguments(sizes)})")
    degrees = made_degrees(n_in, hidden_dims, n_out_per_input)
    masks = [d_out[None, :] >= d_in[:, None] for d_in, d_out in zip(degrees[:-2], degrees[1:-1])]
    masks.append(degrees[-1][None, :] > degrees[-2][:, None])
    return masks


class MADE(MLP):
    r"""A masked MLP whose output i depends only on the inputs before it (Germain et al. 2015).

    The same layers and contract as :class:`~vae_lib.core.nn.MLP` (forward, backward,
    params, grads, param_names, param_shapes) with :class:`MaskedLinear` in place of Linear
    and the masks of :func:`made_masks`. The output has ``n_out_per_input`` blocks of n_in
    columns; ``out.reshape(N, n_out_per_input, n_in)[:, b, i]`` is a function of x[:, :i].

    Parameters
    ----------
    n_in : int
    hidden_dims : sequence of int
    rng : numpy.random.Generator
    n_out_per_input : int
        e.g. 2 for the shift and log-scale of an autoregressive flow.
    activation : {"relu", "tanh"}
    dtype : numpy dtype
    """

    def __init__(
        self,
        n_in: int,
        hidden_dims: Sequence[int],
        rng: np.random.Generator,
        n_out_per_input: int = 1,
        activation: str = "relu",
        dtype=np.float32,
    ):
        rng = check_rng(rng)
        sizes = _made_sizes(n_in, hidden_dims, n_out_per_input)
        # all that is allocated: the degrees and masks, then each layer's arrays
        layers = sum(_masked_linear_entries(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        check_size(sum(sizes) + _n_weights(sizes) + layers, f"MADE({_made_arguments(sizes)})")
        self.sizes, self.dtype = check_network(sizes, activation, dtype)
        masks = made_masks(n_in, hidden_dims, n_out_per_input)
        self.n_in, self.n_out_per_input = sizes[0], sizes[-1] // sizes[0]
        self.layers = []
        for i, mask in enumerate(masks):
            self.layers.append(MaskedLinear(mask, rng, dtype))
            if i < len(masks) - 1:
                self.layers.append(ACTIVATION_LAYERS[activation]())

    @property
    def masks(self) -> list[np.ndarray]:
        """The mask of each masked layer, input side first."""
        return [layer.mask for layer in self.layers if isinstance(layer, MaskedLinear)]


# ---------------------------------------------------------------------- images
def causal_window_mask(height: int, width: int, window) -> np.ndarray:
    r"""Which pixel may see which, for an autoregressive model with a local causal window.

    Pixels are numbered in raster order, p = r · width + c. Pixel i = (r_i, c_i) may see
    pixel j = (r_j, c_j) if and only if

    .. math:: j < i, \qquad 0 \le r_i - r_j \le w, \qquad |c_i - c_j| \le w,

    that is: j comes earlier in raster order and lies in the w rows above (or the same row,
    to the left) within w columns either side. So each pixel sees at most
    w(2w + 1) + w pixels: the window is (w + 1) rows high and (2w + 1) columns wide, cut at
    pixel i itself. ``window=0`` sees nothing (a factorized decoder); ``window="full"`` sees
    every earlier pixel (j < i), which any w ≥ max(height, width) - 1 also gives.

    Parameters
    ----------
    height, width : int
    window : int ≥ 0, or "full"

    Returns
    -------
    ndarray of bool, shape (D, D) with D = height · width
        ``mask[j, i]`` is True where pixel i may see pixel j (the (in, out) layout of
        :class:`MaskedLinear`); it is strictly upper triangular.
    """
    height = check_positive_int(height, "height")
    width = check_positive_int(width, "width")
    full = isinstance(window, str) and window == FULL
    if not full and (
        isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0
    ):
        raise ValueError(
            f"window must be an integer ≥ 0 or {FULL!r}; got {describe_value(window)} "
            f"({type(window).__name__})"
        )
    d = height * width
    # what is allocated: the (D, D) mask, and bool tables of rows (two H×H) and columns
    # (three W×W); no D×D integer arrays
    check_size(
        d * d + 2 * height * height + 3 * width * width,
        f"the {d}x{d} mask of a {height}x{width} image",
    )
    # any w ≥ max(height, width) - 1 is the full context
    w = max(height, width) if full else min(int(window), max(height, width))
    rows, cols = np.arange(height), np.arange(width)
    above = np.less.outer(rows, rows)  # [r_j, r_i]: r_j < r_i ...
    above &= np.greater_equal.outer(rows, rows - w)  # ... and r_i - r_j ≤ w
    near = np.less_equal.outer(cols, cols + w)  # [c_j, c_i]: c_j - c_i ≤ w ...
    near &= np.greater_equal.outer(cols, cols - w)  # ... and c_i - c_j ≤ w
    left = np.less.outer(cols, cols)  # [c_j, c_i]: c_j < c_i ...
    left &= near  # ... and c_i - c_j ≤ w
    mask = np.empty((height, width, height, width), dtype=bool)  # [r_j, c_j, r_i, c_i]
    np.logical_and(above[:, None, :, None], near[None, :, None, :], out=mask)  # rows above
    mask[rows, :, rows, :] = left  # the same row: the pixels to the left
    return mask.reshape(d, d)
