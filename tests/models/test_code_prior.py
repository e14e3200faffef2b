import itertools

import numpy as np
import pytest

from vae_lib.models.code_prior import AutoregressiveCodePrior, code_made_masks
from vae_lib.testing import assert_gradient


@pytest.fixture
def prior():
    return AutoregressiveCodePrior(3, 4, (6,), np.random.default_rng(0))


def all_strings(n_positions, codebook_size):
    return np.array(list(itertools.product(range(codebook_size), repeat=n_positions)))


def test_it_is_a_distribution_over_all_strings(prior):
    total = np.exp(prior.log_prob(all_strings(3, 4))).sum()
    assert total == pytest.approx(1.0, abs=1e-12)


def test_position_l_reads_only_the_codes_before_it(prior):
    """Perturbation: changing the code at position m leaves the logits of positions ≤ m."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, size=(20, 3))
    base = prior.logits(codes)
    for m in range(3):
        changed = codes.copy()
        changed[:, m] = (changed[:, m] + 1) % 4
        moved = np.abs(prior.logits(changed) - base).max(axis=(0, 2))
        assert np.all(moved[: m + 1] == 0) and np.all(moved[m + 1 :] > 0)
    masks = code_made_masks(3, 4, (6,))
    # position 0's logits read nothing: their column of the output mask is empty
    assert not masks[-1][:, :4].any()


def test_gradients_match_finite_differences(prior):
    codes = np.random.default_rng(2).integers(0, 4, size=(7, 3))
    prior.loss_and_grads(codes)
    for p, g, name in zip(prior.params, prior.grads, ["0.W", "0.b", "1.W", "1.b"]):

        def loss():
            return -prior.log_prob(codes).mean()

        assert_gradient(g.copy(), loss, p, name)


def test_it_learns_a_dependence_the_independent_prior_cannot():
    rng = np.random.default_rng(3)
    first = rng.integers(0, 4, size=600)
    codes = np.stack([first, (first + 1) % 4, rng.integers(0, 4, size=600)], axis=1)
    prior = AutoregressiveCodePrior(3, 4, (16,), np.random.default_rng(4))
    history = prior.fit(codes[:500], codes[500:], np.random.default_rng(5), lr=1e-2)
    # the second code is a function of the first: about log 4 + 0 + log 4 nats per string
    assert history["held_out"][-1] == pytest.approx(2 * np.log(4), abs=0.15)
    samples = prior.sample(2000, np.random.default_rng(6))
    assert np.mean(samples[:, 1] == (samples[:, 0] + 1) % 4) > 0.95


def test_samples_follow_the_probabilities(prior):
    samples = prior.sample(20_000, np.random.default_rng(7))
    strings = all_strings(3, 4)
    index = samples @ np.array([16, 4, 1])
    share = np.bincount(index, minlength=64) / len(samples)
    p = np.exp(prior.log_prob(strings))
    assert np.all(np.abs(share - p) < 4.5 * np.sqrt(p * (1 - p) / len(samples)) + 1e-4)


def test_bad_codes_are_refused(prior):
    with pytest.raises(ValueError, match="must lie in 0 to 3"):
        prior.log_prob(np.array([[0, 1, 4]]))
    with pytest.raises(ValueError, match="shape \\(N, 3\\)"):
        prior.log_prob(np.array([[0, 1]]))
    with pytest.raises(TypeError, match="integer codes"):
        prior.log_prob(np.array([[0.5, 1, 2]]))
    with pytest.raises(ValueError, match="n must be"):
        prior.sample(0, np.random.default_rng(0))
