"""The signal-to-noise ratio of a gradient estimator, against cases with a known answer."""

from dataclasses import dataclass

import numpy as np
import pytest

from vae_lib import IWAE, IWAEConfig
from vae_lib.core.nn import MLP
from vae_lib.evaluation.gradient_snr import gradient_moments
from vae_lib.models.base import LossTerms, Model, ModelConfig


@dataclass(frozen=True)
class _Config(ModelConfig):
    dtype: str = "float64"


class KnownNoise(Model):
    """A model whose gradient is, entry by entry, g = c + s ⊙ ε with ε ~ N(0, I): its
    SNR is |c| / s exactly. Its one "network" is a single layer of 1 -> 200 (W and b)."""

    config_class = _Config
    C = np.concatenate([[0.5, -2.0, 0.1], np.zeros(197)])
    S = np.concatenate([[1.0, 0.5, 1.0], np.ones(197)])

    def build(self, rng):
        return {"net": MLP((1, 200), rng, dtype=np.float64)}

    @classmethod
    def param_shapes(cls, config):
        return {f"net.{n}": s for n, s in MLP.param_shapes((1, 200)).items()}

    def check_batch(self, batch, name="batch"):
        return np.asarray(batch, dtype=np.float64)

    def noise_shape(self, n):
        return (2, 200)

    def forward_backward(self, batch, noise):
        w_grad, b_grad = self.grads
        w_grad[0] = -self.C + self.S * noise[0]  # sign does not matter: |mean|
        b_grad[...] = self.C + self.S * noise[1]
        return LossTerms(loss=0.0, terms={})


def test_the_snr_of_a_known_gradient_noise():
    model = KnownNoise(_Config(), np.random.default_rng(0))
    m = 40_000
    moments = gradient_moments(model, np.zeros((1, 1)), m, np.random.default_rng(1))
    assert moments.n_draws == m and set(moments.mean) == {"net.0.W", "net.0.b"}
    snr = moments.snr("net.0.b")
    true = np.abs(KnownNoise.C) / KnownNoise.S
    # the estimate's standard error is about √((1 + SNR²/2) / M)
    se = np.sqrt((1 + true[:3] ** 2 / 2) / m)
    np.testing.assert_array_less(np.abs(snr[:3] - true[:3]), 4 * se)
    np.testing.assert_allclose(moments.std["net.0.b"][:3], KnownNoise.S[:3], rtol=0.02)
    # where the true SNR is 0 the estimate sits at the noise floor √(2 / (π M))
    floor = np.concatenate([moments.snr("net.0.W")[3:], snr[3:]])  # 394 zero-mean entries
    assert moments.noise_floor == pytest.approx(np.sqrt(2 / (np.pi * m)))
    assert np.mean(floor) == pytest.approx(moments.noise_floor, rel=0.1)
    assert moments.snr().shape == (400,)


def test_the_running_moments_are_those_of_the_draws():
    config = IWAEConfig(input_dim=6, hidden_dims=(5,), latent_dim=2, n_samples=3, dtype="float64")
    model = IWAE(config, np.random.default_rng(0))
    x = np.random.default_rng(1).uniform(size=(4, 6))
    before = [p.copy() for p in model.params]
    moments = gradient_moments(model, x, 50, np.random.default_rng(2), prefix="encoder.")
    assert list(moments.mean) == [n for n in model.param_names() if n.startswith("encoder.")]
    rng = np.random.default_rng(2)  # the same draws again, kept this time
    draws = []
    for _ in range(50):
        model.loss_and_grads(x, model.draw_noise(x, rng))
        draws.append([g.copy() for g in model.grads[: len(moments.mean)]])
    for i, name in enumerate(moments.mean):
        stack = np.array([d[i] for d in draws])
        np.testing.assert_allclose(moments.mean[name], stack.mean(axis=0), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(
            moments.std[name], stack.std(axis=0, ddof=1), rtol=1e-8, atol=1e-14
        )
    assert all(np.array_equal(p, q) for p, q in zip(before, model.params))
    snr = moments.snr()  # entries that never vary (a ReLU unit that is never on) are left out
    assert np.all(np.isfinite(snr)) and snr.size <= sum(m.size for m in moments.mean.values())


def test_bad_input_raises():
    model = KnownNoise(_Config(), np.random.default_rng(0))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_draws must be at least 2"):
        gradient_moments(model, np.zeros((1, 1)), 1, rng)
    with pytest.raises(ValueError, match="no parameter name starts with 'decoder.'"):
        gradient_moments(model, np.zeros((1, 1)), 3, rng, prefix="decoder.")
    with pytest.raises(TypeError, match="model must be a vae_lib model"):
        gradient_moments("model", np.zeros((1, 1)), 3, rng)
    moments = gradient_moments(model, np.zeros((1, 1)), 3, rng)
    with pytest.raises(ValueError, match="no parameter name starts with 'x'"):
        moments.snr("x")
