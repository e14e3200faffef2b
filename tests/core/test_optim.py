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
