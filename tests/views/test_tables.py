"""Numbers stated as the book states them."""

import pytest

import vae_lib
from vae_lib.views import format_nats


@pytest.fixture(scope="module")
def subset():
    return vae_lib.mnist_subset()


def test_format_nats_states_split_binarization_and_k(subset):
    text = format_nats(-98.123, subset, split="test", binarization="dynamic", k=1)
    assert text.startswith("-98.12 nats per image (ELBO, K = 1; MNIST subset, test split of 1000")
    assert "dynamically binarized" in text
    text = format_nats(-95.0, subset, split="train", binarization="static", k=5000)
    assert "K = 5000 importance samples" in text and "train split of 4000" in text
    with pytest.raises(ValueError, match="binarization must be one of"):
        format_nats(-95.0, subset, split="test", binarization="sampled", k=1)
    with pytest.raises(ValueError, match="k must be an integer of at least 1; got 0"):
        format_nats(-95.0, subset, split="test", binarization="static", k=0)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'; got 'val'"):
        format_nats(-95.0, subset, split="val", binarization="static", k=1)
    with pytest.raises(TypeError, match="dataset must be a Dataset"):
        format_nats(-95.0, "mnist", split="test", binarization="static", k=1)
