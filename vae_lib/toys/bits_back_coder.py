r"""A working bits-back coder for the enumerable models of :mod:`vae_lib.toys.bits_back`.

It codes a sequence of images into one integer with asymmetric numeral systems (ANS), the
coder of BB-ANS (Townsend et al. 2019). ANS keeps its message as a stack: *pushing* a symbol
of probability f / 2^P onto the state s makes it about log2(2^P / f) bits longer, and
*popping* with the same table returns the symbol and the old state exactly. Python's
integers have no size limit, so the state is the whole message and no renormalisation is
needed: the arithmetic is exact.

Bits-back coding of one image x (chapter "Bits-back coding", eq. ``bits-back-account``):

- the sender *pops* a code z with q(z|x): this chooses z at random from q, using bits of
  the message as the randomness, and shortens the message by about -log2 q(z|x) bits;
- then pushes x with p(x|z) and z with p(z), about -log2 p(x|z) - log2 p(z) bits;
- the receiver pops z with p(z) and x with p(x|z), then, knowing x, pushes z back with
  q(z|x), which restores the bits the sender took: the bits back.

Probabilities are rounded to integer frequencies out of 2^P, each at least 1, so that every
symbol can be coded; with P = 32 the rounding costs a negligible fraction of a bit.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_positive_int
from .bits_back import DiscreteLatentModel, check_discrete_model, check_probabilities

#: Bits of precision of the coder's frequencies: probabilities are multiples of 2^-32.
PRECISION = 32


def quantize(probs, precision: int = PRECISION) -> tuple[np.ndarray, np.ndarray]:
    """Integer frequencies for each row of ``probs``: each at least 1, summing to 2^precision.

    Returns
    -------
    starts, freqs : int64 arrays of the shape of ``probs``
        ``starts`` is the cumulative sum of ``freqs`` before each entry.
    """
    probs = check_probabilities(probs, "probs", "symbols")
    precision = check_positive_int(precision, "precision")
    if precision > 48 or probs.shape[-1] > 2**precision:
        raise ValueError(
            f"precision must be at most 48 bits and leave room for {probs.shape[-1]} symbols; "
            f"got {precision}"
        )
    total = 1 << precision
    freqs = np.maximum(1, np.floor(probs * total)).astype(np.int64)
    # the rounding error goes to each row's most probable symbol, which can best absorb it
    rows = freqs.reshape(-1, freqs.shape[-1])
    biggest = np.argmax(rows, axis=1)
    rows[np.arange(len(rows)), biggest] += total - rows.sum(axis=1)
    if np.any(rows <= 0):
        raise ValueError("probs has too many tiny entries to quantize at this precision")
    starts = np.cumsum(freqs, axis=-1) - freqs
    return starts, freqs


def _push(state: int, start: int, freq: int, precision: int) -> int:
    """Push one symbol (start, freq) onto the ANS state."""
    return ((state // freq) << precision) + (state % freq) + start


def _pop(state: int, starts: np.ndarray, freqs: np.ndarray, precision: int) -> tuple[int, int]:
    """Pop one symbol with the table (starts, freqs): returns (symbol, state before its push)."""
    slot = state & ((1 << precision) - 1)
    symbol = int(np.searchsorted(starts, slot, side="right")) - 1
    return symbol, int(freqs[symbol]) * (state >> precision) + slot - int(starts[symbol])


def _tables(model: DiscreteLatentModel, q, precision: int):
    model = check_discrete_model(model)
    q = check_probabilities(q, "q", "M codes")
    if q.shape != (model.log_likelihood.shape[1], model.n_states):
        raise ValueError(
            f"q must have shape (2^D, M) = {(model.log_likelihood.shape[1], model.n_states)}; "
            f"got {q.shape}"
        )
    prior = quantize(np.exp(model.log_prior), precision)
    likelihood = quantize(np.exp(model.log_likelihood), precision)  # rows z, over images
    encoder = quantize(q, precision)  # rows x, over codes
    return prior, likelihood, encoder


def _check_state(state) -> int:
    if isinstance(state, bool) or not isinstance(state, (int, np.integer)) or state < 1:
        raise ValueError(f"state must be a positive integer (the message so far); got {state!r}")
    return int(state)


def bits_back_encode(
    model: DiscreteLatentModel, q, images, state: int, precision: int = PRECISION
) -> int:
    r"""Append the images, one after the other, to the message ``state`` by bits-back coding.

    Parameters
    ----------
    model : DiscreteLatentModel
    q : ndarray, shape (2^D, M)
        The encoder q(z|x) for every image.
    images : sequence of int
        Images as indices into :func:`~vae_lib.toys.bits_back.all_binary_images`.
    state : int
        The message so far; it must hold enough bits for the first pop of a code (a few
        dozen random bits, the "initial bits" of BB-ANS).

    Returns
    -------
    int, the message; its length in bits is ``state.bit_length()``
    """
    (p_start, p_freq), (l_start, l_freq), (q_start, q_freq) = _tables(model, q, precision)
    state = _check_state(state)
    n_images = l_start.shape[1]
    for x in images:
        x = int(x)
        if not 0 <= x < n_images:
            raise ValueError(f"images must be indices from 0 to {n_images - 1}; got {x}")
        z, state = _pop(state, q_start[x], q_freq[x], precision)  # the sender takes bits
        state = _push(state, int(l_start[z, x]), int(l_freq[z, x]), precision)
        state = _push(state, int(p_start[z]), int(p_freq[z]), precision)
    return state


def bits_back_decode(
    model: DiscreteLatentModel, q, n: int, state: int, precision: int = PRECISION
) -> tuple[list[int], int]:
    """Take ``n`` images off the message, undoing :func:`bits_back_encode` exactly.

    Returns
    -------
    images : list of int, in the order they were encoded
    state : int, the message as it was before they were encoded
    """
    (p_start, p_freq), (l_start, l_freq), (q_start, q_freq) = _tables(model, q, precision)
    state, n = _check_state(state), check_positive_int(n, "n")
    images = []
    for _ in range(n):
        z, state = _pop(state, p_start, p_freq, precision)
        x, state = _pop(state, l_start[z], l_freq[z], precision)
        state = _push(state, int(q_start[x, z]), int(q_freq[x, z]), precision)  # bits back
        images.append(x)
    return images[::-1], state
