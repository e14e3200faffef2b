"""What the chapter "A first VAE" says about its numbers, checked on the numbers it shows."""

import math

import pytest
from executed import glued


@pytest.fixture(scope="module")
def g():
    return glued("first_vae")


def test_untrained_loss_is_about_log2_per_pixel(g):
    # "each pixel costs about log 2 nats" for 16 pixels, plus a KL "close to zero"
    assert g["first-loss-before"] == pytest.approx(16 * math.log(2), rel=0.05)


def test_training_raises_the_elbo_and_the_kl(g):
    assert g["first-elbo-final"] > g["first-elbo-first"] + 5
    assert g["first-kl-final"] > 0.5 and g["first-kl-eval"] > 0.5  # "it rises"
    # the evaluated ELBO is recon - KL, and close to the last epoch's (noisy) average
    assert g["first-elbo-eval"] == pytest.approx(g["first-recon-eval"] - g["first-kl-eval"])
    assert abs(g["first-elbo-eval"] - g["first-elbo-final"]) < 1.0
    assert 0 < g["first-elbo-eval-se"] < 0.5
    # "a code that tells four equally common kinds apart carries about log 4 nats"
    assert g["first-kl-eval"] > 0.9 * math.log(4)
    assert g["first-loss-after"] < g["first-loss-before"] / 2


def test_reconstruction_respects_its_ceiling(g):
    assert g["first-recon-ceiling"] < 0
    assert g["first-recon-eval"] <= g["first-recon-ceiling"]


def test_reconstructions_match_their_inputs(g):
    assert g["first-mse-trained"] < 0.01
    assert g["first-mse-ratio"] > 20
    assert g["first-mse-ratio"] == pytest.approx(g["first-mse-untrained"] / g["first-mse-trained"])


def test_latent_clusters_separate(g):
    assert g["first-acc-after"] >= 95
    # "the noise swamps the tiny differences" before training, not after
    assert g["first-acc-sampled-before"] < 60
    assert g["first-acc-sampled-after"] >= 90


def test_posterior_shrinks(g):
    assert g["first-sigma-after"] < 0.75  # "shrunk ... (the prior's are 1)"
