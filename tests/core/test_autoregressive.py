import re
import tracemalloc

import numpy as np
import pytest

from vae_lib import Adam
from vae_lib.core.autoregressive import (
    FULL,
    MADE,
    AutoregressiveNetwork,
    MaskedLinear,
    causal_window_mask,
    check_steps,
    column_blocks,
    made_degrees,
    made_masks,
    receptive_field_masks,
    step_groups,
    wavefront_steps,
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
    assert layer.param_names() == ["W", "b"] and layer.W.dtype == np.float32
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


@pytest.mark.parametrize("width", [3, 10, 50, 783, 800])
def test_every_input_reaches_some_output_whatever_the_width(width):
    """A layer narrower than n_in - 1 spreads its degrees: the last inputs are seen too,
    where taking the degrees in turn left every input after the width-th unseen."""
    n_in = 784
    degrees = made_degrees(n_in, (width,))[1]
    assert degrees.min() == 1 and degrees.max() == n_in - 1
    masks = made_masks(n_in, (width,))
    reach = (masks[0].astype(np.int64) @ masks[1].astype(np.int64)) > 0
    # every input but the last reaches a later output; none reaches itself or an earlier one
    assert reach[:-1].any(axis=1).all() and not np.tril(reach).any()


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


@pytest.mark.parametrize("shape", [(5, 1), (1, 1), (2, 7), (6, 4), (4, 6)])
@pytest.mark.parametrize("w", [0, 1, 2, 4, 7, 10**30, FULL])
def test_window_mask_matches_its_definition_on_more_shapes(shape, w):
    expected = brute_force_window(*shape, FULL if w == 10**30 else w)
    np.testing.assert_array_equal(causal_window_mask(*shape, w), expected)


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((3, 3, "x"), ValueError, r"window must be an integer ≥ 0 or 'full'; got 'x' \(str\)"),
        ((3, 3, 2.0), ValueError, r"window must be an integer ≥ 0 or 'full'; got 2.0 \(float\)"),
        ((3, 3, np.float64(1)), ValueError, "window must be an integer"),
        ((0, 3, 1), ValueError, "height must be at least 1; got 0"),
        ((3, -2, 1), ValueError, "width must be at least 1; got -2"),
        (("3", 3, 1), TypeError, "height must be an integer; got str"),
        ((3, 2.0, 1), TypeError, "width must be an integer; got float"),
    ],
)
def test_window_mask_bad_arguments(args, error, words):
    with pytest.raises(error, match=words):
        causal_window_mask(*args)


def peak_bytes(call):
    """The most memory (bytes) numpy and Python held at once during ``call()``, and what
    ``call()`` raised (or returned)."""
    tracemalloc.start()
    try:
        outcome = call()
    except (ValueError, TypeError) as err:
        outcome = err
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, outcome


def test_window_mask_allocates_no_integer_tables():
    d = 48 * 48
    peak, mask = peak_bytes(lambda: causal_window_mask(48, 48, 1))
    assert mask.shape == (d, d) and mask.dtype == bool
    assert peak < 1.5 * d * d  # the bool mask and small tables, not (D, D) int64 arrays


HUGE = {
    "window mask 128x128": lambda: causal_window_mask(128, 128, 1),
    "window mask 200x300": lambda: causal_window_mask(200, 300, FULL),
    "made_degrees 1e9": lambda: made_degrees(10**9, ()),
    "made_masks 2e4": lambda: made_masks(20_000, (20_000,)),
    "MADE 1e5": lambda: MADE(10**5, (10**5,), np.random.default_rng(0)),
    "MADE 6000": lambda: MADE(6000, (6000,), np.random.default_rng(0)),
    "MaskedLinear 8000": lambda: MaskedLinear(
        np.broadcast_to(True, (8000, 8000)), np.random.default_rng(0)
    ),
}


@pytest.mark.parametrize("call", HUGE.values(), ids=HUGE.keys())
def test_huge_requests_fail_before_they_allocate(call):
    peak, err = peak_bytes(call)
    assert isinstance(err, ValueError), err
    assert re.search(r"asks for [\d,]+ array entries; at most 268,435,456 are allowed", str(err))
    assert peak < 1 << 20, f"{peak:,} bytes allocated before the error"


def test_a_huge_request_names_its_arguments():
    with pytest.raises(ValueError, match=r"MADE\(n_in=6000, hidden_dims=\(6000,\), n_out_"):
        MADE(6000, (6000,), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"the 16384x16384 mask of a 128x128 image asks for"):
        causal_window_mask(128, 128, 1)


def test_a_bad_window_fails_before_the_mask_is_made():
    peak, err = peak_bytes(lambda: causal_window_mask(100, 100, "abc"))
    assert isinstance(err, ValueError) and "window must be" in str(err)
    assert peak < 1 << 20


@pytest.mark.parametrize("dtype", [np.int32, np.int64, bool, np.complex128, np.float16, "foo"])
def test_masked_linear_refuses_non_float_dtypes(dtype):
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got "):
        MaskedLinear(np.ones((3, 2), bool), np.random.default_rng(0), dtype=dtype)


def test_made_refuses_bad_hidden_dims_types():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="hidden_dims must be a sequence of ints; got 5"):
        MADE(3, 5, rng)
    with pytest.raises(TypeError, match="hidden_dims entry must be an integer; got float"):
        MADE(3, (4.0,), rng)
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got int32"):
        MADE(3, (4,), rng, dtype=np.int32)
    made = MADE(3, np.array([4, 5]), rng)  # a 1-D array of widths is a sequence
    assert made.sizes == (3, 4, 5, 3)


# ---------------------------------------------------------------------- network over a mask
def jacobian(network, x):
    """∂ a(x)_i / ∂ x_j for one image, by the backward pass: (D, D) [j, i]."""
    d = x.shape[1]
    rows = []
    for i in range(d):
        network.forward(x)
        dy = np.zeros((1, d))
        dy[0, i] = 1
        rows.append(network.backward(dy)[0])
    return np.array(rows).T


@pytest.mark.parametrize("window", [0, 1, 2, 3, FULL])
@pytest.mark.parametrize("units", [0, 1, 3])
def test_network_reads_exactly_each_pixels_window(window, units):
    """By perturbation and by the Jacobian: output i moves with pixel j only if i sees j,
    and (with positive weights, so no ReLU is dead) with every j it sees."""
    field = causal_window_mask(4, 5, window)
    net = AutoregressiveNetwork(field, units, np.random.default_rng(0), dtype=np.float64)
    for p in net.params:
        p[...] = np.abs(p) + 0.1
    x = (np.random.default_rng(1).uniform(size=(1, 20)) < 0.5).astype(np.float64)
    base = net.forward(x)
    for j in range(20):
        x2 = x.copy()
        x2[0, j] = 1 - x2[0, j]
        moved = net.forward(x2)[0] != base[0]
        np.testing.assert_array_equal(moved, field[j], err_msg=f"pixel {j}")
    jac = jacobian(net, x)
    assert not np.any(jac[~field])  # strictly upper triangular, and within each window


@pytest.mark.parametrize("window", [1, FULL])
def test_network_gradients(window):
    rng = np.random.default_rng(2)
    net = AutoregressiveNetwork(causal_window_mask(3, 3, window), 2, rng, dtype=np.float64)
    x = rng.standard_normal((4, 9))
    r = rng.standard_normal((4, 9))

    def loss():
        return float(np.sum(net.forward(x) * r))

    net.forward(x)
    dx = net.backward(r)
    for name, p, g in zip(net.param_names(), net.params, net.grads):
        assert_gradient(g.copy(), loss, p, name=name)
    assert_gradient(dx, loss, x, name="x")
    assert net.param_names() == ["hidden.W", "hidden.b", "output.W", "skip.W"]
    assert {n: p.shape for n, p in zip(net.param_names(), net.params)} == (
        AutoregressiveNetwork.param_shapes(9, 2)
    )


def test_full_context_masks_are_made_with_owner_degrees():
    """For the full context, the owner rule is MADE with degree = the owner's index."""
    into_hidden, into_output = receptive_field_masks(causal_window_mask(1, 6, FULL), 1)
    degrees = np.arange(6)  # unit h is owned by pixel h and sees x_{<h}
    np.testing.assert_array_equal(into_hidden, degrees[None, :] > np.arange(6)[:, None])
    np.testing.assert_array_equal(
        into_output, (degrees[:, None] <= np.arange(6)[None, :]) & (degrees[:, None] >= 1)
    )


def test_window_units_are_read_by_their_owner():
    field = causal_window_mask(5, 5, 1)
    into_hidden, into_output = receptive_field_masks(field, 2)
    for p in range(1, 25):
        assert into_output[2 * p, p] and into_output[2 * p + 1, p]
        np.testing.assert_array_equal(into_hidden[:, 2 * p], field[:, p])


@pytest.mark.parametrize(
    "field, units, error, match",
    [
        (np.ones((3, 3), bool), 1, ValueError, "strictly upper triangular"),
        (np.zeros((3, 4), bool), 1, ValueError, "square bool array"),
        (np.zeros((3, 3)), 1, ValueError, "square bool array"),
        (np.zeros((3, 3), bool), -1, ValueError, "units_per_pixel must be an integer ≥ 0"),
        (np.zeros((3, 3), bool), 1.5, TypeError, "units_per_pixel must be an integer ≥ 0"),
    ],
)
def test_network_bad_arguments(field, units, error, match):
    with pytest.raises(error, match=match):
        AutoregressiveNetwork(field, units, np.random.default_rng(0))


def test_network_size_is_counted_before_allocating():
    peak, err = peak_bytes(
        lambda: AutoregressiveNetwork(np.zeros((3000, 3000), bool), 10, np.random.default_rng(0))
    )
    assert isinstance(err, ValueError) and "array entries" in str(err)
    assert peak < 100e6  # only the caller's (3000, 3000) mask exists


# ---------------------------------------------------------------------- wavefront
@pytest.mark.parametrize("window, n_steps", [(1, 82), (2, 109), (3, 136), (5, 190), (FULL, 784)])
def test_wavefront_of_a_window_on_the_digits(window, n_steps):
    """Pixel (r, c) comes at step (w + 1) r + c: the longest chain of a 28 × 28 window."""
    field = causal_window_mask(28, 28, window)
    steps = wavefront_steps(field)
    assert steps.max() + 1 == n_steps
    if window != FULL:
        r, c = np.divmod(np.arange(784), 28)
        np.testing.assert_array_equal(steps, (window + 1) * r + c)
    check_steps(steps, field)  # every pixel's parents come at earlier steps


def test_a_schedule_that_draws_a_pixel_before_its_parents_is_refused():
    field = causal_window_mask(3, 3, 1)
    steps = wavefront_steps(field)
    steps[4] = steps[3]  # pixel 4 sees pixel 3
    with pytest.raises(ValueError, match="pixel 4 is scheduled at step"):
        check_steps(steps, field)
    with pytest.raises(ValueError, match="one step per pixel"):
        check_steps(np.arange(8), field)


def gathered_at_every_step(network, base_logits, steps, choose):
    """A draw that gathers each step's columns of the masked weights when it needs them:
    what :meth:`AutoregressiveNetwork.draw` did before it gathered them into a plan."""
    x = np.zeros(base_logits.shape, dtype=network.skip.W.dtype)
    skip = network.skip.masked_weights
    into_hidden, into_output = network.hidden.masked_weights, network.output.masked_weights
    hidden = np.zeros((len(x), into_hidden.shape[1]), dtype=x.dtype)
    computed = np.zeros(into_hidden.shape[1], dtype=bool)
    for pixels in step_groups(steps):
        logits = base_logits[:, pixels] + x @ skip[:, pixels]
        new = np.flatnonzero(network.output.mask[:, pixels].any(axis=1) & ~computed)
        if new.size:
            hidden[:, new] = np.maximum(x @ into_hidden[:, new] + network.hidden.b[new], 0)
            computed[new] = True
        logits += hidden @ into_output[:, pixels]
        x[:, pixels] = choose(pixels, logits)
    return x


def threshold_choice(u, seen):
    def choose(pixels, logits):
        seen.append(logits.copy())
        return u[:, pixels] < 1 / (1 + np.exp(-logits))

    return choose


@pytest.mark.parametrize("window", [1, 2, FULL])
@pytest.mark.parametrize("n_images", [1, 7])
def test_a_plan_draws_bit_for_bit_as_gathering_at_every_step(window, n_images):
    rng = np.random.default_rng(41)
    field = causal_window_mask(6, 5, window)
    network = AutoregressiveNetwork(field, 2, rng)
    steps = wavefront_steps(field)
    base = rng.normal(size=(n_images, 30)).astype(np.float32)
    u = rng.uniform(size=base.shape)
    plan = network.draw_plan(steps)
    expected_logits, got_logits = [], []
    expected = gathered_at_every_step(network, base, steps, threshold_choice(u, expected_logits))
    for _ in range(2):  # a plan is used many times
        got_logits.clear()
        np.testing.assert_array_equal(plan.draw(base, threshold_choice(u, got_logits)), expected)
        for a, b in zip(got_logits, expected_logits, strict=True):
            assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(network.draw(base, steps, threshold_choice(u, [])), expected)


def test_a_plan_keeps_the_weights_it_was_made_with():
    rng = np.random.default_rng(42)
    field = causal_window_mask(4, 4, 1)
    network = AutoregressiveNetwork(field, 1, rng)
    steps = wavefront_steps(field)
    base, u = rng.normal(size=(50, 16)), rng.uniform(size=(50, 16))
    plan = network.draw_plan(steps)
    before = plan.draw(base, threshold_choice(u, []))
    network.skip.W[...] += 5.0  # as training would
    np.testing.assert_array_equal(plan.draw(base, threshold_choice(u, [])), before)
    assert not np.array_equal(network.draw(base, steps, threshold_choice(u, [])), before)


def test_a_plan_refuses_logits_of_another_width_and_a_choice_that_is_not_callable():
    field = causal_window_mask(3, 3, 1)
    plan = AutoregressiveNetwork(field, 1, np.random.default_rng(0)).draw_plan(
        wavefront_steps(field)
    )
    with pytest.raises(ValueError, match="base_logits"):
        plan.draw(np.zeros((2, 8)), lambda pixels, logits: logits > 0)
    with pytest.raises(TypeError, match="choose must be a callable"):
        plan.draw(np.zeros((2, 9)), "threshold")


# ---------------------------------------------------------------------- banded masks
def _dense_twin(layer: MaskedLinear) -> MaskedLinear:
    """The same layer made to take the one dense product."""
    twin = MaskedLinear(layer.mask, np.random.default_rng(0), layer.W.dtype, layer.has_bias)
    for mine, theirs in zip(layer.params, twin.params):
        theirs[...] = mine
    twin.blocks, twin._W_masked = None, [np.empty_like(twin.W)]
    return twin


@pytest.mark.parametrize("window", [1, 2, 3])
@pytest.mark.parametrize("which", ["field", "into_hidden", "into_output"])
def test_a_window_s_masks_are_multiplied_by_blocks_as_densely(window, which):
    field = causal_window_mask(9, 11, window)
    into_hidden, into_output = receptive_field_masks(field, 2)
    mask = {"field": field, "into_hidden": into_hidden, "into_output": into_output}[which]
    rng = np.random.default_rng(window)
    layer = MaskedLinear(mask, rng, dtype=np.float64, bias=which == "into_hidden")
    assert layer.blocks is not None
    twin = _dense_twin(layer)
    x = rng.uniform(size=(5, mask.shape[0])) < 0.5  # pixels, as bool
    dy = rng.standard_normal((5, mask.shape[1]))
    np.testing.assert_allclose(layer.forward(x), twin.forward(x), rtol=1e-12, atol=1e-12)
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, twin.backward(dy), rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(layer.grads, twin.grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    assert np.all(layer.dW[~mask] == 0)
    assert layer.backward(dy, need_input_grad=False) is None


def test_blocks_cover_every_weight_the_mask_lets_through():
    mask = causal_window_mask(28, 28, 2)
    blocks = column_blocks(mask)
    covered = np.zeros(mask.shape, dtype=bool)
    for rows, cols in blocks:
        assert not covered[rows, cols].any()  # the regions Adam updates do not overlap
        covered[rows, cols] = True
    assert np.all(covered[mask])
    assert covered.sum() <= 0.4 * mask.size
    # the first pixel sees nothing: its block reads no input and its output is 0
    assert blocks[0][0].start < blocks[0][0].stop
    layer = MaskedLinear(mask, np.random.default_rng(0), bias=False)
    assert np.all(layer.forward(np.ones((2, 784), np.float32))[:, 0] == 0)


def test_only_banded_masks_are_cut_into_blocks():
    # the full context's triangle (half the products) and MADE's masks stay dense
    assert column_blocks(causal_window_mask(28, 28, FULL)) is None
    assert all(column_blocks(m) is None for m in made_masks(784, (1000,)))
    assert column_blocks(causal_window_mask(28, 28, 8)) is not None
    # the triangle is multiplied densely, but Adam passes over its column blocks only
    layer = MaskedLinear(causal_window_mask(28, 28, FULL), np.random.default_rng(0))
    assert layer.blocks is None
    (w_regions, b_regions) = layer.param_regions()
    assert w_regions == column_blocks(layer.mask, worth=0.9) and b_regions is None
    assert sum((r.stop - r.start) * (c.stop - c.start) for r, c in w_regions) < 0.6 * 784**2
    covered = np.zeros(layer.mask.shape, bool)
    for rows, cols in w_regions:
        covered[rows, cols] = True
    assert np.all(covered[layer.mask])  # every weight a gradient can reach


@pytest.mark.parametrize("window", [1, FULL])
def test_a_masked_layer_trains_bit_for_bit_the_same_with_adam_s_regions(window):
    rng = np.random.default_rng(3)
    mask = causal_window_mask(10, 10, window)
    layers = [MaskedLinear(mask, np.random.default_rng(0)) for _ in range(2)]
    regions = layers[0].param_regions()
    assert regions[0] is not None and regions[1] is None
    assert regions[0] == (layers[0].blocks or column_blocks(mask, worth=0.9))
    optimizers = [Adam(layers[0].params, lr=1e-2, regions=regions), Adam(layers[1].params, lr=1e-2)]
    for _ in range(10):
        x = rng.standard_normal((8, 100)).astype(np.float32)
        dy = rng.standard_normal((8, 100)).astype(np.float32)
        for layer, optimizer in zip(layers, optimizers):
            layer.forward(x)
            layer.backward(dy)
            optimizer.step(layer.grads)
    for mine, theirs in zip(layers[0].params, layers[1].params):
        assert np.array_equal(mine, theirs)
    for mine, theirs in zip(optimizers[0].v, optimizers[1].v):
        assert np.array_equal(mine, theirs)
    assert np.all(layers[0].W[~mask] == 0)
