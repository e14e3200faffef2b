"""What the chapter "The conditional VAE: telling the model the label" says about its numbers.

Every test reads the values the chapter glued (from the last book build's execution cache),
so it checks exactly the numbers a reader sees.
"""

import math

import pytest
from executed import glued, over_seeds

LOG10 = math.log(10)
SIZES = ("2d", "16d")


@pytest.fixture(scope="module")
def g():
    return glued("variants/cvae")


def test_the_settings_the_prose_states(g):
    assert g["cvae-epochs"] == 30 and g["cvae-train-seconds"] > 0
    assert g["cvae-k"] == 1000 and g["cvae-n-test"] == 1000 and g["cvae-k-all"] == 100
    assert g["cvae-log10"] == pytest.approx(LOG10)


def test_the_table_differences(g):
    for size in SIZES:
        # the mean of the paired differences is the difference of the means
        assert g[f"cvae-gain-{size}"] == pytest.approx(
            g[f"cvae-ll-cvae-{size}"] - g[f"cvae-ll-vae-{size}"], abs=1e-6
        )
        assert 0 < g[f"cvae-gain-se-{size}"] < 0.2 * g[f"cvae-gain-{size}"]
        assert g[f"cvae-ll-vae-{size}"] < g[f"cvae-ll-cvae-{size}"] < 0
    # "close to log 10" for 16 coordinates; "about ten times as much" with 2
    assert abs(g["cvae-gain-16d"] - LOG10) < 0.5
    assert 7 < g["cvae-gain-2d"] / g["cvae-gain-16d"] < 14
    assert g["cvae-gain-2d"] > 5 * LOG10  # more than any label can be worth


def test_within_one_model_a_label_is_worth_at_most_log_10(g):
    for size in SIZES:
        assert g[f"cvae-worth-{size}"] < LOG10
        assert g[f"cvae-worth-max-{size}"] <= LOG10 + 1e-9  # no single image gains more
        # "the median image gains ... practically all of log 10"
        assert g[f"cvae-worth-median-{size}"] > LOG10 - 0.05
        assert g[f"cvae-confident-{size}"] > 50  # "for most, the model is sure"
        assert g[f"cvae-accuracy-{size}"] > 50
        # "a confident mistake costs without limit": far more than a right answer earns
        assert g[f"cvae-worst-loss-{size}"] > 5 * LOG10
    assert g["cvae-worst-loss-2d"] > g["cvae-worst-loss-16d"]
    # "the 2-D model, the better classifier, gets less from the label on average than the
    # 16-D one, an amount not distinguishable from zero"
    assert g["cvae-accuracy-2d"] > g["cvae-accuracy-16d"]
    assert g["cvae-worth-2d"] < g["cvae-worth-16d"]
    assert abs(g["cvae-worth-2d"]) < 2 * g["cvae-worth-se-2d"]
    assert g["cvae-worth-16d"] > 3 * g["cvae-worth-se-16d"]


def test_the_difference_splits_into_the_label_and_the_model(g):
    for size in SIZES:
        assert g[f"cvae-gain-small-{size}"] == pytest.approx(
            g[f"cvae-worth-{size}"] + g[f"cvae-other-{size}"], abs=1e-6
        )
    # 16-D: the CVAE is "a slightly better model" of x, and most of the difference is the label
    assert 0 < g["cvae-other-16d"] < g["cvae-worth-16d"]
    assert g["cvae-other-16d"] > 2 * g["cvae-other-se-16d"]
    # 2-D: nearly all of it is the second term, "a bigger model, not a more valuable label"
    assert g["cvae-other-2d"] > 0.9 * g["cvae-gain-small-2d"]


def test_the_label_takes_over_from_the_code(g):
    for size in SIZES:
        assert g[f"cvae-kl-drop-{size}"] == pytest.approx(
            g[f"cvae-kl-vae-{size}"] - g[f"cvae-kl-cvae-{size}"]
        )
        assert g[f"cvae-kl-drop-{size}"] > 0
        # the digit is told from the code less well, yet better than chance (10%)
        assert 10 < g[f"cvae-knn-cvae-{size}"] < g[f"cvae-knn-vae-{size}"]
    # "close to the log 10 nats that name a digit"
    assert 0.7 * LOG10 < g["cvae-kl-drop-16d"] < 1.3 * LOG10
    # "the code keeps much of the digit" with 16 coordinates; "starker" with 2
    assert g["cvae-knn-cvae-16d"] > 50
    assert g["cvae-knn-vae-2d"] > 2 * g["cvae-knn-cvae-2d"]
    # "the reconstruction term rises"
    assert g["cvae-recon-cvae-2d"] > g["cvae-recon-vae-2d"]


def test_the_large_model_listens_less_to_the_label(g):
    assert g["cvae-swap-16d"] > 0
    assert g["cvae-swap-2d"] > 2 * g["cvae-swap-16d"]


def test_exercise_1_numbers():
    ce = -math.log(0.9)
    assert ce == pytest.approx(0.105, abs=5e-4)
    assert LOG10 - ce == pytest.approx(2.20, abs=5e-3)


SEEDS = (17, 18, 19)


def _over_seeds(g, key):
    return over_seeds(g, f"cvae-seeds-{key}", SEEDS)


def test_three_seeds(g):
    assert [g[f"cvae-seed-{i}"] for i in (1, 2, 3)] == list(SEEDS)


def test_the_first_seed_rows_are_the_page_numbers(g):
    for size in SIZES:
        for key in ("gain", "other", "kl-drop"):
            assert g[f"cvae-seeds-{key}-{size}-17"] == pytest.approx(g[f"cvae-{key}-{size}"])
        assert g[f"cvae-seeds-knn-drop-{size}-17"] == pytest.approx(
            g[f"cvae-knn-vae-{size}"] - g[f"cvae-knn-cvae-{size}"]
        )
    assert g["cvae-seeds-swap-2d-minus-16d-17"] == pytest.approx(
        g["cvae-swap-2d"] - g["cvae-swap-16d"]
    )
    assert g["cvae-seeds-accuracy-2d-minus-16d-17"] == pytest.approx(
        g["cvae-accuracy-2d"] - g["cvae-accuracy-16d"]
    )
    assert g["cvae-seeds-worth-16d-minus-2d-17"] == pytest.approx(
        g["cvae-worth-16d"] - g["cvae-worth-2d"]
    )


# every comparison the page states in words, in its stated direction
STATED = (
    "gain-2d",  # the CVAE's log p(x | y) beats the VAE's log p(x), 2-D
    "gain-16d",  # and 16-D
    "gain-2d-minus-16d",  # "about ten times as much" with 2 coordinates
    "other-2d",  # the CVAE as a model of images is better, 2-D
    "other-16d",  # "a slightly better model than the VAE", 16-D
    "worth-16d-minus-2d",  # the 2-D model "gets less from the label"
    "accuracy-2d-minus-16d",  # "the 2-D model, the better classifier"
    "kl-drop-2d",  # the KL term falls
    "kl-drop-16d",
    "recon-rise-2d",  # the reconstruction term rises, 2-D
    "knn-drop-2d",  # the code tells the digit less well
    "knn-drop-16d",
    "swap-2d-minus-16d",  # the 2-D decoder listens more to the label
)


@pytest.mark.parametrize("key", STATED)
def test_each_stated_direction_holds_over_three_seeds(g, key):
    mean, se, per_seed = _over_seeds(g, key)
    assert mean > 3 * se > 0
    assert all(v > 0 for v in per_seed)  # "points the same way with all three seeds"


def test_the_2d_gain_varies_more_than_its_image_standard_error(g):
    # "ranges from [seed 19] to [seed 17] nats ..., against a standard error over images of ..."
    values = {s: g[f"cvae-seeds-gain-2d-{s}"] for s in SEEDS}
    assert min(values, key=values.get) == 19 and max(values, key=values.get) == 17
    assert values[17] - values[19] > 2 * g["cvae-gain-se-2d"]
