"""The offline data sets (fixed splits, balance, checksum) and the two binarizations."""

import shutil

import numpy as np
import pytest

import vae_lib
from vae_lib.data import digits as datasets


@pytest.fixture(scope="module")
def subset():
    return vae_lib.mnist_subset()


@pytest.fixture(scope="module")
def digits():
    return vae_lib.digits8x8()


def test_mnist_subset_shapes_dtypes_and_range(subset):
    assert subset.x_train.shape == (4000, 784) and subset.x_test.shape == (1000, 784)
    assert subset.y_train.shape == (4000,) and subset.y_test.shape == (1000,)
    assert subset.image_shape == (28, 28) and subset.input_dim == 784
    assert subset.x_train.dtype == np.float32 and subset.y_train.dtype == np.int64
    for x in (subset.x_train, subset.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
        # grey levels are whole numbers of 255ths
        np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-4)
    assert "CC BY-SA 3.0" in subset.description and "LeCun" in subset.description


def test_mnist_subset_is_balanced_and_interleaved(subset):
    assert np.array_equal(np.bincount(subset.y_train), np.full(10, 400))
    assert np.array_equal(np.bincount(subset.y_test), np.full(10, 100))
    assert np.array_equal(subset.y_train[:20], np.tile(np.arange(10), 2))
    assert np.array_equal(np.bincount(subset.y_train[:1000]), np.full(10, 100))


def test_mnist_subset_split_is_fixed_and_disjoint(subset):
    again = vae_lib.mnist_subset()
    assert np.array_equal(again.x_train, subset.x_train)
    assert np.array_equal(again.y_test, subset.y_test)
    train = {row.tobytes() for row in subset.x_train}
    assert not any(row.tobytes() in train for row in subset.x_test)


def test_mnist_subset_file_is_the_recorded_one():
    assert datasets.MNIST_SUBSET_PATH.stat().st_size < 1_000_000
    with np.load(datasets.MNIST_SUBSET_PATH, allow_pickle=False) as f:
        assert f["x_train"].dtype == np.uint8 and f["x_train"].shape == (4000, 28, 28)
        assert "CC BY-SA 3.0" in str(f["provenance"])


def test_mnist_subset_sha256_mismatch_raises(tmp_path, monkeypatch):
    damaged = tmp_path / "mnist_subset.npz"
    shutil.copy(datasets.MNIST_SUBSET_PATH, damaged)
    raw = bytearray(damaged.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    monkeypatch.setattr(datasets, "MNIST_SUBSET_PATH", damaged)
    with pytest.raises(ValueError, match="SHA-256 is [0-9a-f]{64}, expected a45e4309"):
        vae_lib.mnist_subset()
    monkeypatch.setattr(datasets, "MNIST_SUBSET_PATH", tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        vae_lib.mnist_subset()


def test_digits8x8_split(digits):
    assert digits.x_train.shape == (1497, 64) and digits.x_test.shape == (300, 64)
    assert digits.image_shape == (8, 8) and digits.x_train.dtype == np.float32
    assert np.array_equal(np.bincount(digits.y_test), np.full(10, 30))
    counts = np.bincount(digits.y_train)
    assert counts.min() >= 140 and counts.max() <= 160
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    np.testing.assert_array_equal(digits.x_train * 16, np.round(digits.x_train * 16))
    again = vae_lib.digits8x8()
    assert np.array_equal(again.x_test, digits.x_test)
    assert np.array_equal(again.y_train, digits.y_train)


def test_dataset_checks_its_arrays():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"x_test must have shape \(N, 4\)"):
        vae_lib.Dataset("t", x, np.zeros(3, int), np.zeros((2, 5)), np.zeros(2, int), (2, 2), "")
    with pytest.raises(ValueError, match=r"y_train must have shape \(3,\)"):
        vae_lib.Dataset("t", x, np.zeros(2, int), x, np.zeros(3, int), (2, 2), "")
    ds = vae_lib.Dataset("t", x, np.zeros(3, int), x, np.zeros(3, int), (2, 2), "")
    assert ds.split("test")[0] is x
    with pytest.raises(ValueError, match="which must be 'train' or 'test'; got 'valid'"):
        ds.split("valid")


def test_binarize_static_is_deterministic_and_binary(subset):
    x = subset.x_test[:50]
    b = vae_lib.binarize_static(x)
    assert b.dtype == x.dtype and b.shape == x.shape
    assert set(np.unique(b)) <= {0.0, 1.0}
    assert np.array_equal(b, (x > 0.5).astype(np.float32))
    assert np.array_equal(b, vae_lib.binarize_static(x))
    assert vae_lib.binarize_static(np.array([0.2, 0.5, 0.6]), threshold=0.1).tolist() == [1, 1, 1]
    assert vae_lib.binarize_static(np.array([0.2, 0.5, 0.6])).tolist() == [0, 0, 1]


def test_binarize_dynamic_mean_matches_grey_level():
    grey = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    n = 20_000
    b = vae_lib.binarize_dynamic(np.tile(grey, (n, 1)), np.random.default_rng(1))
    assert set(np.unique(b)) == {0.0, 1.0}
    mean = b.mean(axis=0)
    err = np.sqrt(grey * (1 - grey) / n)
    assert np.all(np.abs(mean - grey) <= 4 * err + 1e-12)
    assert mean[0] == 0.0 and mean[-1] == 1.0


def test_binarize_dynamic_depends_on_rng_only(subset):
    x = subset.x_train[:20]
    a = vae_lib.binarize_dynamic(x, np.random.default_rng(0))
    b = vae_lib.binarize_dynamic(x, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    c, d = vae_lib.binarize_dynamic(x, rng), vae_lib.binarize_dynamic(x, rng)
    assert a.dtype == np.float32 and np.array_equal(a, b) and np.array_equal(a, c)
    assert not np.array_equal(c, d)


def test_binarize_dynamic_works_as_fit_transform(digits):
    model = vae_lib.VAE(
        vae_lib.VAEConfig(input_dim=64, hidden_dims=(16,)), np.random.default_rng(0)
    )
    seen = []

    def spy(x, rng):
        out = vae_lib.binarize_dynamic(x, rng)
        seen.append(out)
        return out

    vae_lib.fit(
        model,
        digits.x_train[:200],
        epochs=2,
        rng=np.random.default_rng(0),
        transform=spy,
        progress=False,
    )
    assert len(seen) == 2 and not np.array_equal(seen[0], seen[1])
    assert all(set(np.unique(s)) == {0.0, 1.0} for s in seen)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: vae_lib.binarize_static(np.array([0.5, 1.2])), ValueError, "x must lie in"),
        (lambda: vae_lib.binarize_static(np.array([0.5]), threshold=1.0), ValueError, "threshold"),
        (lambda: vae_lib.binarize_static(np.array([0.5]), threshold="0.5"), TypeError, "threshold"),
        (lambda: vae_lib.binarize_static("x"), TypeError, "x must be an array"),
        (
            lambda: vae_lib.binarize_dynamic(np.array([np.nan]), np.random.default_rng()),
            ValueError,
            "x must be finite",
        ),
        (lambda: vae_lib.binarize_dynamic(np.array([0.5]), 0), TypeError, "rng must be"),
    ],
)
def test_binarize_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()
