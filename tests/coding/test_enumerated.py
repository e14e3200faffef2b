import numpy as np
import pytest

from vae_lib.coding.ans import Message, MessageExhausted, quantize, random_message
from vae_lib.coding.enumerated import bits_back_decode, bits_back_encode
from vae_lib.toys.bits_back import bits_back_account, factorized_mixture, tempered_encoder


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    return factorized_mixture(rng.dirichlet(np.ones(4)), rng.uniform(0.05, 0.95, size=(4, 5)))


def images_from(model, n, seed):
    p = np.exp(model.log_evidence())
    return np.random.default_rng(seed).choice(p.size, size=n, p=p)


def initial_state(seed, words=3):
    return random_message(words, np.random.default_rng(seed))


def test_quantize_gives_positive_frequencies_that_fill_the_range():
    probs = np.array([[0.5, 0.5 - 1e-12, 1e-12], [1.0, 0.0, 0.0]])
    starts, freqs = quantize(probs, precision=16)
    assert np.all(freqs >= 1) and np.all(freqs.sum(axis=1) == 2**16)
    np.testing.assert_array_equal(starts[:, 0], 0)
    np.testing.assert_array_equal(starts[:, 1:], np.cumsum(freqs, axis=1)[:, :-1])
    with pytest.raises(ValueError, match="at most 2\\^1 symbols"):
        quantize(np.full(4, 0.25), precision=1)


@pytest.mark.parametrize("t", [0.0, 0.4, 1.0])
def test_decoding_returns_the_images_and_the_initial_message(model, t):
    q = tempered_encoder(model, t)
    images = images_from(model, 300, seed=1)
    start = initial_state(2)
    message = bits_back_encode(model, q, images, start.copy())
    decoded = bits_back_decode(model, q, len(images), message)
    assert decoded == list(images)
    assert message == start  # the receiver gave every borrowed bit back


def test_with_the_exact_posterior_each_image_costs_minus_log2_p_x(model):
    images = images_from(model, 2000, seed=3)
    start = initial_state(4)
    message = bits_back_encode(model, model.posterior(), images, start.copy())
    ideal = -np.sum(model.log_evidence()[images]) / np.log(2)
    # every draw of z costs exactly -log2 p(x) net; rounding to 2^-32 and the last bit of
    # the length add at most a few bits in all
    assert abs(message.bit_length() - start.bit_length() - ideal) < 3


def test_the_measured_length_is_minus_the_elbo_on_average(model):
    q = tempered_encoder(model, 0.3)
    images = images_from(model, 4000, seed=5)
    start = initial_state(6)
    message = bits_back_encode(model, q, images, start.copy())
    net = bits_back_account(model, q).in_bits().net[images]
    per_image = (message.bit_length() - start.bit_length()) / len(images)
    # the draws of z make the length random: its variance is the sum over images of the
    # variance of -log2 p(z) - log2 p(x|z) + log2 q(z|x) under z ~ q(z|x)
    cost = -(model.log_joint() - np.log(q)) / np.log(2)  # (2^D, M)
    variance = np.sum(q * cost**2, axis=1) - np.sum(q * cost, axis=1) ** 2
    standard_error = np.sqrt(np.sum(variance[images])) / len(images)
    assert abs(per_image - net.mean()) < 4 * standard_error + 1e-3


def test_coder_refuses_bad_input(model):
    q = tempered_encoder(model, 0.5)
    with pytest.raises(TypeError, match="message must be a vae_lib.coding.ans.Message"):
        bits_back_encode(model, q, [0], 2**64)
    with pytest.raises(ValueError, match="images must be indices from 0 to 31"):
        bits_back_encode(model, q, [32], initial_state(0))
    with pytest.raises(TypeError, match="integer image indices"):
        bits_back_encode(model, q, [2.7], initial_state(0))
    with pytest.raises(ValueError, match="q must have shape"):
        bits_back_decode(model, q[:, :2] / q[:, :2].sum(axis=1, keepdims=True), 1, Message())
    with pytest.raises(TypeError, match="model must be a DiscreteLatentModel"):
        bits_back_encode("model", q, [0], initial_state(0))


def test_decoding_more_images_than_the_message_holds_runs_out_instead_of_inventing_them(model):
    q = tempered_encoder(model, 0.5)
    message = bits_back_encode(model, q, images_from(model, 5, seed=7), initial_state(8))
    with pytest.raises(MessageExhausted, match="exhausted"):
        bits_back_decode(model, q, 10_000_000, message)
