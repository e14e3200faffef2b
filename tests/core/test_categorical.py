"""Categorical codes: every function refuses what is not a code, instead of wrapping a -1 to
the last code, returning the wrong shape or a NaN."""

import numpy as np
import pytest

from vae_lib.core.categorical import (
    categorical_log_prob,
    check_codes,
    code_perplexity,
    fit_categorical_prior,
    one_hot,
)


def test_one_hot_and_check_codes():
    codes = check_codes([2, 0, 1], 3)
    assert np.array_equal(one_hot(codes, 3), np.eye(3)[[2, 0, 1]])
    with pytest.raises(TypeError, match="integer codes 0 to 2; got dtype float"):
        check_codes([0.0, 1.0], 3)
    with pytest.raises(TypeError, match="got dtype bool"):
        check_codes([True], 3)


def test_a_prior_of_codes_outside_the_codebook_is_refused():
    with pytest.raises(ValueError, match="codes must lie in 0 to 2; got 0 to 3"):
        fit_categorical_prior(np.array([[0, 3]]), 3)
    with pytest.raises(ValueError, match="alpha must be a finite number of at least 0"):
        fit_categorical_prior(np.array([[0, 1]]), 3, alpha=-1)
    log_p = fit_categorical_prior(np.array([[0, 1], [0, 2]]), 3, alpha=1.0)
    assert log_p.shape == (2, 3) and np.allclose(np.exp(log_p).sum(axis=1), 1.0)
    assert log_p[0, 0] == pytest.approx(np.log(3 / 5))


def test_a_code_of_minus_one_does_not_wrap_to_the_last():
    log_p = np.log(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="got -1 to 0"):
        categorical_log_prob(np.array([[-1, 0]]), log_p)
    with pytest.raises(ValueError, match="codes have 3 positions but log_probs 2"):
        categorical_log_prob(np.array([[0, 0, 0]]), log_p)
    assert categorical_log_prob(np.array([[0, 2]]), log_p)[0] == pytest.approx(2 * np.log(1 / 3))


def test_perplexity_refuses_negative_or_empty_counts():
    assert code_perplexity([5, 5, 5, 5]) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="at least 0 and not all 0"):
        code_perplexity([-1, 2, 3])
    with pytest.raises(ValueError, match="at least 0 and not all 0"):
        code_perplexity([0, 0])
