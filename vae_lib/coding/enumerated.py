r"""A bits-back coder for the enumerable models of :mod:`vae_lib.toys.bits_back`.

It codes a sequence of images, each given as its index among all 2^D binary images, onto
one :class:`~vae_lib.coding.ans.Message` with the exact tables of the model: the smallest
complete BB-ANS (Townsend et al. 2019). For one image x (chapter "Bits-back coding", eq.
``bits-back-account``):

- the sender *pops* a code z with q(z|x): this chooses z at random from q, using bits of
  the message as the randomness, and shortens the message by about −log2 q(z|x) bits;
- then pushes x with p(x|z) and z with p(z), about −log2 p(x|z) − log2 p(z) bits;
- the receiver pops z with p(z) and x with p(x|z), then, knowing x, pushes z back with
  q(z|x), which restores the bits the sender took: the bits back.

Probabilities are rounded to integer frequencies out of 2^P, each at least 1, so that every
symbol can be coded; with P = 32 the rounding costs a negligible fraction of a bit.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_positive_int, describe_value
from ..toys.bits_back import DiscreteLatentModel, check_discrete_model, check_encoder
from .ans import MAX_PRECISION, Message, pop_table, push_table, quantize

#: Bits of precision of the coder's frequencies: probabilities are multiples of 2^-32.
PRECISION = MAX_PRECISION


def _tables(model: DiscreteLatentModel, q, precision: int):
    model = check_discrete_model(model)
    q = check_encoder(q, model)
    prior = quantize(np.exp(model.log_prior), precision)
    likelihood = quantize(np.exp(model.log_likelihood), precision)  # rows z, over images
    encoder = quantize(q, precision)  # rows x, over codes
    return prior, likelihood, encoder


def check_message(message) -> Message:
    if not isinstance(message, Message):
        raise TypeError(
            f"message must be a vae_lib.coding.ans.Message; got {describe_value(message)}"
        )
    return message


def check_image_indices(images, n_images: int) -> list[int]:
    """``images`` as a list of ints if they are integers from 0 to n_images − 1."""
    a = np.asarray(images)
    if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
        raise TypeError(
            f"images must be a 1-D sequence of integer image indices; got {describe_value(images)}"
        )
    if a.size and (a.min() < 0 or a.max() >= n_images):
        raise ValueError(
            f"images must be indices from 0 to {n_images - 1}; got values from {a.min()} to "
            f"{a.max()}"
        )
    return a.tolist()


def bits_back_encode(
    model: DiscreteLatentModel, q, images, message: Message, precision: int = PRECISION
) -> Message:
    r"""Append the images, one after the other, to ``message`` by bits-back coding.

    Parameters
    ----------
    model : DiscreteLatentModel
    q : ndarray, shape (2^D, M)
        The encoder q(z|x) for every image.
    images : sequence of int
        Images as indices into :func:`~vae_lib.toys.bits_back.all_binary_images`.
    message : Message
        The message so far, changed in place; it must hold enough bits for the first pop
        of a code (:func:`~vae_lib.coding.ans.random_message`: BB-ANS's "initial bits").

    Returns
    -------
    Message, ``message`` itself; its length in bits is ``message.bit_length()``
    """
    (p_start, p_freq), (l_start, l_freq), (q_start, q_freq) = _tables(model, q, precision)
    message = check_message(message)
    for x in check_image_indices(images, l_start.shape[1]):
        z = pop_table(message, q_start[x], q_freq[x], precision)  # the sender takes bits
        message.push(int(l_start[z, x]), int(l_freq[z, x]), precision)
        push_table(message, z, p_start, p_freq, precision)
    return message


def bits_back_decode(
    model: DiscreteLatentModel, q, n: int, message: Message, precision: int = PRECISION
) -> list[int]:
    """Take ``n`` images off ``message`` (changed in place), undoing :func:`bits_back_encode`
    exactly: the images in the order they were encoded. A message that holds fewer raises
    :class:`~vae_lib.coding.ans.MessageExhausted` once its bits run out.
    """
    (p_start, p_freq), (l_start, l_freq), (q_start, q_freq) = _tables(model, q, precision)
    message, n = check_message(message), check_positive_int(n, "n")
    images = []
    for _ in range(n):
        z = pop_table(message, p_start, p_freq, precision)
        x = pop_table(message, l_start[z], l_freq[z], precision)
        push_table(message, z, q_start[x], q_freq[x], precision)  # bits back
        images.append(x)
    return images[::-1]
