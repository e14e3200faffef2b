"""The affine autoregressive flow: invertible, triangular with the stated log-determinant,
and a backward pass that matches finite differences."""

import numpy as np
import pytest

from vae_lib.core.flows import AffineAutoregressiveFlow


@pytest.fixture(scope="module")
def flow():
    f = AffineAutoregressiveFlow(4, (12,), np.random.default_rng(0), dtype=np.float64)
    for p in f.params:  # larger weights than at initialisation: a flow far from the identity
        p *= 2.0
    return f


def test_inverse_undoes_the_flow(flow):
    z = np.random.default_rng(1).standard_normal((50, 4))
    u, _ = flow.forward(z)
    np.testing.assert_allclose(flow.inverse(u), z, atol=1e-10)


def test_jacobian_is_triangular_with_the_stated_log_determinant(flow):
    z = np.random.default_rng(2).standard_normal((1, 4))
    u, s = flow.forward(z)
    h = 1e-6
    jac = np.empty((4, 4))  # jac[i, j] = ∂u_i / ∂z_j
    for j in range(4):
        dz = np.zeros((1, 4))
        dz[0, j] = h
        jac[:, j] = (flow.forward(z + dz)[0] - flow.forward(z - dz)[0])[0] / (2 * h)
    assert np.allclose(np.triu(jac, k=1), 0.0, atol=1e-9)  # u_i depends on z_{≤i} only
    np.testing.assert_allclose(np.diag(jac), np.exp(-s[0]), rtol=1e-6)
    assert np.linalg.slogdet(jac)[1] == pytest.approx(-s.sum(), abs=1e-6)


def test_flow_backward_matches_finite_differences(flow):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 4))
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))

    def objective(zz):
        u, s = flow.forward(zz)
        return float(np.sum(a * u) + np.sum(b * s))

    objective(z)
    dz = flow.backward(a, b)
    numeric = np.zeros_like(z)
    for idx in np.ndindex(*z.shape):
        e = np.zeros_like(z)
        e[idx] = 1e-6
        numeric[idx] = (objective(z + e) - objective(z - e)) / 2e-6
    np.testing.assert_allclose(dz, numeric, rtol=1e-6, atol=1e-8)
    with pytest.raises(RuntimeError, match="before forward"):
        AffineAutoregressiveFlow(2, (3,), np.random.default_rng(0)).backward(a[:, :2], b[:, :2])


# ---------------------------------------------------------------------- checked input
def small_flow(dtype=np.float32):
    return AffineAutoregressiveFlow(3, (8,), np.random.default_rng(0), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_integer_input_is_computed_in_the_flows_float_dtype(dtype):
    flow = small_flow(dtype)
    ints = np.array([[1, 0, 1], [2, -1, 0]])
    z = flow.inverse(ints)
    assert z.dtype == dtype
    np.testing.assert_array_equal(z, flow.inverse(ints.astype(dtype)))
    u, s = flow.forward(ints)
    assert u.dtype == s.dtype == dtype
    np.testing.assert_array_equal(u, flow.forward(ints.astype(dtype))[0])
    bools = np.array([[True, False, True]])
    np.testing.assert_array_equal(flow.inverse(bools), flow.inverse(bools.astype(dtype)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("method, name", [("forward", "z"), ("inverse", "u")])
def test_non_finite_input_is_refused(method, name, bad):
    x = np.zeros((2, 3))
    x[1, 2] = bad
    with pytest.raises(ValueError, match=f"{name} must be finite; got 1 NaN or infinite") as err:
        getattr(small_flow(), method)(x)
    # also a FloatingPointError: inside training such values come from an overflow upstream
    assert isinstance(err.value, FloatingPointError)


@pytest.mark.parametrize(
    "x, error, words",
    [
        (np.zeros((2, 4)), ValueError, r"must have shape \(N, 3\); got shape \(2, 4\)"),
        (np.zeros(3), ValueError, r"must be a 2-D array of shape \(N, 3\); got shape \(3,\)"),
        (np.zeros((1, 2, 3)), ValueError, "must be a 2-D array"),
        ("abc", TypeError, "must be an array of numbers; got str"),
        (None, TypeError, "must be an array of numbers; got NoneType"),
        (np.zeros((2, 3), complex), TypeError, "must be real"),
        (np.zeros((2, 3), object), TypeError, "must be an array of numbers; got dtype object"),
    ],
)
@pytest.mark.parametrize("method, name", [("forward", "z"), ("inverse", "u")])
def test_bad_input_is_a_clear_error(method, name, x, error, words):
    with pytest.raises(error, match=f"{name} {words}"):
        getattr(small_flow(), method)(x)


@pytest.mark.parametrize(
    "method, value, what",
    [("forward", 1e4, r"f\(z\)"), ("forward", -1e4, r"f\(z\)"), ("inverse", 1e4, r"f⁻¹\(u\)")],
)
def test_an_overflowing_output_says_what_is_too_large(method, value, what):
    x = np.full((2, 3), value, np.float32)
    with np.errstate(over="raise", invalid="raise"):  # not numpy's error: the flow's
        with pytest.raises(
            FloatingPointError,
            match=f"{what} is NaN or infinite in float32: the input or the weights are too large",
        ):
            getattr(small_flow(), method)(x)


@pytest.mark.parametrize("flow_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_valid_input_gives_the_formula_exactly(flow_dtype, x_dtype):
    flow = small_flow(flow_dtype)
    z = np.random.default_rng(4).standard_normal((6, 3)).astype(x_dtype)
    z0 = z.copy()
    h = flow.made.forward(z)
    u, s = flow.forward(z)
    np.testing.assert_array_equal(s, h[:, 3:])
    np.testing.assert_array_equal(u, (z - h[:, :3]) * np.exp(-h[:, 3:]))
    assert u.dtype == np.result_type(flow_dtype, x_dtype) and np.array_equal(z, z0)
    back = flow.inverse(u)
    assert back.dtype == u.dtype
    np.testing.assert_allclose(back, z, atol=1e-4 if np.float32 in (flow_dtype, x_dtype) else 1e-10)
