"""How the book states a number: a likelihood with its context.

Presentation, not mathematics: the data layer defines the data sets and binarizations, this
says them in words beside a number.
"""

from __future__ import annotations

import numpy as np

from ..data.digits import BINARIZATIONS, Dataset


def format_nats(value: float, dataset: Dataset, *, split: str, binarization: str, k: int) -> str:
    """State a likelihood bound as the book states every number: nats per image, with context.

    ``format_nats(-98.1, mnist_subset(), split="test", binarization="dynamic", k=1)`` gives
    ``"-98.10 nats per image (ELBO, K = 1; MNIST subset, test split of 1000 images,
    dynamically binarized, each pixel drawn from Bernoulli(grey level))"``.

    Parameters
    ----------
    value : float
        The bound, averaged over the split's images, in nats per image.
    dataset : Dataset
    split : {"train", "test"}
    binarization : {"static", "dynamic", "grey"}
        One of :data:`BINARIZATIONS` ("static" means the default threshold 0.5).
    k : int
        Importance samples: 1 for the ELBO, K for the bound L_K.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a Dataset; got {type(dataset).__name__}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    x, _ = dataset.split(split)
    if binarization not in BINARIZATIONS:
        raise ValueError(
            f"binarization must be one of {sorted(BINARIZATIONS)}; got {binarization!r}"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer of at least 1; got {k!r}")
    bound = "ELBO, K = 1" if k == 1 else f"L_K with K = {k} importance samples"
    return (
        f"{float(value):.2f} nats per image ({bound}; {dataset.name}, {split} split of "
        f"{len(x)} images, {BINARIZATIONS[binarization]})"
    )
