import numpy as np
import pytest

from vae_lib.core.numerics import LOG_2PI, log_mean_exp, logsumexp, trapezoid_grid


def test_logsumexp_matches_the_naive_form_and_survives_large_values():
    a = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_allclose(logsumexp(a, axis=1), np.log(np.exp(a).sum(axis=1)), rtol=1e-12)
    np.testing.assert_allclose(logsumexp(a + 1000.0, axis=0), logsumexp(a, axis=0) + 1000.0)
    assert log_mean_exp(np.array([-1e4, -1e4])) == pytest.approx(-1e4)
    with pytest.raises(ValueError, match="a must be finite"):
        logsumexp(np.array([np.nan]))


def test_trapezoid_grid_integrates_a_gaussian():
    z, log_w = trapezoid_grid(10.0, 2001)
    assert z.shape == log_w.shape == (2001,) and z[0] == -10.0 and z[-1] == 10.0
    density = np.exp(-0.5 * (LOG_2PI + z * z))
    assert np.sum(np.exp(log_w) * density) == pytest.approx(1.0, abs=1e-12)
    assert np.sum(np.exp(log_w)) == pytest.approx(20.0)


@pytest.mark.parametrize(
    "limit, n, error, words",
    [
        (0.0, 5, ValueError, "limit must be a finite number greater than 0"),
        (1.0, 2, ValueError, "n must be at least 3 grid points; got 2"),
        (1.0, 5.0, TypeError, "n must be an integer"),
        (8.98846567431158e307, 5, ValueError, "limit must be at most"),
    ],
)
def test_trapezoid_grid_bad_input(limit, n, error, words):
    with pytest.raises(error, match=words):
        trapezoid_grid(limit, n)
