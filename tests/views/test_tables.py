"""Numbers stated as the book states them."""

import numpy as np
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


def test_html_table_is_a_table_with_its_rows_inside():
    from vae_lib.views import html_table

    out = html_table(["a", "b"], [[1, 2], ["x", "<i>y</i>"]], note="what", label="demo").data
    assert '<table class="table">' in out and out.index("<table") < out.index("<tr>")
    assert out.count("<tr>") == 3 and 'aria-label="demo"' in out and 'tabindex="0"' in out
    assert out.endswith('<p style="font-size: 0.85em">what</p>')
    nowrap = html_table(["a"], [[1]], nowrap=True).data
    assert '<td style="white-space: nowrap">1</td>' in nowrap
    with pytest.raises(ValueError, match="every row must have 2 cells"):
        html_table(["a", "b"], [[1]])


def test_mean_se():
    from vae_lib.views import mean_se

    mean, se = mean_se([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and se == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)
    assert mean_se([1.0, 3.0], ddof=0) == (2.0, pytest.approx(1 / np.sqrt(2)))  # std 1
    with pytest.raises(ValueError, match="more than 1 numbers"):
        mean_se([1.0])
