import numpy as np
import pytest

from vae_lib.coding.ans import random_message
from vae_lib.coding.bits_back import BitsBackCoder, bernoulli_frequencies
from vae_lib.models.cvae import CVAE, CVAEConfig
from vae_lib.models.flows import AFPriorConfig, AFPriorVAE
from vae_lib.models.vae import VAE, VAEConfig


@pytest.mark.parametrize("which", ["vae", "vlae"])
def test_a_chain_of_images_decodes_bit_exact_and_returns_the_borrowed_bits(which, request, images):
    coder = BitsBackCoder(request.getfixturevalue(which))
    message = random_message(6, np.random.default_rng(5))
    start = message.copy()
    lengths = coder.encode(images, message)
    assert len(lengths) == len(images)
    decoded = coder.decode(len(images), message)
    np.testing.assert_array_equal(decoded, images)
    assert message == start


@pytest.mark.parametrize("which", ["vae", "vlae"])
def test_each_image_costs_minus_the_elbo_on_average(which, request, images):
    model = request.getfixturevalue(which)
    coder = BitsBackCoder(model)
    message = random_message(6, np.random.default_rng(6))
    lengths = np.diff([message.bit_length(), *coder.encode(images, message)])
    terms = model.elbo(images.astype(np.float32), np.random.default_rng(7), n_samples=200)
    neg_elbo_bits = -terms.elbo / np.log(2)
    # each image's cost is random (the code drawn); compare the mean with 4 standard errors,
    # plus a bit per image for the rounding of the length and the discretisation
    excess = lengths - neg_elbo_bits
    se = excess.std(ddof=1) / np.sqrt(len(excess))
    assert abs(excess.mean()) < 4 * se + 0.2


def test_the_autoregressive_coder_decodes_in_wavefront_order(vlae, images):
    """The receiver's logits come from pixels it has decoded: a wrong pixel before pixel i
    changes pixel i's frequency, so a coder that read ahead would fail the round trip."""
    coder = BitsBackCoder(vlae)
    assert coder.autoregressive and len(coder.plan.steps) < 16
    z = coder.code_of([3, 1, 4])
    message = random_message(4, np.random.default_rng(8))
    coder.push_pixels(message, images[0], z)
    np.testing.assert_array_equal(coder.pop_pixels(message, z), images[0])


def test_the_trace_has_one_length_per_pop_and_push(vae, images):
    coder = BitsBackCoder(vae)
    message = random_message(6, np.random.default_rng(9))
    trace = []
    coder.push_image(message, images[0], trace)
    assert len(trace) == 3 + 16 + 3 and trace[-1] == message.bit_length()
    # the prior pushes cost exactly the latent bits each
    assert np.all(np.diff(trace[-4:]) == coder.buckets.bits)


def test_bernoulli_frequencies_keep_both_values_codable():
    f = bernoulli_frequencies(np.array([-1e4, 0.0, 1e4, np.float32(3.0)]), 8)
    assert f == [1, 128, 255, round(256 / (1 + np.exp(-3.0)))]


def test_models_and_images_it_cannot_code_are_refused(vae, images):
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="Gaussian posterior and the N\\(0, I\\) prior"):
        BitsBackCoder(AFPriorVAE(AFPriorConfig(input_dim=4, hidden_dims=(3,), latent_dim=2), rng))
    with pytest.raises(TypeError, match="no label"):
        BitsBackCoder(
            CVAE(CVAEConfig(input_dim=4, hidden_dims=(3,), latent_dim=2, n_classes=2), rng)
        )
    with pytest.raises(ValueError, match="Bernoulli decoder"):
        BitsBackCoder(
            VAE(VAEConfig(input_dim=4, hidden_dims=(3,), latent_dim=2, likelihood="gaussian"), rng)
        )
    with pytest.raises(TypeError, match="got 'vae'"):
        BitsBackCoder("vae")
    coder = BitsBackCoder(vae)
    message = random_message(6, rng)
    with pytest.raises(ValueError, match="binary images"):
        coder.encode(images * 0.5, message)
    with pytest.raises(ValueError, match="16 pixels per image"):
        coder.encode(images[:, :8], message)
    with pytest.raises(ValueError, match="n must be"):
        coder.decode(0, message)


@pytest.mark.parametrize("which", ["vae", "vlae"])
def test_expected_lengths_match_the_elbo_and_the_coder(which, request, images):
    model = request.getfixturevalue(which)
    coder = BitsBackCoder(model, latent_bits=6, posterior_precision=16)
    lengths = coder.expected_lengths(images, np.random.default_rng(10), n_samples=50)
    np.testing.assert_allclose(lengths["neg_elbo"], lengths["recon"] + lengths["kl"])
    elbo = model.elbo(images.astype(np.float32), np.random.default_rng(11), n_samples=200)
    np.testing.assert_allclose(lengths["kl"], elbo.kl / np.log(2), rtol=1e-5)
    gap = lengths["neg_elbo"] + elbo.elbo / np.log(2)
    assert abs(gap.mean()) < 4 * gap.std(ddof=1) / np.sqrt(len(gap)) + 1e-3
    # the discretised KL is the KL of the buckets: never above the continuous one on average
    assert lengths["kl_discrete"].mean() <= lengths["kl"].mean() + 0.05
    # and the coder's rate is the discretised model's code length
    message = random_message(20, np.random.default_rng(12))
    cost = np.diff([message.bit_length(), *coder.encode(images, message)])
    excess = cost - lengths["neg_elbo_discrete"]
    assert abs(excess.mean()) < 4 * excess.std(ddof=1) / np.sqrt(len(excess)) + 0.05
