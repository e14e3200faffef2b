import numpy as np
import pytest

from vae_lib import VAE
from vae_lib.models.vae import VAEConfig
from vae_lib.models.vlae import VLAE, VLAEConfig


@pytest.fixture(scope="module")
def vae():
    return VAE(VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=3), np.random.default_rng(0))


@pytest.fixture(scope="module")
def vlae():
    config = VLAEConfig(
        input_dim=16,
        hidden_dims=(8,),
        latent_dim=3,
        window=1,
        units_per_pixel=2,
        image_shape=(4, 4),
    )
    return VLAE(config, np.random.default_rng(1))


@pytest.fixture(scope="module")
def images():
    """Binary 4 x 4 images, a vertical bar in one of four columns with some noise."""
    rng = np.random.default_rng(2)
    bars = np.zeros((4, 4, 4), dtype=np.uint8)
    for c in range(4):
        bars[c, :, c] = 1
    x = bars[rng.integers(0, 4, 200)].reshape(200, 16)
    return x ^ (rng.random(x.shape) < 0.05)
