import numpy as np
import pytest

import vae_lib as v
from vae_lib.evaluation.scales import load_or_measure_agreement, scale_agreement, split_scales


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


def small_vlae():
    config = v.VLAEConfig(
        input_dim=16, hidden_dims=(7,), latent_dim=2, window=1, image_shape=(4, 4)
    )
    return v.VLAE(config, np.random.default_rng(0))


def test_a_stored_agreement_is_the_computed_one_bit_for_bit(tmp_path):
    model, x = small_vlae(), images(30, seed=3)[:, :16].astype(np.float32)
    kwargs = {"n_samples": 3, "seed": 7, "block": 2, "cache_dir": tmp_path}
    mu, _ = model.encode(x)
    drawn = model.sample_images(np.repeat(mu, 3, axis=0), np.random.default_rng(7))
    direct = scale_agreement(x, drawn.reshape(30, 3, -1), (4, 4), block=2)
    first = load_or_measure_agreement(model, x, (4, 4), **kwargs)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    model.sample_images = None  # a second call must load, not draw
    with pytest.raises(TypeError, match="sample_images"):
        load_or_measure_agreement(model, x, (4, 4), **kwargs)
    del model.sample_images
    second = load_or_measure_agreement(model, x, (4, 4), **kwargs)
    for got in (first, second):
        for scale in ("coarse", "fine"):
            assert got[scale].value == direct[scale].value
            assert got[scale].se == direct[scale].se
            assert got[scale].own.tobytes() == direct[scale].own.tobytes()
            assert got[scale].other.tobytes() == direct[scale].other.tobytes()


def test_a_stored_agreement_is_measured_again_for_other_settings(tmp_path):
    model, x = small_vlae(), images(30, seed=3)[:, :16]
    for seed, samples in ((7, 3), (8, 3), (7, 2)):
        load_or_measure_agreement(
            model, x, (4, 4), n_samples=samples, seed=seed, block=2, cache_dir=tmp_path
        )
    assert len(list(tmp_path.glob("*.npz"))) == 3


@pytest.mark.parametrize(
    "change, error, match",
    [
        (
            {"model": v.VAE(v.VAEConfig(input_dim=16), np.random.default_rng(0))},
            TypeError,
            "sample_images",
        ),
        ({"x": np.zeros((5, 15))}, ValueError, "x"),
        ({"image_shape": (4, 0)}, ValueError, "image_shape"),
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"seed": -1}, ValueError, "seed"),
        ({"block": 3}, ValueError, "must divide"),
    ],
)
def test_a_stored_agreement_refuses_bad_input(tmp_path, change, error, match):
    kwargs = {
        "model": small_vlae(),
        "x": images(5)[:, :16],
        "image_shape": (4, 4),
        "n_samples": 2,
        "seed": 0,
        "cache_dir": tmp_path,
        **change,
    }
    with pytest.raises(error, match=match):
        load_or_measure_agreement(**kwargs)
