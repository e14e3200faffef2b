import numpy as np
import pytest

import vae_lib
from vae_lib import MLP, Adam, Linear, ReLU, Tanh
from vae_lib.testing import assert_gradient


def random_shapes(seed, count=3):
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in rng.integers(1, 7, size=2)) for _ in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_linear_gradients(seed):
    rng = np.random.default_rng(seed)
    n, (n_in, n_out) = int(rng.integers(1, 6)), random_shapes(seed, 1)[0]
    layer = Linear(n_in, n_out, rng, dtype=np.float64)
    x = rng.standard_normal((n, n_in))
    r = rng.standard_normal((n, n_out))

    def loss():
        return float(np.sum(layer.forward(x) * r))

    loss()
    dx = layer.backward(r.copy())
    assert_gradient(layer.dW.copy(), loss, layer.W, "W")
    assert_gradient(layer.db.copy(), loss, layer.b, "b")
    assert_gradient(dx, loss, x, "x")


@pytest.mark.parametrize("cls", [ReLU, Tanh])
def test_activation_gradients(cls):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5)) + 0.05  # keep ReLU inputs away from the kink at 0
    x[np.abs(x) < 1e-3] = 0.5
    r = rng.standard_normal((4, 5))
    layer = cls()

    def loss():
        return float(np.sum(layer.forward(x.copy()) * r))

    loss()
    dx = layer.backward(r.copy())
    assert_gradient(dx, loss, x, cls.__name__)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("seed", range(3))
def test_mlp_gradients_random_shapes(activation, seed):
    rng = np.random.default_rng(100 + seed)
    sizes = tuple(int(s) for s in rng.integers(1, 8, size=int(rng.integers(2, 5))))
    mlp = MLP(sizes, rng, activation=activation, dtype=np.float64)
    x = rng.standard_normal((int(rng.integers(1, 6)), sizes[0]))
    r = rng.standard_normal((len(x), sizes[-1]))

    def loss():
        return float(np.sum(mlp.forward(x) * r))

    loss()
    dx = mlp.backward(r.copy())
    for i, (p, g) in enumerate(zip(mlp.params, mlp.grads)):
        assert_gradient(g.copy(), loss, p, f"param {i}")
    assert_gradient(dx, loss, x, "x")


def test_mlp_skips_input_gradient_on_request():
    rng = np.random.default_rng(0)
    mlp = MLP((3, 4, 2), rng)
    mlp.forward(rng.standard_normal((5, 3)).astype(np.float32))
    assert mlp.backward(np.ones((5, 2), np.float32), need_input_grad=False) is None


def test_mlp_same_seed_same_weights():
    a = MLP((5, 7, 3), np.random.default_rng(3))
    b = MLP((5, 7, 3), np.random.default_rng(3))
    for p, q in zip(a.params, b.params):
        np.testing.assert_array_equal(p, q)


def test_linear_init_matches_pytorch_scheme():
    rng = np.random.default_rng(0)
    layer = Linear(400, 300, rng)
    bound = 1 / np.sqrt(400)
    assert layer.W.dtype == np.float32
    assert np.abs(layer.W).max() <= bound and np.abs(layer.b).max() <= bound
    # a uniform on [-a, a] has standard deviation a / sqrt(3)
    assert layer.W.std() == pytest.approx(bound / np.sqrt(3), rel=0.01)


def test_adam_matches_reference_arithmetic():
    rng = np.random.default_rng(0)
    p = rng.standard_normal(5)
    ref = p.copy()
    opt = Adam([p], lr=0.01)
    m = v = np.zeros(5)
    for t in range(1, 6):
        g = rng.standard_normal(5)
        opt.step([g])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref = ref - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(p, ref, rtol=1e-12)
    np.testing.assert_allclose(opt.m[0], m, rtol=1e-12)  # the usual moments, as documented
    np.testing.assert_allclose(opt.v[0], v, rtol=1e-12)


def test_adam_keeps_float32_parameters_float32():
    p = np.ones(4, np.float32)
    state = Adam([p])
    state.step([np.full(4, 0.5, np.float32)])
    assert p.dtype == np.float32 and state.m[0].dtype == np.float32
    np.testing.assert_allclose(p, 1 - 1e-3, rtol=1e-6)  # the first step moves by lr


def test_adam_minimises_a_quadratic():
    p = np.array([3.0, -2.0])
    opt = Adam([p], lr=0.1)
    for _ in range(500):
        opt.step([2 * p])
    assert np.abs(p).max() < 1e-2


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"sizes": (3,)}, ValueError, "at least two widths"),
        ({"sizes": (3, 0)}, ValueError, "sizes entry must be at least 1; got 0"),
        ({"sizes": (4, 2.7, 2)}, TypeError, "sizes entry must be an integer; got float"),
        ({"sizes": (10**6, 10**6)}, ValueError, "make 1,000,001,000,000 parameters; at most"),
        ({"dtype": np.int32}, TypeError, "dtype must be float32 or float64; got int32"),
        ({"activation": "gelu"}, ValueError, "activation must be one of"),
        ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_mlp_bad_arguments(kwargs, error, words):
    args = {"sizes": (3, 2), "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=words):
        MLP(**args)


def test_adam_bad_arguments():
    p = [np.zeros(2)]
    with pytest.raises(ValueError, match="lr must be a finite number greater than 0; got -1"):
        Adam(p, lr=-1)
    with pytest.raises(ValueError, match="beta1 must lie in"):
        Adam(p, beta1=1.0)
    with pytest.raises(ValueError, match="one array per parameter"):
        Adam(p).step([])


# ------------------------------------------------------------------ the layer contract
def layers_and_inputs():
    rng = np.random.default_rng(0)
    return [
        (Linear(3, 4, rng, dtype=np.float64), rng.standard_normal((5, 3))),
        (ReLU(), rng.standard_normal((5, 4))),
        (Tanh(), rng.standard_normal((5, 4))),
        (MLP((3, 6, 4), rng, dtype=np.float64), rng.standard_normal((5, 3))),
    ]


@pytest.mark.parametrize("layer, x", layers_and_inputs(), ids=lambda v: type(v).__name__)
def test_forward_and_backward_never_write_into_their_arguments(layer, x):
    x_before = x.copy()
    y = layer.forward(x)
    assert not np.shares_memory(x, y)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    dy_before = dy.copy()
    dx = layer.backward(dy)
    assert np.array_equal(x, x_before) and np.array_equal(dy, dy_before)
    assert not np.shares_memory(dx, dy)


@pytest.mark.parametrize("layer, x", layers_and_inputs(), ids=lambda v: type(v).__name__)
def test_backward_differentiates_the_last_forward_call(layer, x):
    """Calling forward twice, then backward, gives the gradient at the second input."""
    other = x * 2.0 + 0.3
    dy = np.random.default_rng(2).standard_normal(layer.forward(x).shape)
    layer.forward(other)
    after_two_calls = layer.backward(dy)
    grads_after_two = [g.copy() for g in layer.grads]
    layer.forward(other)
    assert np.array_equal(layer.backward(dy), after_two_calls)
    assert all(np.array_equal(a, b) for a, b in zip(grads_after_two, layer.grads))


@pytest.mark.parametrize("layer, x", layers_and_inputs(), ids=lambda v: type(v).__name__)
def test_params_and_grads_are_the_same_arrays_on_every_call(layer, x):
    before = [id(p) for p in layer.params] + [id(g) for g in layer.grads]
    layer.forward(x)
    layer.backward(np.ones_like(layer.forward(x)))
    assert [id(p) for p in layer.params] + [id(g) for g in layer.grads] == before
    names = layer.param_names()
    assert len(names) == len(layer.params)


def test_backward_before_forward_is_an_error():
    layer = Linear(2, 3, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        layer.backward(np.zeros((1, 3), np.float32))


def test_grads_are_overwritten_not_accumulated():
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng, dtype=np.float64)
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dy)
    first = layer.dW.copy()
    layer.forward(x)
    layer.backward(dy)
    assert np.array_equal(layer.dW, first)


def test_everything_with_parameters_is_a_module():
    """One contract (params, grads, param_names(), forward, backward) for every piece."""
    from vae_lib.core.flows import AffineAutoregressiveFlow
    from vae_lib.core.likelihoods import Bernoulli, Gaussian
    from vae_lib.core.nn import Module
    from vae_lib.core.quantization import Codebook

    rng = np.random.default_rng(0)
    pieces = [
        vae_lib.Linear(3, 2, rng),
        vae_lib.ReLU(),
        vae_lib.MLP((3, 4, 2), rng),
        vae_lib.MADE(3, (4,), rng),
        AffineAutoregressiveFlow(3, (4,), rng),
        Gaussian(0.5, learn_std=True),
        Bernoulli(),
        Codebook(4, 2, True, rng, np.float32),
    ]
    for piece in pieces:
        assert isinstance(piece, Module)
        names, params, grads = piece.param_names(), piece.params, piece.grads
        assert len(names) == len(params) == len(grads)
        assert all(p.shape == g.shape for p, g in zip(params, grads))
