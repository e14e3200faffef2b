"""What the chapter "The reparameterization trick" says about its numbers, checked on the
numbers it shows (glued values of the executed chapter), and, where the chapter's settings
are simple, recomputed through vae_lib."""

import math

import pytest
from executed import _parse, executed_notebook

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


def test_exercise_1_baselines(g):
    n = 100_000
    for b in ("0", "10", "J"):
        stderr = math.sqrt(g[f"reparam-ex1-var-b{b}"] / n)
        assert abs(g[f"reparam-ex1-mean-b{b}"] - 1.0) < 4 * stderr  # unbiased for any b
        assert g[f"reparam-ex1-se-b{b}"] == pytest.approx(stderr, rel=1e-6)
    assert g["reparam-ex1-var-b0"] > 5 * g["reparam-ex1-var-b10"]  # "falls"
    assert g["reparam-ex1-var-bJ"] < g["reparam-ex1-var-b10"]
    assert g["reparam-ex1-var-bJ"] > 2 * g["reparam-ex1-var-pathwise"]  # "several times worse"


def test_exercise_3_step_function(g):
    assert g["reparam-ex3-pathwise-mean"] == 0.0  # biased: every draw is 0
    exact = g["reparam-ex3-exact"]
    assert exact == pytest.approx(math.exp(-0.125) / math.sqrt(2 * math.pi))
    assert abs(g["reparam-ex3-score-mean"] - exact) < 4 * g["reparam-ex3-score-stderr"]


def test_the_cloud_widget_starts_at_the_grid_points_nearest_the_encoders_output(g):
    # the sliders: mu_1 in steps of 0.5 from -1.5, log sigma^2 in steps of 1 from -4
    assert abs(g["reparam-mu1-start"] - g["reparam-mu1"]) <= 0.25 + 1e-9
    mean_logvar = (g["reparam-logvar1"] + g["reparam-logvar2"]) / 2
    assert abs(g["reparam-logvar-start"] - mean_logvar) <= 0.5 + 1e-9
    assert float(g["reparam-logvar-start"]).is_integer()
