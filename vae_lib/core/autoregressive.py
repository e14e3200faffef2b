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
from typing import NamedTuple

import numpy as np

from .distributions import sigmoid
from .nn import ACTIVATION_LAYERS, MAX_PARAMS, MLP, Linear, Module, check_network
from .validation import (
    check_array,
    check_float_dtype,
    check_layer_input,
    check_positive_float,
    check_positive_int,
    check_rng,
    check_size,
    describe_value,
)

#: The ``window`` of :func:`causal_window_mask` that lets each pixel see every earlier pixel.
FULL = "full"

#: The largest share of a densely multiplied mask's weights its optimizer regions may cover.
REGIONS_WORTH = 0.9


class MaskedLinear(Linear):
    r"""Affine layer y = x (W ⊙ M) + b with a fixed binary mask M.

    The weights are drawn as :class:`~vae_lib.core.nn.Linear` draws them (PyTorch's scheme,
    with n_in the full input width) and the masked ones set to 0. The forward pass uses
    W ⊙ M, so a masked entry of ``W`` has no effect even if something writes into it; the
    backward pass stores ∂/∂W = (xᵀ dy) ⊙ M, so a gradient step never moves it.

    Besides its input, the forward pass keeps W ⊙ M (computed into buffers allocated once),
    which the backward pass uses for dx = dy (W ⊙ M)ᵀ.

    **Banded masks.** The masks of an image's causal window are banded: the outputs of one
    image row read only the few rows above it. When cutting the outputs into column blocks,
    each reading only the contiguous run of inputs its mask reaches, leaves at most 40% of
    the dense product's work (:func:`column_blocks`), the layer multiplies block by block,
    and :meth:`param_regions` tells the optimizer to pass over those blocks only; otherwise
    it makes one dense product. Both give x (W ⊙ M) + b, the terms they skip being exact
    zeros; only the order in which BLAS adds the others differs, at the rounding level. A
    mask multiplied densely still gives the optimizer its blocks when they leave out a tenth
    of W (the full context's triangle: about half), as Adam makes many passes over W where
    BLAS makes one.

    Parameters
    ----------
    mask : array_like of bool, shape (n_in, n_out)
        ``mask[j, i]`` is True where input j may reach output i.
    rng : numpy.random.Generator
    dtype : numpy dtype
    bias : bool
        Without a bias, b is held at 0 and is not a parameter (for a layer whose output is
        added to another that has one).
    """

    def __init__(self, mask, rng: np.random.Generator, dtype=np.float32, bias: bool = True):
        mask = _check_mask(mask)
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
        self.blocks = column_blocks(self.mask)
        self._regions = self.blocks or column_blocks(self.mask, worth=REGIONS_WORTH)
        if self.blocks is None:
            self._W_masked = [np.empty_like(self.W)]
        else:
            self._W_masked = [np.empty_like(self.W[rows, cols]) for rows, cols in self.blocks]
        self.has_bias = bool(bias)
        if not self.has_bias:
            self.b[...] = 0

    @property
    def params(self) -> list[np.ndarray]:
        return [self.W, self.b] if self.has_bias else [self.W]

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.dW, self.db] if self.has_bias else [self.dW]

    def param_names(self) -> list[str]:
        return ["W", "b"] if self.has_bias else ["W"]

    def param_regions(self) -> list[list[tuple[slice, ...]] | None]:
        """W's column blocks, outside which its gradient is always 0 (the blocks of the
        product, or, for a mask multiplied densely, those of :func:`column_blocks` whenever
        they leave out a tenth of W; else None, all of W); all of b."""
        regions = [None if self._regions is None else list(self._regions)]
        return regions + [None] if self.has_bias else regions

    @property
    def masked_weights(self) -> np.ndarray:
        """W ⊙ M, a new array."""
        return self.W * self._m

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x : (N, n_in) -> (N, n_out)."""
        x = check_layer_input(x, "x", self.W.shape[0])
        if self.blocks is None:
            (w,) = self._W_masked
            np.multiply(self.W, self._m, out=w)
            self._x = x
            y = x @ w
        else:
            # one cast for all blocks (the pixels may come as bool)
            x = x.astype(np.result_type(x, self.W), copy=False)
            self._x = x
            y = np.empty((len(x), self.W.shape[1]), dtype=x.dtype)
            for (rows, cols), w in zip(self.blocks, self._W_masked):
                np.multiply(self.W[rows, cols], self._m[rows, cols], out=w)
                np.matmul(x[:, rows], w, out=y[:, cols])
        if self.has_bias:
            y += self.b
        return y

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (N, n_out) -> dx : (N, n_in); stores ∂/∂W = (xᵀ dy) ⊙ M and ∂/∂b = Σₙ dy."""
        if self._x is None:
            raise RuntimeError("MaskedLinear.backward was called before forward")
        dy = check_layer_input(dy, "dy", self.W.shape[1], rows=len(self._x))
        if self.has_bias:
            np.sum(dy, axis=0, out=self.db)
        if self.blocks is None:
            (w,) = self._W_masked
            np.matmul(self._x.T, dy, out=self.dW)
            self.dW *= self._m
            return dy @ w.T if need_input_grad else None
        # ∂W outside the blocks is masked, hence 0: set once, in __init__, never written
        dx = np.zeros(self._x.shape, np.result_type(dy, self.W)) if need_input_grad else None
        for (rows, cols), w in zip(self.blocks, self._W_masked):
            grad = self._x[:, rows].T @ dy[:, cols]
            np.multiply(grad, self._m[rows, cols], out=self.dW[rows, cols])
            if need_input_grad:
                dx[:, rows] += dy[:, cols] @ w.T
        return dx


def column_blocks(mask: np.ndarray, n_blocks: int = 28, worth: float = 0.4):
    r"""The column blocks a :class:`MaskedLinear` multiplies one by one, or None for one
    dense product.

    The outputs are cut into at most ``n_blocks`` runs of equal width (28: one image row of
    pixels, or of their units), and each run reads the contiguous run of inputs from the
    first to the last its mask reaches. The blocks are used only if their products together
    cost at most ``worth`` of the dense one: many small products run slower per operation
    than one large one, so the full context's triangle (about half) gains nothing, measured
    on MNIST's 784 pixels, while a window of w = 8 (about a quarter) trains twice as fast.

    Returns
    -------
    list of (rows, cols) slices, or None
    """
    mask = _check_mask(mask)
    n_blocks = check_positive_int(n_blocks, "n_blocks")
    worth = check_positive_float(worth, "worth")
    n_in, n_out = mask.shape
    width = -(-n_out // min(n_blocks, n_out))
    blocks, cost = [], 0
    for start in range(0, n_out, width):
        cols = slice(start, min(start + width, n_out))
        reached = np.flatnonzero(mask[:, cols].any(axis=1))
        rows = slice(int(reached[0]), int(reached[-1]) + 1) if reached.size else slice(0, 0)
        blocks.append((rows, cols))
        cost += (rows.stop - rows.start) * (cols.stop - cols.start)
    return blocks if cost <= worth * mask.size else None


def _check_mask(mask) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.ndim != 2 or 0 in mask.shape:
        raise ValueError(
            "mask must be a non-empty 2-D bool array of shape (n_in, n_out); got "
            f"dtype {mask.dtype} and shape {mask.shape}"
        )
    return mask


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

    Input j (0-based) has degree j + 1. The hidden units of a layer at least n_in - 1 wide
    take the degrees 1, …, n_in - 1 in turn (unit k has degree k mod (n_in - 1) + 1), so every
    degree is there. A narrower layer cannot have every degree; its units spread theirs evenly
    from 1 to n_in - 1, both ends included (unit k of a layer of width H ≥ 2 has degree
    1 + ⌊k (n_in - 2) / (H - 1)⌋), so that some unit sees every input but the last, where
    taking the degrees in turn would leave every input after the H-th unseen. Every degree
    is 1 when n_in = 1. The outputs come in ``n_out_per_input`` blocks of n_in: output column
    b·n_in + i belongs to input i and has degree i + 1.

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
    n_degrees = max(n_in - 1, 1)
    for width in hidden_dims:
        if width >= n_degrees:
            degrees.append(np.arange(width) % n_degrees + 1)
        else:
            degrees.append(np.arange(width) * (n_degrees - 1) // max(width - 1, 1) + 1)
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


# ---------------------------------------------------------------------- a network over a mask
def receptive_field_masks(field_mask, units_per_pixel: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The masks of one hidden layer that keeps every pixel's receptive field exact.

    ``field_mask`` (D, D) says what each pixel may see (``field_mask[j, i]``: pixel i sees
    pixel j), as :func:`causal_window_mask` does. Every pixel p *owns* ``units_per_pixel``
    hidden units (unit h = p · units_per_pixel + c), and

    - unit h sees exactly what its owner sees: ``into_hidden[j, h] = field_mask[j, p]``;
    - output i reads unit h only if h sees something and everything h sees, i may see:
      ``into_output[h, i]`` = (field(p) ≠ ∅ and field(p) ⊆ field(i)).

    So output i depends on no pixel outside its field (its receptive field is exact, and
    causality follows from the field's), and on all of it, through the units it owns. For
    the full context (field(i) = {j < i}) output i reads the units of owners 1 … i: MADE's
    masks with the owner's index as the unit's degree (Germain et al. 2015). For a window,
    the fields of different pixels are translates of one another and rarely nested: output i
    reads its own units and a few of the image's border.

    Returns
    -------
    into_hidden : ndarray of bool, shape (D, D · units_per_pixel)
    into_output : ndarray of bool, shape (D · units_per_pixel, D)
    """
    field = _check_field_mask(field_mask)
    k = check_positive_int(units_per_pixel, "units_per_pixel")
    d = len(field)
    check_size(
        2 * d * d * k + 3 * d * d, f"the masks of {k} hidden units per pixel over {d} pixels"
    )
    seen = field.astype(np.float32)
    # nested[p, i]: field(p) ⊆ field(i), i.e. p sees no pixel i does not (a count of 0);
    # counts are at most D, exact in float32
    outside = seen.T @ (~field).astype(np.float32)
    nested = (outside == 0) & field.any(axis=0)[:, None]
    return np.repeat(field, k, axis=1), np.repeat(nested, k, axis=0)


def _check_units_per_pixel(k, name: str = "units_per_pixel") -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{name} must be an integer ≥ 0; got {describe_value(k)}")
    if k < 0:
        raise ValueError(f"{name} must be an integer ≥ 0; got {k}")
    return int(k)


def _check_field_mask(field_mask) -> np.ndarray:
    field = np.asarray(field_mask)
    if (
        field.dtype != np.bool_
        or field.ndim != 2
        or field.shape[0] != field.shape[1]
        or field.size == 0
    ):
        raise ValueError(
            "field_mask must be a square bool array (D, D), mask[j, i] whether pixel i "
            f"sees pixel j; got dtype {field.dtype} and shape {field.shape}"
        )
    if np.any(np.tril(field)):
        raise ValueError(
            "field_mask must be strictly upper triangular (pixel i sees only pixels j < i)"
        )
    return field


class AutoregressiveNetwork(Module):
    r"""The part of an autoregressive decoder's logits that reads the pixels:

    .. math:: a(x) = \mathrm{ReLU}\big(x (W_1 \odot M_1) + b_1\big) (W_2 \odot M_2)
                     + x (A \odot F),

    one hidden layer of masked ReLU units (:func:`receptive_field_masks`, ``units_per_pixel``
    per pixel) plus a masked linear skip over the pixels, F the field mask itself. Output i
    depends only on the pixels of field(i). Neither output layer has a bias: ``a`` is added
    to logits that have one. With ``units_per_pixel=0`` only the skip is left, the fully
    visible sigmoid belief net's linear layer.

    Parameters
    ----------
    field_mask : ndarray of bool, shape (D, D)
        ``field_mask[j, i]`` whether pixel i sees pixel j; strictly upper triangular.
    units_per_pixel : int ≥ 0
    rng : numpy.random.Generator
    dtype : numpy dtype
    """

    def __init__(
        self, field_mask, units_per_pixel: int, rng: np.random.Generator, dtype=np.float32
    ):
        field = _check_field_mask(field_mask)
        units_per_pixel = _check_units_per_pixel(units_per_pixel)
        rng = check_rng(rng)
        d, k = len(field), int(units_per_pixel)
        what = f"an autoregressive network of units_per_pixel={k} over {d} pixels"
        check_size(self.n_allocated(d, k), what)
        self.field = field.copy()
        self.field.setflags(write=False)
        self.units_per_pixel = k
        self.hidden: MaskedLinear | None = None
        if k:
            into_hidden, into_output = receptive_field_masks(field, k)
            self.hidden = MaskedLinear(into_hidden, rng, dtype)
            self.relu = ACTIVATION_LAYERS["relu"]()
            self.output = MaskedLinear(into_output, rng, dtype, bias=False)
        self.skip = MaskedLinear(field, rng, dtype, bias=False)

    @staticmethod
    def n_allocated(d: int, k: int) -> int:
        """The array entries a network over d pixels with k units per pixel allocates (masks,
        weights, gradients and buffers), counted before any is made."""
        d, k = check_positive_int(d, "d"), _check_units_per_pixel(k, "k")
        masks = 2 * d * d * k + 3 * d * d if k else 0
        layers = _masked_linear_entries(d, d * k) + _masked_linear_entries(d * k, d) if k else 0
        return masks + layers + _masked_linear_entries(d, d)

    @staticmethod
    def param_shapes(d: int, units_per_pixel: int) -> dict[str, tuple[int, ...]]:
        """Every parameter's shape, by name, without making the network."""
        d = check_positive_int(d, "d")
        units_per_pixel = _check_units_per_pixel(units_per_pixel)
        h = d * units_per_pixel
        hidden = {"hidden.W": (d, h), "hidden.b": (h,), "output.W": (h, d)} if h else {}
        return {**hidden, "skip.W": (d, d)}

    @property
    def layers(self) -> list[MaskedLinear]:
        return [self.hidden, self.output, self.skip] if self.hidden else [self.skip]

    @property
    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.grads]

    def param_regions(self) -> list[list[tuple[slice, ...]] | None]:
        return [r for layer in self.layers for r in layer.param_regions()]

    def param_names(self) -> list[str]:
        names = ("hidden", "output", "skip") if self.hidden else ("skip",)
        return [f"{n}.{p}" for n, layer in zip(names, self.layers) for p in layer.param_names()]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x : (N, D) -> a(x) : (N, D); output i a function of the pixels of field(i)."""
        x = check_layer_input(x, "x", len(self.field))
        out = self.skip.forward(x)
        if self.hidden is not None:
            out += self.output.forward(self.relu.forward(self.hidden.forward(x)))
        return out

    def backward(self, dy: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """dy : (N, D) -> dx : (N, D) (or None); fills every layer's gradients."""
        if self.skip._x is None:
            raise RuntimeError("AutoregressiveNetwork.backward was called before forward")
        dy = check_layer_input(dy, "dy", len(self.field), rows=len(self.skip._x))
        dx = self.skip.backward(dy, need_input_grad)
        if self.hidden is not None:
            dh = self.relu.backward(self.output.backward(dy))
            dx_hidden = self.hidden.backward(dh, need_input_grad)
            if need_input_grad:
                dx += dx_hidden
        return dx

    def draw(self, base_logits: np.ndarray, steps: np.ndarray, choose) -> np.ndarray:
        r"""Fill in an image pixel by pixel, each pixel's value chosen from its logit
        ℓ_i = base_i + a(x)_i, which reads only pixels chosen before it, in ``steps`` order.

        Pixels of one step are chosen together (``steps`` from :func:`wavefront_steps`, or
        ``np.arange(D)`` for one pixel at a time); each hidden unit is computed once, at the
        first step that reads it, when all that it sees has been chosen. The work is one
        forward pass's, whatever the number of steps. Sampling chooses by a draw
        (:meth:`sample`); a coder chooses by reading its message, and, to code an image it
        knows, by returning that image's pixels, which gives every logit the exact
        arithmetic its decoder will repeat. To draw many times in the same order, one image
        at a time as a coder does, make the :meth:`draw_plan` once and draw with it.

        Parameters
        ----------
        base_logits : ndarray (N, D)
            The part of each logit that reads no pixel (g(z) with its bias).
        steps : int ndarray (D,)
            Pixel i is chosen at step ``steps[i]``; every pixel it sees must come earlier.
        choose : callable (pixels, logits) -> values
            Given the step's pixel indices (P,) and their logits (N, P), the values of
            those pixels, (N, P), 0 or 1.

        Returns
        -------
        x : ndarray (N, D), the model's dtype
        """
        return self.draw_plan(steps).draw(base_logits, choose)

    def draw_plan(self, steps: np.ndarray) -> DrawPlan:
        """The weights :meth:`draw` reads at each of the ``steps``, gathered once
        (:class:`DrawPlan`)."""
        return DrawPlan(self, steps)

    def sample(self, base_logits: np.ndarray, u: np.ndarray, steps: np.ndarray):
        r"""Draw x with p(x_i = 1 | x_{<i}) = σ(base_i + a(x)_i), pixels in ``steps`` order
        (:meth:`draw`).

        Parameters
        ----------
        base_logits : ndarray (N, D)
            The part of each logit that reads no pixel (g(z) with its bias).
        u : ndarray (N, D)
            Uniforms on [0, 1): x_i = [u_i < σ(ℓ_i)].
        steps : int ndarray (D,)
            Pixel i is drawn at step ``steps[i]``; every pixel it sees must come earlier.

        Returns
        -------
        x, probs : ndarrays (N, D), the model's dtype
        """
        base_logits = check_array(base_logits, "base_logits", shape=(None, len(self.field)))
        u = check_array(u, "u", shape=base_logits.shape)
        if u.size and (u.min() < 0 or u.max() >= 1):
            raise ValueError(
                f"u must hold uniforms on [0, 1); got values from {u.min():.4g} to {u.max():.4g}"
            )
        probs = np.empty(np.shape(base_logits), dtype=self.skip.W.dtype)

        def draw_pixels(pixels, logits):
            probs[:, pixels] = sigmoid(logits)
            return u[:, pixels] < probs[:, pixels]

        return self.draw(base_logits, steps, draw_pixels), probs


class _Step(NamedTuple):
    pixels: np.ndarray  # (P,) the pixels chosen at this step
    skip: np.ndarray  # (D, P) the skip's masked weights into them
    new: np.ndarray  # (U,) the hidden units first read at this step
    into_new: np.ndarray | None  # (D, U) masked weights into those units
    new_bias: np.ndarray | None  # (U,)
    into_pixels: np.ndarray | None  # (H, P) masked weights from every hidden unit


class DrawPlan:
    """An :class:`AutoregressiveNetwork`'s masked weights as :meth:`~AutoregressiveNetwork.draw`
    reads them, step by step, gathered once for many draws.

    A coder draws one image at a time, and for one image, gathering each step's columns of
    the masked weights costs several times the products that use them: coding and decoding
    the compression page's 1,000 digits took 42 s gathering at every draw, 7 s with a plan.
    The plan holds the same arrays, in the same layout, so a draw with it is bit for bit a
    draw without it. It is a copy: made before the weights change (by training), it keeps
    the old ones.

    Parameters
    ----------
    network : AutoregressiveNetwork
    steps : int ndarray (D,)
        As for :meth:`AutoregressiveNetwork.draw`.
    """

    def __init__(self, network: AutoregressiveNetwork, steps: np.ndarray):
        steps = check_steps(steps, network.field)
        self.input_dim = len(network.field)
        self.dtype = network.skip.W.dtype
        self.n_hidden = 0 if network.hidden is None else network.hidden.W.shape[1]
        skip = network.skip.masked_weights
        if network.hidden is not None:
            into_hidden, bias = network.hidden.masked_weights, network.hidden.b
            into_output, reads = network.output.masked_weights, network.output.mask
            computed = np.zeros(self.n_hidden, dtype=bool)
        self.steps: list[_Step] = []
        for pixels in step_groups(steps):
            if network.hidden is None:
                self.steps.append(_Step(pixels, skip[:, pixels], pixels[:0], None, None, None))
                continue
            new = np.flatnonzero(reads[:, pixels].any(axis=1) & ~computed)
            computed[new] = True
            self.steps.append(
                _Step(
                    pixels,
                    skip[:, pixels],
                    new,
                    into_hidden[:, new],
                    bias[new],
                    into_output[:, pixels],
                )
            )

    def draw(self, base_logits: np.ndarray, choose) -> np.ndarray:
        """:meth:`AutoregressiveNetwork.draw` in this plan's steps: (N, D) -> x (N, D)."""
        base_logits = check_array(base_logits, "base_logits", shape=(None, self.input_dim))
        if not callable(choose):
            raise TypeError(
                f"choose must be a callable (pixels, logits) -> values; got "
                f"{describe_value(choose)}"
            )
        n = len(base_logits)
        x = np.zeros((n, self.input_dim), dtype=self.dtype)
        hidden = np.zeros((n, self.n_hidden), dtype=self.dtype)
        for step in self.steps:
            logits = base_logits[:, step.pixels] + x @ step.skip
            if step.into_pixels is not None:
                if step.new.size:
                    hidden[:, step.new] = np.maximum(x @ step.into_new + step.new_bias, 0)
                logits += hidden @ step.into_pixels
            x[:, step.pixels] = choose(step.pixels, logits)
        return x


# ---------------------------------------------------------------------- sampling order
def wavefront_steps(field_mask) -> np.ndarray:
    r"""The earliest step at which each pixel can be drawn: 0 for a pixel that sees nothing,
    else one more than the latest step among the pixels it sees.

    Pixels of the same step do not see one another, so an autoregressive sampler can draw
    them together: the number of sequential steps is ``steps.max() + 1``, the longest chain
    of dependencies, instead of D. For the window w of :func:`causal_window_mask` on an
    image at least w + 1 pixels wide, pixel (r, c) comes at step (w + 1) r + c; for the
    full context, pixel i at step i.

    Returns
    -------
    int ndarray (D,)
    """
    field = _check_field_mask(field_mask)
    steps = np.zeros(len(field), dtype=np.int64)
    for i in range(1, len(field)):  # the pixels i sees come before it in raster order
        parents = field[:i, i]
        if parents.any():
            steps[i] = steps[:i][parents].max() + 1
    return steps


def check_steps(steps, field_mask: np.ndarray) -> np.ndarray:
    """``steps`` as an int array (D,) if every pixel comes after every pixel it sees, else
    a ``ValueError`` naming the first pixel that does not."""
    field_mask = _check_field_mask(field_mask)
    s = np.asarray(steps)
    d = len(field_mask)
    if s.shape != (d,) or not np.issubdtype(s.dtype, np.integer):
        raise ValueError(
            f"steps must be an integer array of shape ({d},), one step per pixel; got "
            f"{describe_value(steps)}"
        )
    # the latest step among each pixel's parents must be below its own
    latest = np.where(field_mask, s[:, None], np.iinfo(np.int64).min).max(axis=0)
    early = np.flatnonzero(latest >= s)
    if early.size:
        i = int(early[0])
        raise ValueError(
            f"steps must put every pixel after every pixel it sees: pixel {i} is scheduled at "
            f"step {int(s[i])}, and one it sees at step {int(latest[i])}"
        )
    return s.astype(np.int64)


def step_groups(steps: np.ndarray) -> list[np.ndarray]:
    """The pixels of each step, in step order: a list of index arrays."""
    steps = np.asarray(steps) if not isinstance(steps, (str, bytes)) else steps
    if (
        not isinstance(steps, np.ndarray)
        or steps.ndim != 1
        or not np.issubdtype(steps.dtype, np.integer)
    ):
        raise ValueError(
            f"steps must be a 1-D integer array, one step per pixel; got {describe_value(steps)}"
        )
    order = np.argsort(steps, kind="stable")
    bounds = np.flatnonzero(np.diff(steps[order])) + 1
    return np.split(order, bounds)
