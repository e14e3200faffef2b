import numpy as np
import pytest

from vae_lib.core.distributions import kl_standard_normal
from vae_lib.evaluation.aggregate_posterior import kl_split, log_aggregate_posterior


def test_the_aggregate_posterior_is_a_normalised_density():
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(7, 1)), rng.normal(-1, 0.5, size=(7, 1))
    z = np.linspace(-12, 12, 24001)[:, None]
    density = np.exp(log_aggregate_posterior(z, mu, logvar, chunk=1000))
    assert np.trapezoid(density, z[:, 0]) == pytest.approx(1.0, abs=1e-9)


def test_it_is_the_mean_of_the_example_densities():
    rng = np.random.default_rng(1)
    mu, logvar, z = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    densities = np.exp(
        -0.5 * np.sum(np.log(2 * np.pi) + logvar + (z[:, None] - mu) ** 2 / np.exp(logvar), -1)
    )
    np.testing.assert_allclose(
        np.exp(log_aggregate_posterior(z, mu, logvar, chunk=3)), densities.mean(axis=1)
    )


def test_identical_posteriors_carry_no_information():
    # every q(z|x) is the same Gaussian: q(z) is that Gaussian, I = 0, all KL is marginal
    mu, logvar = np.tile([[0.5, -1.0]], (50, 1)), np.tile([[-0.4, 0.3]], (50, 1))
    split = kl_split(mu, logvar, np.random.default_rng(2), n_samples=200)
    exact = float(kl_standard_normal(mu[:1], logvar[:1])[0])
    assert split.average_kl == pytest.approx(exact)
    assert split.mutual_information == pytest.approx(0.0, abs=1e-12)  # log q(z|x) = log q(z)
    assert split.marginal_kl == pytest.approx(exact)


def test_separated_posteriors_reach_the_ceiling_log_n():
    # four narrow Gaussians far apart: the code names the example, I = log 4
    mu = np.array([[-9.0, -9.0], [-9.0, 9.0], [9.0, -9.0], [9.0, 9.0]])
    logvar = np.full_like(mu, np.log(0.01))
    split = kl_split(mu, logvar, np.random.default_rng(3), n_samples=100)
    assert split.max_information == pytest.approx(np.log(4))
    assert split.mutual_information == pytest.approx(np.log(4), abs=1e-6)
    assert split.mutual_information_se < 1e-6


def test_information_is_between_zero_and_log_n_for_overlapping_posteriors():
    rng = np.random.default_rng(4)
    mu, logvar = rng.normal(size=(200, 2)), np.full((200, 2), np.log(0.3))
    split = kl_split(mu, logvar, rng, n_samples=20)
    assert 0 < split.mutual_information < split.max_information
    assert split.marginal_kl > 0
    assert split.average_kl == pytest.approx(split.mutual_information + split.marginal_kl)


def test_bad_input():
    with pytest.raises(ValueError, match="at least one example"):
        kl_split(np.zeros((0, 2)), np.zeros((0, 2)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="logvar"):
        log_aggregate_posterior(np.zeros((3, 2)), np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="z"):
        log_aggregate_posterior(np.zeros((3, 3)), np.zeros((4, 2)), np.zeros((4, 2)))
