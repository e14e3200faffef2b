import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_lib.coding.ans import random_message
from vae_lib.coding.latents import PriorBuckets, standard_normal_cdf

SETTINGS = settings(max_examples=60, deadline=None, database=None, derandomize=True)


def test_buckets_have_equal_prior_mass_and_centres_inside():
    buckets = PriorBuckets(6, 20)
    n = buckets.n_buckets
    cdf = np.array([standard_normal_cdf(e) for e in buckets.edges])
    np.testing.assert_allclose(cdf, np.arange(n + 1) / n, atol=1e-12)
    edges = np.array(buckets.edges)
    assert np.all((edges[:-1] < buckets.centres) & (buckets.centres < edges[1:]))
    np.testing.assert_array_equal(buckets.bucket_of(buckets.centres), np.arange(n))


def test_cdf_matches_the_standard_library_and_stays_accurate_in_the_left_tail():
    for t in (-3.0, -1.3, 0.0, 0.4, 6.5):
        assert math.isclose(standard_normal_cdf(t), NormalDist().cdf(t), rel_tol=1e-12)
    # Φ(-8) = 6.220960574271785e-16, where 1 + erf(t / √2) keeps only two digits
    assert math.isclose(standard_normal_cdf(-8.0), 6.220960574271785e-16, rel_tol=1e-12)


@SETTINGS
@given(
    st.lists(st.floats(-6, 6), min_size=1, max_size=5),
    st.lists(st.floats(1e-4, 5), min_size=5, max_size=5),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
)
def test_posterior_pop_then_push_restores_the_message(mus, sigmas, bits, seed):
    buckets = PriorBuckets(bits, bits + 12)
    mu, sigma = np.array(mus), np.array(sigmas[: len(mus)])
    message = random_message(8, np.random.default_rng(seed))
    start = message.copy()
    drawn = buckets.pop_posterior(message, mu, sigma)
    assert all(0 <= b < buckets.n_buckets for b in drawn)
    buckets.push_posterior(message, drawn, mu, sigma)
    assert message == start


def test_every_bucket_gets_a_frequency_and_they_fill_the_range():
    buckets = PriorBuckets(4, 12)
    for mu, sigma in ((0.0, 1.0), (3.0, 0.01), (-9.0, 0.5)):
        intervals = [buckets.posterior_interval(b, mu, sigma) for b in range(16)]
        starts, freqs = np.array(intervals).T
        assert np.all(freqs >= 1) and starts[0] == 0 and starts[-1] + freqs[-1] == 2**12
        np.testing.assert_array_equal(starts[1:], (starts + freqs)[:-1])


def test_popped_buckets_follow_the_posterior_and_the_mass_matches_monte_carlo():
    buckets = PriorBuckets(3, 20)
    mu, sigma = np.array([0.8]), np.array([0.6])
    log_mass = buckets.posterior_log_mass(np.arange(8), 0.8, 0.6)
    assert math.isclose(np.exp(log_mass).sum(), 1.0, rel_tol=1e-12)
    draws = np.random.default_rng(3).normal(0.8, 0.6, 200_000)
    share = np.bincount(buckets.bucket_of(draws), minlength=8) / len(draws)
    np.testing.assert_allclose(share, np.exp(log_mass), atol=4 * np.sqrt(0.25 / len(draws)))
    # popping from random bits draws buckets with those probabilities
    rng = np.random.default_rng(4)
    popped = [buckets.pop_posterior(random_message(4, rng), mu, sigma)[0] for _ in range(4000)]
    share = np.bincount(popped, minlength=8) / len(popped)
    np.testing.assert_allclose(share, np.exp(log_mass), atol=4 * np.sqrt(0.25 / len(popped)))


def test_log_mass_is_accurate_far_in_the_tails():
    buckets = PriorBuckets(2, 12)
    # bucket 3 is [0.674, inf): for a posterior at -20 with sigma 1, its mass is Φ(-20.67)
    log_mass = buckets.posterior_log_mass(np.array([3]), -20.0, 1.0)[0]
    assert math.isclose(log_mass, math.log(0.5 * math.erfc(20.6745 / math.sqrt(2))), rel_tol=1e-4)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="bits must be from 1 to 16"):
        PriorBuckets(17, 32)
    with pytest.raises(TypeError, match="bits must be an integer"):
        PriorBuckets(2.0, 12)
    with pytest.raises(ValueError, match="at least bits \\+ 4 = 16"):
        PriorBuckets(12, 14)
