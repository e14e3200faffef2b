"""The bad inputs an adversarial probe of the library reported, one test each.

Each gave a silent wrong value, a numpy-internal message or a long run before it was fixed;
each must now be a correct result or a clear error naming the argument.
"""

import numpy as np
import pytest

import vae_lib as v
from tests.guards import returns
from vae_lib import views
from vae_lib.views.widgets import MAX_FRAMES


def dataset(x_train, image_shape=(2, 2)):
    """A Dataset of two training images and one test image, ``x_train`` as given."""
    return v.Dataset(
        "d", x_train, np.zeros(2, int), np.zeros((1, 4)), np.zeros(1, int), image_shape, ""
    )


def square(z):
    return z * z


CASES = [
    # (what, call, error, words in the message)
    ("width < 0", lambda: v.gaussian_expectation(square, 1.0, 0.0, width=-12), ValueError, "width"),
    ("width = 0", lambda: v.gaussian_expectation(square, 1.0, 0.0, width=0), ValueError, "width"),
    (
        "exact_gradient width",
        lambda: v.exact_gradient(square, 1.0, 0.0, width=-1),
        ValueError,
        "width",
    ),
    (
        "pad_value a string",
        lambda: views.tile_images(np.zeros((2, 4)), (2, 2), 2, pad_value="white"),
        ValueError,
        "pad_value",
    ),
    (
        "colour as floats",
        lambda: views.draw_cross(
            np.zeros((8, 8, 3), np.uint8), (0, 0), extent=(-1, 1, -1, 1), colour=(0.9, 0.9, 0.9)
        ),
        ValueError,
        "colour must be 3 integers",
    ),
    (
        "threshold nan",
        lambda: v.active_units(
            v.VAE(v.VAEConfig(), np.random.default_rng(0)), np.zeros((3, 16)), threshold=np.nan
        ),
        ValueError,
        "threshold",
    ),
    (
        "MLP int32",
        lambda: v.MLP((4, 2), np.random.default_rng(0), dtype=np.int32),
        TypeError,
        "dtype",
    ),
    ("MLP width 2.7", lambda: v.MLP((4, 2.7, 2), np.random.default_rng(0)), TypeError, "sizes"),
    (
        "Dataset with NaN",
        lambda: dataset(np.full((2, 4), np.nan)),
        ValueError,
        "x_train must be finite",
    ),
    (
        "Dataset above 1",
        lambda: dataset(np.full((2, 4), 2.0)),
        ValueError,
        r"x_train must lie in \[0, 1\]",
    ),
    (
        "Dataset negative shape",
        lambda: dataset(np.zeros((2, 4)), image_shape=(-2, -2)),
        ValueError,
        "image_shape entry must be at least 1",
    ),
    (
        "empty data",
        lambda: v.bernoulli_log_likelihood(np.zeros((0, 3)), np.zeros((0, 3))),
        ValueError,
        "x is empty",
    ),
    (
        "shape mismatch",
        lambda: v.gaussian_log_density(np.zeros(3), np.zeros(2), np.zeros(3)),
        ValueError,
        r"the shapes of z \(3,\), mu \(2,\), logvar \(3,\) do not broadcast",
    ),
    (
        "kl shapes",
        lambda: v.kl_diag_gaussians(np.zeros(3), np.zeros(3), np.zeros(2), np.zeros(2)),
        ValueError,
        "do not broadcast",
    ),
    (
        "grad shapes",
        lambda: v.bernoulli_log_likelihood_grad(np.zeros(3), np.zeros(2)),
        ValueError,
        "do not broadcast",
    ),
    ("latent_grid n=1", lambda: v.latent_grid(1, n=1), ValueError, "n must be at least 3"),
    ("huge quantiles", lambda: views.normal_quantiles(10**10), ValueError, "n must be at most"),
    (
        "huge dot",
        lambda: views.scatter_raster(
            np.zeros((1, 2)), np.zeros(1, int), extent=(-1, 1, -1, 1), dot=10**6
        ),
        ValueError,
        "dot must be at most",
    ),
    (
        "too many options",
        lambda: views.Slider(np.arange(60_000), "n"),
        ValueError,
        f"at most {MAX_FRAMES} values",
    ),
]


@pytest.mark.parametrize("what, call, error, words", CASES, ids=[c[0] for c in CASES])
def test_reported_case_is_a_clear_error(what, call, error, words):
    with pytest.raises(error, match=words):
        returns(call, what)  # it ends: a guard against a hang, not a speed test


def test_float16_is_computed_not_failed():
    z, eps = v.reparameterize(
        np.zeros(3, np.float16), np.zeros(3, np.float16), np.random.default_rng(0)
    )
    assert z.dtype == np.float32 and np.array_equal(z, eps)


def test_float32_kl_at_a_large_log_variance_is_finite():
    kl = float(v.kl_standard_normal(np.zeros(1, np.float32), np.full(1, 100.0, np.float32)))
    assert np.isfinite(kl) and kl == pytest.approx(0.5 * (np.exp(100.0) - 101.0))


def test_dropdown_initial_label_chooses_that_option():
    assert views.Dropdown({"x": 1, "y": 1}, "pick", initial="y").index == 1
