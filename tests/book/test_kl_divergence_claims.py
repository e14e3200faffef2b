"""What the chapter "The KL divergence" says about its numbers.

Most tests read the numbers the reader sees, glued into the executed chapter; the last ones
recompute the forward/reverse-KL claims through the library (they involve no randomness).
"""

import math

import numpy as np
import pytest
from executed import executed_notebook

from vae_lib import fit_reverse_kl, moment_match, two_mode_mixture

GLUE_KEYS = ("text/plain", "application/papermill.record/text/plain")


def _value(text: str):
    text = text.strip()
    if text.startswith("np.") and text.endswith(")"):
        text = text[text.index("(") + 1 : -1]
    try:
        return float(text)
    except ValueError:
        return text.strip("'\"")


@pytest.fixture(scope="module")
def g():
    values = {}
    for cell in executed_notebook("kl_divergence").cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                data = output["data"]
                values[name] = _value(next(data[k] for k in GLUE_KEYS if k in data))
    assert values, "the chapter glued no values"
    return values


def test_forecasters(g):
    # p = (1/2, 1/4, 1/4) against the uniform q: log2(3) - H(p) bits, H(p) = 1.5 bits
    assert g["kl-cat-pq-bits"] == pytest.approx(math.log2(3) - 1.5)
    assert g["kl-cat-pq-nats"] == pytest.approx(g["kl-cat-pq-bits"] * math.log(2))
    assert abs(g["kl-cat-qp-bits"] - g["kl-cat-pq-bits"]) > 1e-3  # "the answer changes"
    assert g["kl-cat-pr"] == math.inf  # "infinite"
    assert math.isfinite(g["kl-cat-rp-bits"]) and g["kl-cat-rp-bits"] > 0


def test_properties_on_random_pairs(g):
    assert g["kl-random-min"] > 0  # "above zero, as it must be"
    assert g["kl-random-asym"] > 0.1  # the directions "differ"


def test_cost_of_one_coordinate(g):
    assert g["kl-sigma-tenth"] == pytest.approx(0.5 * (0.01 - 1 - math.log(0.01)))
    assert g["kl-halving"] == pytest.approx(math.log(2), abs=0.01)  # "about one more bit"
    assert g["kl-mu-two"] == pytest.approx(2.0)


def test_monte_carlo_agrees_with_closed_form(g):
    assert g["kl-mc-max-z"] < 3  # "every estimate lies within ... standard errors"
    assert abs(g["kl-mc-last"] - g["kl-mc-exact"]) < 3 * g["kl-mc-last-se"]
    assert 50 < g["kl-mc-se-ratio"] < 200  # "close to sqrt(10^4) = 100"


def test_gradient_check(g):
    assert g["kl-gradcheck-err"] < 1e-6


def test_fits_at_separation_six(g):
    assert g["kl-d6-fwd-s"] == pytest.approx(math.sqrt(10))
    assert g["kl-d6-centre-s"] < g["kl-d6-fwd-s"]  # "stays in the middle but shrinks"
    assert g["kl-d6-bump-m"] == pytest.approx(3.0, abs=0.1)  # "settles there"
    assert g["kl-d6-bump-s"] == pytest.approx(1.0, abs=0.1)
    assert g["kl-d6-bump-kl"] < g["kl-d6-centre-kl"]  # "a lower divergence"
    # each fit is bad by the other's measure
    assert g["kl-d6-bumpfit-fwd"] > 5 * g["kl-d6-fwdfit-fwd"]
    assert g["kl-d6-fwdfit-rev"] > g["kl-d6-bump-kl"]


def test_three_regimes(g):
    assert g["kl-bump-first-d"] <= g["kl-cross-low"] < g["kl-cross-high"]
    assert g["kl-cross-high"] - g["kl-cross-low"] == pytest.approx(0.5)  # neighbours on the grid
    assert g["kl-d10-bump-kl"] == pytest.approx(math.log(2), abs=1e-3)  # "tends to ln 2"


def test_trained_vae_units(g):
    assert "150 epochs of 1497 examples in batches of 100" in g["kl-vae-summary"]
    assert g["kl-vae-seconds"] > 0  # shown, never bounded: it depends on the machine
    assert 0 < g["kl-vae-kl"] < -g["kl-vae-elbo"]
    assert 0 < g["kl-au-count"] < 16
    assert g["kl-au-strong"] + g["kl-au-weak"] == g["kl-au-count"]
    assert g["kl-au-weak"] >= 1  # "a unit close to it is neither quite on nor quite off"
    assert g["kl-au-inactive-max"] < 0.01  # "almost nothing"
    assert g["kl-au-active-share"] > 95
    assert g["kl-au-bound-margin"] >= -1e-6  # exercise 3: KL_k >= A_k / 2 for every unit


def test_decoder_ignores_inactive_units(g):
    assert g["kl-decoder-inactive-max"] < 0.2 * g["kl-decoder-strong-min"]


def test_units_switch_on_then_off(g):
    assert g["kl-au-initial"] < g["kl-au-peak"]
    assert g["kl-au-peak"] == 16  # "all 16 are active"
    assert g["kl-au-count"] < g["kl-au-peak"]  # "switched off one by one"


def test_exercise_unequal_bumps(g):
    assert g["kl-ex-left-m"] < 0 < g["kl-ex-right-m"]
    assert g["kl-ex-left-kl"] == pytest.approx(g["kl-ex-log-03"], abs=0.05)
    assert g["kl-ex-right-kl"] == pytest.approx(g["kl-ex-log-07"], abs=0.05)
    assert g["kl-ex-right-kl"] < g["kl-ex-left-kl"]  # "prefers the heavy bump"


# ----------------------------------------------------------------------------- recomputed
def _fit_both(d):
    mix = two_mode_mixture(d)
    m_fwd, s_fwd = moment_match(*mix)
    centre = fit_reverse_kl(*mix, mean0=m_fwd, log_std0=np.log(s_fwd))
    bump = fit_reverse_kl(*mix, mean0=d / 2, log_std0=0.0)
    return s_fwd, centre, bump


def test_recomputed_regimes(g):
    below = g["kl-bump-first-d"] - 0.5
    _, centre, bump = _fit_both(below)
    assert abs(bump.mean) < 0.5 and abs(centre.mean) < 1e-9  # a single, centred valley
    _, centre, bump = _fit_both(g["kl-cross-low"])
    assert bump.mean > 0.5 and centre.kl < bump.kl  # both valleys; the centred one deeper
    _, centre, bump = _fit_both(g["kl-cross-high"])
    assert bump.kl < centre.kl  # one bump wins


@pytest.mark.parametrize("d", [1.0, 2.0, 4.0])
def test_recomputed_centred_fit_is_narrower_than_forward(d):
    s_fwd, centre, _ = _fit_both(d)
    assert centre.converged and centre.std < s_fwd
