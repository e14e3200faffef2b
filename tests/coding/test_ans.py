import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_lib.coding.ans import (
    MAX_PRECISION,
    Message,
    MessageExhausted,
    pop_table,
    push_table,
    quantize,
    random_message,
)

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True)


@st.composite
def distributions_and_messages(draw):
    """A few distributions quantized at a random precision, and symbols drawn from them."""
    precision = draw(st.integers(1, MAX_PRECISION))
    n_symbols = draw(st.integers(1, min(8, 1 << precision)))
    n_tables = draw(st.integers(1, 4))
    weights = draw(
        st.lists(
            st.lists(st.floats(0, 1), min_size=n_symbols, max_size=n_symbols).filter(
                lambda w: sum(w) > 0
            ),
            min_size=n_tables,
            max_size=n_tables,
        )
    )
    probs = np.array(weights) / np.sum(weights, axis=1, keepdims=True)
    starts, freqs = quantize(probs, precision)
    length = draw(st.integers(0, 300))
    tables = draw(st.lists(st.integers(0, n_tables - 1), min_size=length, max_size=length))
    symbols = [draw(st.integers(0, n_symbols - 1)) for _ in tables]
    initial = draw(st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=6))
    initial[-1] = max(initial[-1], 1)
    return precision, starts, freqs, tables, symbols, initial


@SETTINGS
@given(distributions_and_messages())
def test_pop_undoes_push_exactly(case):
    precision, starts, freqs, tables, symbols, initial = case
    message = Message.from_words(np.array(initial, dtype=np.uint32))
    start = message.copy()
    for t, s in zip(tables, symbols):
        push_table(message, s, starts[t], freqs[t], precision)
        assert 2**64 <= message.head < 2**96  # the head stays bounded
    popped = [pop_table(message, starts[t], freqs[t], precision) for t in reversed(tables)]
    assert popped[::-1] == symbols
    assert message == start


@SETTINGS
@given(distributions_and_messages())
def test_words_round_trip(case):
    precision, starts, freqs, tables, symbols, initial = case
    message = Message.from_words(np.array(initial, dtype=np.uint32))
    for t, s in zip(tables, symbols):
        push_table(message, s, starts[t], freqs[t], precision)
    words = message.to_words()
    assert words.dtype == np.uint32 and Message.from_words(words) == message
    assert message.bit_length() == 32 * (len(words) - 3) + message.head.bit_length()


def test_length_grows_by_the_information_content():
    rng = np.random.default_rng(0)
    p = np.array([0.7, 0.2, 0.1])
    starts, freqs = quantize(p, 16)
    symbols = rng.choice(3, size=20_000, p=p)
    message = Message()
    for s in symbols:
        push_table(message, s, starts, freqs, 16)
    information = -np.sum(np.log2(freqs[symbols] / 2**16))
    # the head starts at 2^64 (65 bits); rANS with a head of at least 2^64 loses under 2^-31
    # bits per symbol
    growth = message.bit_length() - 65
    assert information - 1 <= growth <= information + 1


def test_uniform_symbols_cost_their_precision_exactly():
    message = Message()
    for s in range(1000):
        message.push_uniform(s % 4096, 12)
    assert message.bit_length() == 65 + 12 * 1000
    assert [message.pop_uniform(12) for _ in range(1000)] == [s % 4096 for s in range(999, -1, -1)]


def test_popping_an_empty_message_raises_instead_of_inventing_symbols():
    message = random_message(4, np.random.default_rng(1))
    with pytest.raises(MessageExhausted, match="exhausted"):
        for _ in range(10):
            message.pop_uniform(32)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="32-bit unsigned"):
        Message.from_words([2**32, 1, 1])
    with pytest.raises(TypeError, match="1-D sequence of integers"):
        Message.from_words([0.5, 1.0, 1.0])
    with pytest.raises(ValueError, match="at least 3"):
        random_message(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="precision must be from 1 to 32"):
        quantize([0.5, 0.5], 33)
    with pytest.raises(TypeError, match="precision must be an integer"):
        quantize([0.5, 0.5], 8.0)
    with pytest.raises(ValueError, match="at most 2\\^1 symbols"):
        quantize([0.2, 0.3, 0.5], 1)
    with pytest.raises(ValueError, match="summing to 1"):
        quantize([0.5, np.nan], 8)
    with pytest.raises(ValueError, match="non-empty interval"):
        Message().push_checked(250, 10, 8)
    with pytest.raises(TypeError, match="start must be an integer"):
        Message().push_checked(1.5, 10, 8)
    with pytest.raises(ValueError, match="highest is not 0"):
        Message.from_words(np.array([5, 1, 0], dtype=np.uint32))
