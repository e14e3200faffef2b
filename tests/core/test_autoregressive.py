import numpy as np
import pytest

from vae_lib import Adam
from vae_lib.core.autoregressive import (
    FULL,
    MADE,
    MaskedLinear,
    causal_window_mask,
    made_degrees,
    made_masks,
)
from vae_lib.testing import assert_gradient


def random_mask(rng, n_in, n_out):
    return rng.uniform(size=(n_in, n_out)) < 0.5


# ---------------------------------------------------------------------- MaskedLinear
@pytest.mark.parametrize("seed", range(3))
def test_masked_linear_gradients(seed):
    rng = np.random.default_rng(seed)
    n_in, n_out = (int(v) for v in rng.integers(1, 7, size=2))
    layer = MaskedLinear(random_mask(rng, n_in, n_out), rng, dtype=np.float64)
    x = rng.standard_normal((4, n_in))
    r = rng.standard_normal((4, n_out))

    def loss():
        return float(np.sum(layer.forward(x) * r))

    loss()
    dx = layer.backward(r.copy())
    # masked entries of W have no effect, so their finite difference is 0, as is their gradient
    assert_gradient(layer.dW.copy(), loss, layer.W, "W")
    assert_gradient(layer.db.copy(), loss, layer.b, "b")
    assert_gradient(dx, loss, x, "x")


def test_masked_linear_is_linear_with_a_masked_weight():
    rng = np.random.default_rng(0)
    mask = random_mask(rng, 5, 4)
    layer = MaskedLinear(mask, rng, dtype=np.float64)
    assert np.all(layer.W[~mask] == 0) and np.all(layer.W[mask] != 0)
    layer.W[...] = rng.standard_normal(layer.W.shape)  # even weights written into the mask
    x = rng.standard_normal((3, 5))
    np.testing.assert_allclose(layer.forward(x), x @ (layer.W * mask) + layer.b)


def test_masked_weights_stay_zero_under_adam():
    rng = np.random.default_rng(1)
    mask = random_mask(rng, 6, 5)
    layer = MaskedLinear(mask, rng)
    opt = Adam(layer.params, lr=1e-2)
    for _ in range(20):
        x = rng.standard_normal((8, 6)).astype(np.float32)
        layer.forward(x)
        layer.backward(rng.standard_normal((8, 5)).astype(np.float32))
        assert np.all(layer.dW[~mask] == 0)
        opt.step(layer.grads)
    assert np.all(layer.W[~mask] == 0)


def test_masked_linear_contract():
    rng = np.random.default_rng(2)
    layer = MaskedLinear(random_mask(rng, 3, 2), rng)
    assert layer.param_names == ("W", "b") and layer.W.dtype == np.float32
    assert layer.params[0] is layer.W and layer.grads[0] is layer.dW
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2), np.float32))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    x0 = x.copy()
    dy = np.ones((4, 2), np.float32)
    layer.forward(x)
    assert layer.backward(dy, need_input_grad=False) is None
    assert np.array_equal(x, x0) and np.all(dy == 1)  # neither input is written into
    dw = layer.dW
    layer.forward(x)
    layer.backward(dy)
    assert layer.dW is dw  # overwritten in place, not reallocated


@pytest.mark.parametrize(
    "mask, match",
    [
        (np.ones((3, 2)), "bool"),
        (np.ones(3, bool), "2-D"),
        (np.ones((0, 2), bool), "non-empty"),
    ],
)
def test_masked_linear_bad_mask(mask, match):
    with pytest.raises(ValueError, match=match):
        MaskedLinear(mask, np.random.default_rng(0))


# ---------------------------------------------------------------------- MADE
def test_made_degrees_and_masks():
    degrees = made_degrees(4, (5,), n_out_per_input=2)
    assert [d.tolist() for d in degrees] == [
        [1, 2, 3, 4],
        [1, 2, 3, 1, 2],
        [1, 2, 3, 4, 1, 2, 3, 4],
    ]
    masks = made_masks(4, (5,), n_out_per_input=2)
    assert [m.shape for m in masks] == [(4, 5), (5, 8)]
    # the product of the masks says which input reaches which output: strictly earlier ones
    reach = (masks[0].astype(int) @ masks[1].astype(int)) > 0
    np.testing.assert_array_equal(reach, np.tile(np.triu(np.ones((4, 4), bool), k=1), 2))


def test_made_with_one_input_has_constant_output():
    masks = made_masks(1, (3,))
    assert not masks[-1].any()


@pytest.mark.parametrize("bad, match", [(0, "n_in"), ("a", "n_in")])
def test_made_bad_n_in(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        made_masks(bad, (3,))


def test_made_bad_hidden_dims():
    with pytest.raises(TypeError, match="hidden_dims"):
        made_masks(3, 4)
    with pytest.raises(ValueError, match="hidden_dims entry"):
        made_masks(3, (4, 0))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("hidden", [(), (7,), (9, 6)])
def test_made_gradients(activation, hidden):
    rng = np.random.default_rng(len(hidden))
    made = MADE(5, hidden, rng, n_out_per_input=2, activation=activation, dtype=np.float64)
    x = rng.standard_normal((3, 5))
    r = rng.standard_normal((3, 10))

    def loss():
        return float(np.sum(made.forward(x) * r))

    loss()
    dx = made.backward(r.copy())
    for name, p, g in zip(made.param_names(), made.params, made.grads):
        assert_gradient(g.copy(), loss, p, name)
    assert_gradient(dx, loss, x, "x")


def test_made_has_the_mlp_contract():
    rng = np.random.default_rng(0)
    made = MADE(6, (8, 8), rng, n_out_per_input=3)
    assert made.sizes == (6, 8, 8, 18)
    assert made.param_names() == ["0.W", "0.b", "1.W", "1.b", "2.W", "2.b"]
    assert [p.shape for p in made.params] == list(MADE.param_shapes(made.sizes).values())
    assert len(made.masks) == 3
    made.forward(rng.standard_normal((2, 6)).astype(np.float32))
    assert made.backward(np.ones((2, 18), np.float32), need_input_grad=False) is None


def made_for_property(seed):
    rng = np.random.default_rng(seed)
    made = MADE(6, (12, 10), rng, n_out_per_input=2, activation="tanh", dtype=np.float64)
    # nonzero biases everywhere, so that no unit is silent by accident
    for b in made.params[1::2]:
        b[...] = rng.standard_normal(b.shape)
    return made, rng


@pytest.mark.parametrize("seed", range(3))
def test_made_is_autoregressive_by_perturbation(seed):
    made, rng = made_for_property(seed)
    n = 6
    x = rng.standard_normal((4, n))
    out = made.forward(x).reshape(4, 2, n)
    for j in range(n):
        x2 = x.copy()
        x2[:, j] += rng.standard_normal(4) * 3.0
        out2 = made.forward(x2).reshape(4, 2, n)
        changed = np.any(out2 != out, axis=(0, 1))  # (n,): did output i move?
        # changing x_j never moves an output i ≤ j ...
        assert not changed[: j + 1].any(), f"input {j} reached outputs {np.flatnonzero(changed)}"
        # ... and does move the later ones (the network is not trivially constant)
        assert changed[j + 1 :].all()


@pytest.mark.parametrize("seed", range(3))
def test_made_jacobian_is_strictly_lower_triangular(seed):
    made, rng = made_for_property(seed)
    n = 6
    x = rng.standard_normal((1, n))
    made.forward(x)
    # row k of the Jacobian ∂out/∂x, from the backward pass of a unit vector
    jac = np.stack([made.backward(np.eye(2 * n)[k : k + 1])[0] for k in range(2 * n)])
    for block in jac.reshape(2, n, n):  # [i, j] = ∂out_i / ∂x_j
        assert np.all(block[np.triu_indices(n)] == 0)  # j ≥ i: exactly zero
        assert np.all(block[np.tril_indices(n, k=-1)] != 0)  # j < i: connected
    # and the backward pass agrees with finite differences of the forward pass
    h = 1e-6
    numeric = np.stack(
        [(made.forward(x + h * e) - made.forward(x - h * e))[0] / (2 * h) for e in np.eye(n)],
        axis=1,
    )
    np.testing.assert_allclose(jac, numeric, atol=1e-7)


# ---------------------------------------------------------------------- image windows
def brute_force_window(height, width, w):
    d = height * width
    mask = np.zeros((d, d), bool)
    for i in range(d):
        ri, ci = divmod(i, width)
        for j in range(d):
            rj, cj = divmod(j, width)
            full = w == FULL
            mask[j, i] = j < i and (full or (ri - rj <= w and abs(ci - cj) <= w))
    return mask


@pytest.mark.parametrize("w", [0, 1, 2, 3, FULL])
@pytest.mark.parametrize("shape", [(4, 5), (3, 3), (1, 6)])
def test_window_mask_matches_its_definition(shape, w):
    np.testing.assert_array_equal(causal_window_mask(*shape, w), brute_force_window(*shape, w))


def test_window_mask_examples():
    assert not causal_window_mask(5, 5, 0).any()  # w = 0: no autoregression
    m = causal_window_mask(7, 7, 2)
    i = 3 * 7 + 3  # the centre pixel sees 2 rows of 5 above and 2 pixels to its left
    seen = np.flatnonzero(m[:, i])
    assert seen.tolist() == [1 * 7 + c for c in range(1, 6)] + [2 * 7 + c for c in range(1, 6)] + [
        3 * 7 + 1,
        3 * 7 + 2,
    ]
    assert m.sum(axis=0).max() == 2 * (2 * 2 + 1) + 2
    # a window as large as the image is the full context
    np.testing.assert_array_equal(causal_window_mask(4, 6, 5), causal_window_mask(4, 6, FULL))
    assert np.array_equal(causal_window_mask(4, 6, FULL), np.triu(np.ones((24, 24), bool), 1))


def test_window_masks_grow_with_w():
    masks = [causal_window_mask(6, 6, w) for w in range(6)]
    for small, large in zip(masks[:-1], masks[1:]):
        assert np.all(large[small]) and large.sum() > small.sum()


@pytest.mark.parametrize("bad", [-1, 1.5, "all", None, True])
def test_window_mask_bad_window(bad):
    with pytest.raises(ValueError, match="window must be an integer ≥ 0 or 'full'"):
        causal_window_mask(3, 3, bad)
