"""What the chapter "The evidence lower bound (ELBO)" says about its numbers.

The glued numbers are read from the executed chapter; where a claim is about a whole grid
or curve, the test recomputes it through the library with the chapter's settings.
"""

import numpy as np
import pytest
from executed import glued

from vae_lib import (
    gaussian_elbo,
    kl_to_posterior,
    toy_iw_bound,
    toy_log_marginal,
    toy_model,
)

X_OBS = np.array([1.0])
Q_MEANS = np.round(np.arange(-2.1, 1.51, 0.3), 1)  # the chapter's widget grid
Q_STDS = np.array([0.1, 0.15, 0.27, 0.4, 0.6, 1.0, 1.5])
K_VALUES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]


@pytest.fixture(scope="module")
def g():
    return glued("elbo")


def test_posterior_has_a_broad_left_and_a_narrow_right_mode(g):
    assert g["elbo-toy-mode-left"] < 0 < g["elbo-toy-mode-right"]
    assert g["elbo-toy-mass-left"] > g["elbo-toy-mass-right"] > 5
    assert g["elbo-toy-mass-left"] + g["elbo-toy-mass-right"] == pytest.approx(100)
    assert g["elbo-toy-logpx"] == pytest.approx(toy_log_marginal(toy_model(), X_OBS))


def test_gap_is_the_kl_to_the_posterior_over_the_widget(g):
    assert g["elbo-widget-frames"] == Q_MEANS.size * Q_STDS.size
    assert g["elbo-identity-error"] < 1e-8  # "the accuracy of the quadrature"
    # "No setting closes the gap"
    m, s = np.meshgrid(Q_MEANS, Q_STDS, indexing="ij")
    assert kl_to_posterior(toy_model(), X_OBS, m, s).min() > 0.1


def test_best_gaussian_sits_on_the_broad_mode(g):
    assert abs(g["elbo-best-m"] - g["elbo-toy-mode-left"]) < g["elbo-best-s"]
    assert abs(g["elbo-local-m"] - g["elbo-toy-mode-right"]) < g["elbo-local-s"]
    assert g["elbo-local-s"] < g["elbo-best-s"]  # the narrow mode, the broad mode
    assert g["elbo-local-elbo"] < g["elbo-best-elbo"]  # "a second, lower hill"
    assert g["elbo-best-gap"] > 0.1  # "even the best Gaussian leaves a gap"
    assert g["elbo-best-gap"] == pytest.approx(g["elbo-toy-logpx"] - g["elbo-best-elbo"])
    # no Gaussian of the widget beats it
    m, s = np.meshgrid(Q_MEANS, Q_STDS, indexing="ij")
    assert gaussian_elbo(toy_model(), X_OBS, m, s).elbo.max() <= g["elbo-best-elbo"]


def test_linear_gaussian_closes_the_gap(g):
    assert abs(g["elbo-linear-gap"]) < 1e-8
    assert g["elbo-linear-quadrature-error"] < 1e-8


def test_importance_weighting_lessons(g):
    logpx = g["elbo-toy-logpx"]
    for key in ("best", "moments", "prior"):
        # L_1 is the ELBO, within Monte Carlo error
        assert abs(g[f"elbo-iw-{key}-l1"] - g[f"elbo-iw-{key}-elbo"]) < (
            4 * g[f"elbo-iw-{key}-stderr1"]
        )
        assert g[f"elbo-iw-{key}-l1000"] > g[f"elbo-iw-{key}-l1"]
    # the best Gaussian starts highest but climbs slowly
    assert g["elbo-iw-best-elbo"] > g["elbo-iw-moments-elbo"] > g["elbo-iw-prior-elbo"]
    # the moments: "a mediocre q for the ELBO" (below the best Gaussian by a tenth of a nat or
    # more) "but an excellent proposal" (checked below: close to log p(x) at K = 1000)
    assert g["elbo-iw-moments-l1"] < g["elbo-iw-best-elbo"] - 0.1
    assert g["elbo-iw-best-l1000"] < logpx - 0.1
    # the prior and the posterior's moments end close to log p(x)
    for key in ("prior", "moments"):
        assert abs(g[f"elbo-iw-{key}-l1000"] - logpx) < 0.01
        assert g[f"elbo-iw-{key}-l1000"] > g["elbo-iw-best-l1000"]
    # the prior is a poor variational distribution
    assert g["elbo-iw-prior-l1"] < g["elbo-iw-moments-l1"] - 1


@pytest.mark.parametrize("key", ["best", "moments", "prior"])
def test_l_k_rises_with_k(g, key):
    """The chain L_1 <= L_2 <= ... <= L_1000, with the chapter's proposals."""
    proposal = {
        "best": (g["elbo-best-m"], g["elbo-best-s"]),
        "moments": (g["elbo-post-mean"], g["elbo-post-std"]),
        "prior": (0.0, 1.0),
    }[key]
    est = toy_iw_bound(toy_model(), X_OBS, *proposal, K_VALUES, np.random.default_rng(0), 2000)
    for lo, hi in zip(est[:-1], est[1:]):
        diff = hi - lo
        assert diff.mean() > -3 * diff.std() / np.sqrt(len(diff))


def test_vae_numbers(g):
    assert g["elbo-vae-elbo"] == pytest.approx(g["elbo-vae-recon"] - g["elbo-vae-kl"])
    assert g["elbo-vae-kl"] > 0
    # the bound rises with K towards log p(x)
    assert g["elbo-vae-l10"] < g["elbo-vae-l100"] < g["elbo-vae-l1000"]
    assert g["elbo-vae-elbo"] < g["elbo-vae-l10"]
    assert g["elbo-vae-iw"] == g["elbo-vae-l1000"]
    # "within ... nats of the truth", and below it
    assert 0 <= g["elbo-vae-iw-error"] < 0.02
    assert g["elbo-vae-iw-error"] == pytest.approx(g["elbo-vae-logpx"] - g["elbo-vae-iw"])
    assert 0 < g["elbo-vae-iw-error-se"] < 0.02  # "± one standard error over the images"
    # the quadrature on a grid twice as fine moves far less than the gap it measures
    assert g["elbo-vae-quadrature-change"] < 0.01 * g["elbo-vae-iw-error"]
    assert g["elbo-vae-gap"] == pytest.approx(g["elbo-vae-logpx"] - g["elbo-vae-elbo"])
    assert g["elbo-vae-gap"] > 0.05
    assert g["elbo-vae-offset"] > 0.1  # "their centres sit off the peaks"


def test_the_two_gaps_add_up_and_the_family_dominates(g):
    # "The two gaps add up to the whole gap", the grid agreeing with Monte Carlo
    assert g["elbo-approx-gap"] + g["elbo-amort-gap"] == pytest.approx(
        g["elbo-total-gap-grid"], abs=1e-9
    )
    assert g["elbo-total-gap-grid"] == pytest.approx(g["elbo-vae-gap"], abs=0.02)
    assert g["elbo-grid-vs-mc"] < 0.02
    # both gaps are positive; the amortization gap is "small for this easy data set"
    assert 0 < g["elbo-amort-gap"] < g["elbo-approx-gap"]
    assert g["elbo-amort-share"] < 25


def test_the_best_gaussians_sit_off_the_peaks_as_far_as_the_encoders(g):
    assert g["elbo-best-offset"] > 0.2
    assert g["elbo-best-offset"] == pytest.approx(g["elbo-vae-offset"], rel=0.1)
