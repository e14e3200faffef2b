import numpy as np
import pytest

from vae_lib import Adam


def test_nan_gradients_are_refused_before_any_parameter_changes():
    params = [np.ones(3), np.ones((2, 2))]
    optimizer = Adam(params)
    with pytest.raises(FloatingPointError, match=r"grads\[1\] holds NaN or infinite values"):
        optimizer.step([np.zeros(3), np.array([[0.0, np.nan], [0.0, 0.0]])])
    assert all(np.array_equal(p, np.ones_like(p)) for p in params) and optimizer.t == 0


def test_gradients_of_the_wrong_shape_are_refused():
    optimizer = Adam([np.ones(3)])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(2,\); its parameter has \(3,\)"):
        optimizer.step([np.ones(2)])


def test_regions_update_only_their_parts_and_the_rest_as_a_zero_gradient_would():
    rng = np.random.default_rng(0)
    p = rng.standard_normal((6, 5))
    with_regions, without = p.copy(), p.copy()
    regions = [[(slice(0, 2), slice(0, 3)), (slice(3, 6), slice(3, 5))]]
    reach = np.zeros(p.shape, dtype=bool)
    for index in regions[0]:
        reach[index] = True
    fast, plain = Adam([with_regions], lr=0.1, regions=regions), Adam([without], lr=0.1)
    for _ in range(5):
        g = rng.standard_normal(p.shape) * reach
        fast.step([g])
        plain.step([g])
    assert np.array_equal(with_regions, without)
    assert np.array_equal(with_regions[~reach], p[~reach])
    assert np.array_equal(fast.m[0], plain.m[0]) and np.array_equal(fast.v[0], plain.v[0])


def test_bad_regions_are_named():
    with pytest.raises(ValueError, match=r"one entry per parameter \(2\); got 1"):
        Adam([np.ones(3), np.ones(2)], regions=[None])
    with pytest.raises(ValueError, match=r"regions\[0\] must be a list of tuples of 2 slices"):
        Adam([np.ones((2, 2))], regions=[[(slice(0, 1),)]])


def test_the_update_in_slices_is_bit_for_bit_the_update_in_one_pass(monkeypatch):
    import vae_lib.core.optim as optim

    shapes = [(37, 11), (5,), (3, 4, 2), (0, 6)]
    runs = []
    for elements in (7, 1 << 30):  # 7: rows of 11 taken one at a time; 2³⁰: one slice
        monkeypatch.setattr(optim, "SLICE_ELEMENTS", elements)
        params = [np.random.default_rng(1).standard_normal(s).astype(np.float32) for s in shapes]
        assert optim._slices(params[0].shape) == (
            [slice(r, r + 1) for r in range(37)] if elements == 7 else None
        )
        regions = [[(slice(0, 20), slice(2, 9)), (slice(20, 37), slice(0, 11))], None, None, None]
        optimizer = Adam(params, lr=0.01, regions=regions)
        grads = np.random.default_rng(2)
        for _ in range(4):
            optimizer.step([grads.standard_normal(s).astype(np.float32) for s in shapes])
        runs.append(params + optimizer.m + optimizer.v)
    for sliced, whole in zip(*runs):
        assert np.array_equal(sliced, whole)
