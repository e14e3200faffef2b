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
