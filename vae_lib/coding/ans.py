r"""Asymmetric numeral systems: a message as a stack of symbols, coded in bounded integers.

rANS (Duda 2013), the coder of BB-ANS (Townsend et al. 2019). A symbol s of a distribution
quantized to integer frequencies out of 2^P — it occupies the interval
[start_s, start_s + freq_s) of [0, 2^P) — is *pushed* onto the state h by

.. math:: h \leftarrow \lfloor h / f_s \rfloor \, 2^P + (h \bmod f_s) + c_s ,

which makes h about log2(2^P / f_s) bits longer, and *popped* by reading the slot
h mod 2^P, finding the symbol whose interval holds it, and inverting the push exactly. A
message is a stack: the last symbol pushed is the first popped.

The state is kept bounded: the *head*
h stays in [2^64, 2^96), and 32-bit words move between it and the *tail*, a list of words,
whenever a push would take h past 2^96 (the push first moves the low word of h to the tail)
or a pop leaves h below 2^64 (the pop moves the tail's last word back). A push with
h < f_s 2^(96−P) needs no word, and one with h ≥ f_s 2^(96−P) needs exactly one, so
pushes and pops stay exact inverses for any precision P from 1 to 32. The floor in the
push loses at most log2(1 + f_s / h) bits, where h ≥ f_s 2^(64−P) (after a word moves out,
h ≥ f_s 2^(96−P) / 2^32), so f_s / h ≤ 2^(P−64) ≤ 2^-32: this is why the head is wider than
the 2^P of the tables. Each push and pop takes constant time, so coding is linear in the
number of symbols (on one unbounded integer it would be quadratic).

Popping needs bits to be there: a message whose tail runs out before a pop that needs a
word raises :class:`MessageExhausted`, never returns a made-up symbol.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import describe_value

#: The head holds between HEAD_BITS - WORD_BITS + 1 and HEAD_BITS bits, in HEAD_WORDS words.
HEAD_BITS = 96
WORD_BITS = 32
HEAD_WORDS = HEAD_BITS // WORD_BITS
_HEAD_LOW = 1 << (HEAD_BITS - WORD_BITS)
_WORD_MASK = (1 << WORD_BITS) - 1
#: The largest precision of a frequency table.
MAX_PRECISION = 32


class MessageExhausted(ValueError):
    """A pop needed more bits than the message holds."""


def check_precision(precision) -> int:
    """``precision`` as an int from 1 to :data:`MAX_PRECISION`, else a clear error."""
    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)):
        raise TypeError(
            f"precision must be an integer number of bits; got {describe_value(precision)}"
        )
    if not 1 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be from 1 to {MAX_PRECISION} bits; got {precision}")
    return int(precision)


class Message:
    """A stack of symbols coded with rANS: a head in [2^64, 2^96) and a tail of 32-bit words.

    ``Message()`` is the empty message, the head at 2^64 and no tail: it can be pushed onto
    but holds nothing to pop. A coder that must pop first (bits-back coding draws its first
    code from the message) starts from :func:`random_message` instead.
    """

    def __init__(self):
        self.head = _HEAD_LOW
        self.tail: list[int] = []

    # ------------------------------------------------------------------ size
    def bit_length(self) -> int:
        """The message's length in bits: that of the integer head · 2^(32 T) + tail."""
        return WORD_BITS * len(self.tail) + self.head.bit_length()

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and (self.head, self.tail) == (other.head, other.tail)

    def __repr__(self) -> str:
        return f"Message({self.bit_length()} bits)"

    def copy(self) -> Message:
        out = Message()
        out.head, out.tail = self.head, list(self.tail)
        return out

    # ------------------------------------------------------------------ coding
    def push(self, start: int, freq: int, precision: int) -> None:
        """Push the symbol occupying [start, start + freq) of [0, 2^precision).

        The arguments are trusted Python ints (the callers build them from checked
        tables); :meth:`push_checked` checks them first.
        """
        head = self.head
        if head >= freq << (HEAD_BITS - precision):
            self.tail.append(head & _WORD_MASK)
            head >>= WORD_BITS
        self.head = ((head // freq) << precision) + head % freq + start

    def push_checked(self, start, freq, precision) -> None:
        """:meth:`push`, with the interval checked to lie in [0, 2^precision) and be
        non-empty."""
        precision = check_precision(precision)
        for name, value in (("start", start), ("freq", freq)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an integer; got {describe_value(value)}")
        start, freq = int(start), int(freq)
        if start < 0 or freq < 1 or start + freq > 1 << precision:
            raise ValueError(
                f"a symbol must occupy a non-empty interval [start, start + freq) of "
                f"[0, 2^{precision}); got start={start}, freq={freq}"
            )
        self.push(start, freq, precision)

    def peek(self, precision: int) -> int:
        """The slot the next pop at ``precision`` reads: the head's low ``precision`` bits."""
        return self.head & ((1 << precision) - 1)

    def pop_interval(self, start: int, freq: int, precision: int) -> None:
        """Finish a pop whose symbol, occupying [start, start + freq), the caller found from
        :meth:`peek`: undo that symbol's push."""
        head = freq * (self.head >> precision) + self.peek(precision) - start
        if head < _HEAD_LOW:
            if not self.tail:
                raise MessageExhausted(
                    "the message is exhausted: a pop needs more bits than it holds (a "
                    "message decoded past its start, or one that was cut short)"
                )
            head = (head << WORD_BITS) | self.tail.pop()
        self.head = head

    def push_uniform(self, symbol: int, precision: int) -> None:
        """Push one of 2^precision equally likely symbols: exactly ``precision`` bits."""
        self.push(symbol, 1, precision)

    def pop_uniform(self, precision: int) -> int:
        """Pop one of 2^precision equally likely symbols."""
        symbol = self.peek(precision)
        self.pop_interval(symbol, 1, precision)
        return symbol

    # ------------------------------------------------------------------ as words
    def to_words(self) -> np.ndarray:
        """The message as uint32 words: the tail, then the head's words, low first."""
        head = [(self.head >> (WORD_BITS * i)) & _WORD_MASK for i in range(HEAD_WORDS)]
        return np.array(self.tail + head, dtype=np.uint32)

    @classmethod
    def from_words(cls, words) -> Message:
        """The message :meth:`to_words` gave; refuses words that no message gives."""
        words = _check_words(words)
        if len(words) < HEAD_WORDS or int(words[-1]) == 0:
            raise ValueError(
                f"a message ends with its head, {HEAD_WORDS} words whose highest is not 0; got "
                f"{len(words)} words" + (f" ending in {int(words[-1])}" if len(words) else "")
            )
        out = cls()
        head = words[-HEAD_WORDS:].tolist()
        out.head = sum(int(w) << (WORD_BITS * i) for i, w in enumerate(head))
        out.tail = [int(w) for w in words[:-HEAD_WORDS]]
        return out


def _check_words(words) -> np.ndarray:
    a = np.asarray(words)
    if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"words must be a 1-D sequence of integers; got {describe_value(words)}")
    if a.size and (a.min() < 0 or a.max() > _WORD_MASK):
        raise ValueError(
            f"words must be 32-bit unsigned integers; got values from {a.min()} to {a.max()}"
        )
    return a


def random_message(n_words: int, rng: np.random.Generator) -> Message:
    """A message of ``n_words`` random 32-bit words (at least the head's 3), its head's top
    bit set: the "initial bits" a bits-back coder borrows for its first draws. Every bit a
    pop reads from it, the head's included, is random."""
    if (
        isinstance(n_words, bool)
        or not isinstance(n_words, (int, np.integer))
        or n_words < HEAD_WORDS
    ):
        raise ValueError(
            f"n_words must be an integer of at least {HEAD_WORDS}; got {describe_value(n_words)}"
        )
    words = rng.integers(0, 1 << WORD_BITS, size=int(n_words), dtype=np.uint32)
    words[-1] |= np.uint32(1 << (WORD_BITS - 1))
    return Message.from_words(words)


# ---------------------------------------------------------------------- frequency tables
def quantize(probs, precision: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer frequencies for each row of ``probs``: each at least 1, summing to 2^precision.

    The floor of p · 2^P, raised to 1 where it is 0; the rounding error goes to each row's
    most probable symbol, which can best absorb it.

    Parameters
    ----------
    probs : ndarray (..., S), rows of probabilities

    Returns
    -------
    starts, freqs : int64 arrays of the shape of ``probs``
        ``starts`` is the cumulative sum of ``freqs`` before each entry.
    """
    precision = check_precision(precision)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 0 or probs.shape[-1] > 1 << precision:
        raise ValueError(
            f"probs must have a last axis of at most 2^{precision} symbols; got shape {probs.shape}"
        )
    if (
        not np.all(np.isfinite(probs))
        or np.any(probs < 0)
        or np.any(np.abs(probs.sum(-1) - 1) > 1e-9)
    ):
        raise ValueError("probs must be rows of finite non-negative probabilities summing to 1")
    total = 1 << precision
    freqs = np.maximum(1, np.floor(probs * total)).astype(np.int64)
    rows = freqs.reshape(-1, freqs.shape[-1])
    biggest = np.argmax(rows, axis=1)
    rows[np.arange(len(rows)), biggest] += total - rows.sum(axis=1)
    if np.any(rows <= 0):
        raise ValueError(f"probs has too many tiny entries to quantize at {precision} bits")
    return np.cumsum(freqs, axis=-1) - freqs, freqs


def push_table(
    message: Message, symbol: int, starts: np.ndarray, freqs: np.ndarray, precision: int
):
    """Push ``symbol`` with one row of :func:`quantize`'s table."""
    message.push(int(starts[symbol]), int(freqs[symbol]), precision)


def pop_table(message: Message, starts: np.ndarray, freqs: np.ndarray, precision: int) -> int:
    """Pop a symbol with one row of :func:`quantize`'s table."""
    slot = message.peek(precision)
    symbol = int(np.searchsorted(starts, slot, side="right")) - 1
    message.pop_interval(int(starts[symbol]), int(freqs[symbol]), precision)
    return symbol
