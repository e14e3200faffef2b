"""What the chapter "A lossy code: what the decoder's window leaves to the code" says about its
numbers, read from the values the executed chapter glued."""

import numpy as np
import pytest
from executed import glued

KEYS = ("w0", "w1", "w2", "w3", "w5", "full")


@pytest.fixture(scope="module")
def g():
    return glued("vlae/lossy_code")


def test_setup(g):
    assert g["lossy-n-test"] == 1000
    assert g["lossy-n-models"] == 18  # six decoders, three seeds
    assert g["lossy-epochs"] == 20 and g["lossy-latent"] == 32 and g["lossy-k"] == 200
    assert g["lossy-centre-sees-w2"] == 12  # 2w(w + 1) at w = 2


def test_every_bound_is_consistent(g):
    for key in KEYS:
        # ELBO = reconstruction - KL, and L_200 lies above the ELBO (same model, same images)
        assert g[f"lossy-elbo-{key}"] == pytest.approx(
            g[f"lossy-recon-{key}"] - g[f"lossy-kl-{key}"], abs=1e-6
        )
        assert g[f"lossy-lk-{key}"] > g[f"lossy-elbo-{key}"]
        assert g[f"lossy-kl-{key}"] > 0
        for term in ("kl", "recon", "elbo", "lk"):
            assert 0 < g[f"lossy-{term}-se-{key}"] < 2.0
        # the first seed's KL is one of the three the range reports
        assert g[f"lossy-kl-min-{key}"] <= g[f"lossy-kl-{key}"] <= g[f"lossy-kl-max-{key}"]


def test_the_window_takes_information_out_of_the_code(g):
    # "cuts that to ...; larger windows take a little more, down to ... with the full context"
    assert g["lossy-kl-w1"] < g["lossy-kl-w0"] - 10 * g["lossy-kl-se-w0"]
    assert g["lossy-kl-full"] < g["lossy-kl-w1"]
    # "the first step is far beyond that spread"
    assert g["lossy-kl-first-step"] == pytest.approx(g["lossy-kl-w0"] - g["lossy-kl-w1"])
    assert g["lossy-kl-first-step"] > 3 * g["lossy-kl-spread-max"]
    # "the KL of one decoder varies by up to ... nats from seed to seed"
    spreads = [g[f"lossy-kl-max-{k}"] - g[f"lossy-kl-min-{k}"] for k in KEYS]
    assert g["lossy-kl-spread-max"] == pytest.approx(max(spreads))
    # "the mean over seeds still falls at every step ... but by steps of ... to ... nats,
    # comparable with the spread between seeds" (after the first)
    means = [g[f"lossy-kl-mean-{k}"] for k in KEYS]
    assert all(a > b for a, b in zip(means, means[1:]))
    steps = [a - b for a, b in zip(means[1:], means[2:])]
    assert g["lossy-kl-step-min"] == pytest.approx(min(steps))
    assert g["lossy-kl-step-max"] == pytest.approx(max(steps))
    assert g["lossy-kl-step-max"] < 2 * g["lossy-kl-spread-max"]
    # "the first seed ... happens to have the lowest KL of the three for every one of the
    # six decoders"
    assert g["lossy-n-windows"] == 6 and g["lossy-seed0-lowest"] == 6
    for key in KEYS:
        assert g[f"lossy-kl-{key}"] == pytest.approx(g[f"lossy-kl-min-{key}"])


def test_what_to_remember_fractions(g):
    # "falls by about a third (w = 1), and by about half with the full context"
    assert 0.2 < 1 - g["lossy-kl-w1"] / g["lossy-kl-w0"] < 0.45
    assert 0.35 < 1 - g["lossy-kl-full"] / g["lossy-kl-w0"] < 0.6
    # "a third to a half fewer nats" for the windowed decoders
    for key in KEYS[1:]:
        assert 0.25 < 1 - g[f"lossy-kl-{key}"] / g["lossy-kl-w0"] < 0.6


def test_the_model_gets_better(g):
    assert g["lossy-elbo-w1"] > g["lossy-elbo-w0"] + 2 * g["lossy-elbo-se-w0"]
    assert g["lossy-lk-w1"] > g["lossy-lk-w0"] + 2 * g["lossy-lk-se-w0"]


def test_the_code_keeps_the_digit(g):
    knn = [g[f"lossy-knn-{k}"] for k in KEYS]
    assert min(knn) > 80  # most neighbours share the digit, for every decoder
    assert max(knn) - min(knn) < 5  # and the windows barely change it


def test_lossy_reconstruction_counts(g):
    # "a decoder with a window leaves more to chance given the code"
    assert g["lossy-differ-w2"] > g["lossy-differ-w0"]
    assert g["lossy-differ-full"] > g["lossy-differ-w0"]
    # "all stay close to the input ... the windowed code holds it less exactly (its error is
    # the larger of the two)"
    assert 0 < g["lossy-layout-w0"] < g["lossy-layout-w2"] < 0.1
    # the yardsticks: another image of the same digit, the mean image, are farther away
    for ref in ("lossy-layout-other", "lossy-layout-mean"):
        assert g["lossy-layout-w2"] < g[ref] < 0.2


def test_sampling_times(g):
    assert g["lossy-n-timed"] == 100
    for key in (
        "lossy-sample-seconds-w0",
        "lossy-sample-seconds-w2",
        "lossy-sample-seconds-full",
        "lossy-elbo-seconds",
    ):
        assert 0 < g[key] < 60


def test_remedies_against_collapse(g):
    assert g["lossy-warmup"] == 10 and g["lossy-free-bits"] == 0.5
    assert g["lossy-free-bits-floor"] == pytest.approx(0.5 * 32)
    # "both remedies make the code carry more"
    assert g["lossy-kl-warmup"] > g["lossy-kl-full"]
    assert g["lossy-kl-free"] > g["lossy-kl-full"]
    # paired differences to the plain model are the differences of the means
    assert g["lossy-warm-diff"] == pytest.approx(
        g["lossy-elbo-warmup"] - g["lossy-elbo-full"], abs=1e-4
    )
    assert g["lossy-free-diff"] == pytest.approx(
        g["lossy-elbo-free"] - g["lossy-elbo-full"], abs=1e-4
    )
    # warm-up: "an ELBO higher by ... ± ...", small against the seed-to-seed spread
    assert g["lossy-warm-diff"] > 3 * g["lossy-warm-diff-se"] > 0
    assert g["lossy-warm-diff"] < 2 * g["lossy-elbo-seed-spread-full"]
    # free bits: "the ELBO falls"
    assert g["lossy-free-diff"] < -1.0 and g["lossy-free-diff"] < -5 * g["lossy-free-diff-se"]
    # "varies by ... nats over the three seeds"
    assert 0 < g["lossy-elbo-seed-spread-full"] < 3
    # no collapse with the full context: the code still carries nats
    assert g["lossy-kl-full"] > 5


def test_the_page_stays_within_its_budget(g):
    assert np.isfinite(g["lossy-chapter-seconds"]) and g["lossy-chapter-seconds"] > 0
