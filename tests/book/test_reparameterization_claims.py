"""What the chapter "The reparameterization trick" says about its numbers, checked on the
numbers it shows (glued values of the executed chapter), and, where the chapter's settings
are simple, recomputed through vae_lib."""

import math

import numpy as np
import pytest
from executed import _parse, executed_notebook

from vae_lib import descend_scale, largest_stable_lr, optimal_scale, scale_step

CHAPTER = "reparameterization"


def _glued(chapter: str) -> dict:
    """Every glued value by name; reads both plain and ``display=False`` glue outputs."""
    values = {}
    for cell in executed_notebook(chapter).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            data = output["data"]
            key = next(k for k in data if k.endswith("text/plain"))
            values[name] = _parse(data[key])
    assert values, f"chapter {chapter} glued no values"
    return values


@pytest.fixture(scope="module")
def g():
    return _glued(CHAPTER)


def test_hundred_samples_pin_the_gaussian_only_roughly(g):
    # the sample mean misses mu "by at most" the glued value: within a few sigma/sqrt(100)
    assert 0 < g["reparam-sample-mean-err"] < 0.2
    assert 0 < g["reparam-sample-std-err"] < 0.3


def test_fresh_draws_have_no_useful_slope_but_fixed_eps_gives_the_pathwise_estimate(g):
    # for f = z², a central difference of the fixed-ε curve is exactly its derivative
    assert g["reparam-slope-shared"] == pytest.approx(g["reparam-slope-pathwise"], rel=1e-9)
    assert abs(g["reparam-slope-shared"] - 1.0) < 1.0  # an estimate of the exact slope 1
    assert abs(g["reparam-slope-fresh"] - 1.0) > 5.0  # "a slope that means nothing"


def test_every_estimate_is_within_a_few_standard_errors(g):
    assert g["reparam-max-z"] < 4.0


def test_score_function_standard_errors_are_larger(g):
    assert g["reparam-se-ratio-sq-min"] > 1.0
    assert g["reparam-se-ratio-shift-min"] > g["reparam-se-ratio-sq-max"]


def test_variance_falls_as_one_over_n(g):
    assert -1.15 < g["reparam-slope-min"] <= g["reparam-slope-max"] < -0.85


def test_pathwise_wins_for_the_square_at_every_sigma(g):
    assert g["reparam-ratio-sq-min"] > 1.0
    assert g["reparam-ratio-sq-max"] > 10 * g["reparam-ratio-sq-min"]
    # "worst for small sigma"
    assert g["reparam-ratio-sq-mu-smallest"] > 10 * g["reparam-ratio-sq-mu-largest"]


def test_a_constant_only_hurts_the_score_function(g):
    assert g["reparam-shift-same-pathwise"] == "True"
    assert g["reparam-shift-ratio-min"] > 1.0
    assert g["reparam-shift-ratio-max"] > 100


def test_score_function_wins_for_the_steep_logistic_at_large_sigma(g):
    assert 0.1 < g["reparam-crossover-sigma"] < 3.0
    assert g["reparam-score-wins-above-crossover"] == "True"
    assert g["reparam-steep-ratio-at-max-sigma"] > 1.0


def test_log_variance_steps(g):
    assert g["reparam-grad-ratio"] > 100
    # one step from sigma = 0.001 with the chapter's step sizes: far past sigma* = 0.05 in
    # sigma, a modest relative move in log sigma²
    assert g["reparam-step-from-tiny-sigma"] > 1000 * 0.05
    assert 1e-3 < g["reparam-step-from-tiny-logvar"] < 2e-3
    assert g["reparam-step-from-tiny-sigma"] == pytest.approx(scale_step(1e-3, 399.0, 0.2, "sigma"))
    assert g["reparam-step-from-tiny-logvar"] == pytest.approx(
        scale_step(1e-3, 399.0, 1.0, "logvar")
    )


def test_descent_runs(g):
    # in log sigma² the three runs coincide and converge
    assert g["reparam-logvar-runs-spread"] < 1e-9
    assert g["reparam-logvar-final"] == pytest.approx(1.0, abs=1e-3)
    for target in (0.5, 0.1, 0.02):
        assert g[f"reparam-run-logvar-{target}-left-at"] == 0
    # in sigma the step size 0.2 converges for sigma* = 0.5 only
    assert g["reparam-run-sigma-0.5-left-at"] == 0
    assert g["reparam-run-sigma-0.5-final"] == pytest.approx(1.0, abs=1e-3)
    assert g["reparam-run-sigma-0.1-left-at"] == 1
    assert g["reparam-run-sigma-0.02-left-at"] == 1
    assert math.isnan(g["reparam-run-sigma-0.1-final"])
    # the same, recomputed through the library with the chapter's settings
    for target in (0.5, 0.1, 0.02):
        c = 1 / target**2 - 1
        assert descend_scale(2 * target, c, 1.0, 25, "logvar")[-1] / target == pytest.approx(
            1.0, abs=1e-3
        )
        run = descend_scale(2 * target, c, 0.2, 25, "sigma")
        assert np.isnan(run).any() == (target < 0.5)


def test_largest_stable_steps_are_sigma_star_squared(g):
    for target in (0.5, 0.1, 0.02):
        assert g[f"reparam-stable-lr-sigma-{target}"] == pytest.approx(target**2)
        c = 1 / target**2 - 1
        assert optimal_scale(c) == pytest.approx(target)
        assert largest_stable_lr(c, "logvar") == 4.0


def test_exercise_1_baselines(g):
    n = 100_000
    for b in ("0", "10", "J"):
        stderr = math.sqrt(g[f"reparam-ex1-var-b{b}"] / n)
        assert abs(g[f"reparam-ex1-mean-b{b}"] - 1.0) < 4 * stderr  # unbiased for any b
    assert g["reparam-ex1-var-b0"] > 5 * g["reparam-ex1-var-b10"]  # "falls"
    assert g["reparam-ex1-var-bJ"] < g["reparam-ex1-var-b10"]
    assert g["reparam-ex1-var-bJ"] > 2 * g["reparam-ex1-var-pathwise"]  # "several times worse"


def test_exercise_3_step_function(g):
    assert g["reparam-ex3-pathwise-mean"] == 0.0  # biased: every draw is 0
    exact = g["reparam-ex3-exact"]
    assert exact == pytest.approx(math.exp(-0.125) / math.sqrt(2 * math.pi))
    assert abs(g["reparam-ex3-score-mean"] - exact) < 4 * g["reparam-ex3-score-stderr"]
