"""The gradient checks catch wrong gradients (a check that cannot fail checks nothing)."""

import numpy as np
import pytest

import vae_lib
from vae_lib.testing import (
    check_model_gradients,
    directional_derivative_error,
    numerical_gradient,
)


class HalfDecoderGradient(vae_lib.VAE):
    """A VAE whose backward pass halves one decoder bias gradient: a one-entry bug."""

    def forward_backward(self, x, eps):
        result = super().forward_backward(x, eps)
        self.decoder.layers[-1].db[0] *= 0.5
        return result


def test_numerical_gradient_of_a_quadratic():
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(numerical_gradient(lambda: float(np.sum(x**2)), x), 2 * x, rtol=1e-8)
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, x.astype(np.float32))


def test_directional_check_of_a_quadratic():
    a, b = np.array([1.0, 2.0]), np.array([[3.0]])

    def f():
        return float(np.sum(a**2) + np.sum(b**3))

    rng = np.random.default_rng(0)
    assert directional_derivative_error(f, [a, b], [2 * a, 3 * b**2], rng) < 1e-8
    assert directional_derivative_error(f, [a, b], [2 * a, 2 * b**2], rng) > 1e-3
    assert np.array_equal(a, [1.0, 2.0]) and np.array_equal(b, [[3.0]])  # restored


@pytest.mark.parametrize("entrywise", [True, False])
def test_a_one_entry_bug_is_caught(entrywise):
    config = vae_lib.VAEConfig(input_dim=5, hidden_dims=(4,), latent_dim=2, dtype="float64")
    x = np.random.default_rng(0).uniform(size=(3, 5))
    good = vae_lib.VAE(config, np.random.default_rng(1))
    assert check_model_gradients(good, x, np.random.default_rng(2), entrywise=entrywise) < 1e-6
    bad = HalfDecoderGradient(config, np.random.default_rng(1))
    with pytest.raises(AssertionError, match="gradient relative error"):
        check_model_gradients(bad, x, np.random.default_rng(2), entrywise=entrywise)
