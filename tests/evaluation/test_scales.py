import numpy as np
import pytest

from vae_lib.evaluation.scales import scale_agreement, split_scales


def images(n=200, seed=0):
    return (np.random.default_rng(seed).uniform(size=(n, 64)) < 0.3).astype(np.float64)


def test_split_scales_adds_back_up():
    x = images(5)
    coarse, fine = split_scales(x, (8, 8), block=4)
    assert coarse.shape == (5, 4) and fine.shape == (5, 64)
    up = np.repeat(np.repeat(coarse.reshape(5, 2, 2), 4, axis=1), 4, axis=2).reshape(5, 64)
    np.testing.assert_allclose(up + fine, x)
    np.testing.assert_allclose(coarse[:, 0], x.reshape(5, 8, 8)[:, :4, :4].mean(axis=(1, 2)))


def test_copies_agree_at_every_scale():
    x = images()
    a = scale_agreement(x, np.repeat(x[:, None], 3, axis=1), (8, 8))
    assert a["coarse"].value == 1 and a["fine"].value == 1


def test_layout_without_strokes_agrees_coarsely_only():
    """Samples that keep each image's block means but take their detail from other images:
    coarse agreement 1, fine agreement 0 within a few standard errors."""
    x = images(400)
    rng = np.random.default_rng(1)
    coarse, _ = split_scales(x, (8, 8))
    samples = []
    for _ in range(4):
        _, other_fine = split_scales(x[rng.permutation(len(x))], (8, 8))
        up = np.repeat(np.repeat(coarse.reshape(-1, 2, 2), 4, axis=1), 4, axis=2)
        samples.append(up.reshape(-1, 64) + other_fine)
    a = scale_agreement(x, np.stack(samples, axis=1), (8, 8))
    assert a["coarse"].value == pytest.approx(1)
    assert abs(a["fine"].value) < 4 * a["fine"].se


def test_samples_that_ignore_the_image_agree_at_no_scale():
    x = images(400)
    samples = images(400 * 3, seed=5).reshape(400, 3, 64)
    a = scale_agreement(x, samples, (8, 8))
    for scale in ("coarse", "fine"):
        assert abs(a[scale].value) < 4 * a[scale].se, scale


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"block": 3}, "must divide"),
        ({"shift": 0}, "shift must be at least 1"),
        ({"shift": 200}, "shift must be below"),
    ],
)
def test_bad_arguments(kwargs, match):
    x = images()
    with pytest.raises(ValueError, match=match):
        scale_agreement(x, x[:, None], (8, 8), **kwargs)


def test_samples_must_match_the_images():
    x = images()
    with pytest.raises(ValueError, match="samples"):
        scale_agreement(x, x[:5, None], (8, 8))
    with pytest.raises(ValueError, match="N ≥ 2"):
        scale_agreement(x[:1], x[:1, None], (8, 8))
