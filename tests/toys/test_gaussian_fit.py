import numpy as np
import pytest

from vae_lib import (
    fit_reverse_kl,
    forward_kl,
    mixture_entropy,
    mixture_log_density,
    mixture_score,
    moment_match,
    reverse_kl,
    reverse_kl_grad,
    two_mode_mixture,
)
from vae_lib.testing import assert_gradient

# A lopsided three-component mixture, so that nothing passes by symmetry.
MIX = (np.array([0.2, 0.5, 0.3]), np.array([-3.0, 0.5, 4.0]), np.array([0.7, 1.2, 0.5]))
GRID = np.linspace(-40, 40, 400_001)


def _normal_pdf(x, m, s):
    return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))


def _mixture_pdf(x, weights, means, stds):
    return sum(w * _normal_pdf(x, m, s) for w, m, s in zip(weights, means, stds))


def test_log_density_matches_naive_form_and_stays_finite():
    x = np.linspace(-6, 6, 13)
    np.testing.assert_allclose(mixture_log_density(x, *MIX), np.log(_mixture_pdf(x, *MIX)))
    far = mixture_log_density(np.array([-1e3, 1e3]), *MIX)
    assert np.all(np.isfinite(far))  # the naive form gives log 0 = -inf here


def test_score_is_the_derivative_of_the_log_density():
    x = np.linspace(-5, 6, 12)
    assert_gradient(
        mixture_score(x, *MIX), lambda: float(np.sum(mixture_log_density(x, *MIX))), x, "x"
    )


def test_entropy_against_numerical_integration():
    p = _mixture_pdf(GRID, *MIX)
    integral = -np.trapezoid(p * mixture_log_density(GRID, *MIX), GRID)
    assert mixture_entropy(*MIX) == pytest.approx(integral, rel=1e-7)


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (3.5, 0.4), (-1.0, 4.0)])
def test_both_divergences_against_numerical_integration(mean, std):
    log_p = mixture_log_density(GRID, *MIX)
    log_q = -0.5 * ((GRID - mean) / std) ** 2 - np.log(std * np.sqrt(2 * np.pi))
    p, q = np.exp(log_p), np.exp(log_q)
    fwd = np.trapezoid(p * (log_p - log_q), GRID)
    rev = np.trapezoid(q * (log_q - log_p), GRID)
    assert forward_kl(mean, np.log(std), *MIX) == pytest.approx(fwd, rel=1e-6)
    assert reverse_kl(mean, np.log(std), *MIX) == pytest.approx(rev, rel=1e-6)


def test_divergences_broadcast_over_a_grid():
    means, log_stds = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-1, 1, 3))
    for f in (forward_kl, reverse_kl):
        out = f(means, log_stds, *MIX)
        assert out.shape == (3, 5)
        assert out[1, 2] == pytest.approx(float(f(means[1, 2], log_stds[1, 2], *MIX)))


def test_both_are_zero_when_q_is_p():
    one = (np.array([1.0]), np.array([0.7]), np.array([1.3]))
    assert abs(reverse_kl(0.7, np.log(1.3), *one)) < 1e-12
    assert abs(forward_kl(0.7, np.log(1.3), *one)) < 1e-12


def test_reverse_kl_gradient():
    mean = np.array([-3.0, 0.0, 1.0, 4.5])
    log_std = np.array([-1.0, 0.5, 1.5, 0.0])  # narrow and wide, on and between modes
    dmean, dlog_std = reverse_kl_grad(mean, log_std, *MIX)

    def total():
        return float(np.sum(reverse_kl(mean, log_std, *MIX)))

    assert_gradient(dmean, total, mean, "mean")
    assert_gradient(dlog_std, total, log_std, "log_std")


def test_moment_matching_minimises_forward_kl():
    mean, std = moment_match(*MIX)
    p = _mixture_pdf(GRID, *MIX)
    assert mean == pytest.approx(np.trapezoid(GRID * p, GRID), rel=1e-9)
    assert std**2 == pytest.approx(np.trapezoid((GRID - mean) ** 2 * p, GRID), rel=1e-9)
    best = forward_kl(mean, np.log(std), *MIX)
    m, ls = np.meshgrid(mean + np.linspace(-0.5, 0.5, 21), np.log(std) + np.linspace(-0.3, 0.3, 21))
    assert np.all(forward_kl(m, ls, *MIX) >= best - 1e-12)


def test_reverse_fit_recovers_a_single_gaussian():
    one = (np.array([1.0]), np.array([2.0]), np.array([0.5]))
    fit = fit_reverse_kl(*one, mean0=0.0, log_std0=0.0)
    assert fit.converged
    assert fit.mean == pytest.approx(2.0, abs=1e-6) and fit.std == pytest.approx(0.5, rel=1e-6)
    assert abs(fit.kl) < 1e-10
    assert np.all(np.diff(fit.kl_path) <= 1e-12)  # each step goes downhill


def test_reverse_fit_seeks_one_mode_and_forward_covers_both():
    mix = two_mode_mixture(10.0)
    fit = fit_reverse_kl(*mix, mean0=5.0, log_std0=0.0)
    assert fit.converged
    assert fit.mean == pytest.approx(5.0, abs=1e-3) and fit.std == pytest.approx(1.0, abs=1e-3)
    # q sits on one mode, which holds half of p's mass: KL(q||p) -> log 2
    assert fit.kl == pytest.approx(np.log(2), abs=1e-4)
    mean, std = moment_match(*mix)
    assert mean == 0 and std == pytest.approx(np.sqrt(1 + 25))


def test_reverse_fit_has_two_kinds_of_local_minimum():
    mix = two_mode_mixture(6.0)
    centre = fit_reverse_kl(*mix, mean0=0.0, log_std0=np.log(moment_match(*mix)[1]))
    mode = fit_reverse_kl(*mix, mean0=3.0, log_std0=0.0)
    assert centre.converged and mode.converged
    assert abs(centre.mean) < 1e-12 and centre.std > 2
    assert mode.mean > 2.5 and mode.kl < centre.kl


def test_reverse_fit_same_numbers_twice():
    mix = two_mode_mixture(4.0, weight=0.3)
    a = fit_reverse_kl(*mix, mean0=1.0, log_std0=0.0, max_steps=50)
    b = fit_reverse_kl(*mix, mean0=1.0, log_std0=0.0, max_steps=50)
    np.testing.assert_array_equal(a.path, b.path)
    assert a.path.shape == (51, 2) and a.kl_path.shape == (51,)


def test_reverse_fit_reports_divergence():
    with pytest.raises(FloatingPointError, match="lower lr"):
        fit_reverse_kl(*two_mode_mixture(8.0), mean0=0.0, log_std0=1.5, lr=5.0)


@pytest.mark.parametrize(
    "mix, error, words",
    [
        (([0.5, 0.6], [0, 1], [1, 1]), ValueError, "weights must be positive and sum to 1"),
        (([0.5, 0.5], [0, 1], [1, 0]), ValueError, "stds must be greater than 0"),
        (([0.5, 0.5], [0, 1, 2], [1, 1]), ValueError, r"means must have shape \(2\)"),
        (([], [], []), ValueError, "at least one component"),
        (([1.0], [np.nan], [1.0]), ValueError, "means must be finite"),
    ],
)
def test_bad_mixture(mix, error, words):
    with pytest.raises(error, match=words):
        reverse_kl(0.0, 0.0, *mix)


def test_bad_arguments():
    mix = two_mode_mixture(2.0)
    with pytest.raises(ValueError, match="lr must be a finite number greater than 0"):
        fit_reverse_kl(*mix, mean0=0.0, log_std0=0.0, lr=-1.0)
    with pytest.raises(ValueError, match="separation must be at least 0"):
        two_mode_mixture(-1.0)
    with pytest.raises(ValueError, match="weight must lie strictly between 0 and 1"):
        two_mode_mixture(1.0, weight=1.0)
    with pytest.raises(TypeError, match="n_nodes must be an integer"):
        reverse_kl(0.0, 0.0, *mix, n_nodes=2.5)
