"""An autoregressive prior over a VQ-VAE's code strings, fitted once and kept in the store.

Fitting the prior is training like any other: a page that shows it, and a reader's notebook
that runs that page, should load the fitted weights rather than fit them again. The key
holds the strings' bytes, the prior's shape, both seeds and every fitting setting, and the
code that fits it (the models and the core, as for a trained model).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..models.code_prior import AutoregressiveCodePrior
from .cache import (
    check_seed,
    data_fingerprint,
    load_arrays_keyed,
    load_or_compute,
    save_arrays_keyed,
    training_code,
)


def load_or_fit_code_prior(
    codes,
    held_out,
    *,
    codebook_size: int,
    hidden_dims: Sequence[int],
    seed: int,
    fit_seed: int,
    name: str = "code-prior",
    cache_dir=None,
    max_epochs: int = 100,
    batch_size: int = 100,
    lr: float = 1e-3,
    patience: int = 5,
) -> tuple[AutoregressiveCodePrior, dict[str, list[float]]]:
    """The prior that this would make, from the store if it is there::

        prior = AutoregressiveCodePrior(codes.shape[1], codebook_size, hidden_dims,
                                        np.random.default_rng(seed))
        history = prior.fit(codes, held_out, np.random.default_rng(fit_seed), max_epochs,
                            batch_size, lr, patience)

    Returns the prior (the parameters of its best held-out epoch) and the fit's history,
    ``{"train": [...], "held_out": [...]}``, as :meth:`AutoregressiveCodePrior.fit` returns it.
    """
    seed, fit_seed = check_seed(seed), check_seed(fit_seed, "fit_seed")
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be a 2-D array of strings (N, L); got shape {codes.shape}")
    hidden_dims = tuple(int(h) for h in hidden_dims)
    prior = AutoregressiveCodePrior(
        codes.shape[1], codebook_size, hidden_dims, np.random.default_rng(seed)
    )
    codes, held_out = prior.check_codes(codes), prior.check_codes(held_out)
    key_fields = {
        "estimate": "autoregressive code prior",
        "n_positions": prior.n_positions,
        "codebook_size": prior.codebook_size,
        "hidden_dims": list(hidden_dims),
        "seed": seed,
        "fit": {
            "seed": fit_seed,
            "max_epochs": max_epochs,
            "batch_size": batch_size,
            "lr": lr,
            "patience": patience,
        },
        "codes": data_fingerprint(codes),
        "held_out": data_fingerprint(held_out),
    }

    def fit() -> dict[str, np.ndarray]:
        history = prior.fit(
            codes,
            held_out,
            np.random.default_rng(fit_seed),
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            patience=patience,
        )
        return {
            **{f"param.{i}": p for i, p in enumerate(prior.params)},
            **{f"history.{part}": np.asarray(v) for part, v in history.items()},
        }

    def load(path: Path, key: str) -> dict[str, np.ndarray]:
        arrays = load_arrays_keyed(path, key)
        for i, p in enumerate(prior.params):
            if arrays[f"param.{i}"].shape != p.shape:
                raise ValueError(f"its parameter {i} has shape {arrays[f'param.{i}'].shape}")
        return arrays

    arrays = load_or_compute(
        name,
        key_fields,
        fit,
        save=save_arrays_keyed,
        load=load,
        code=training_code(__name__),
        cache_dir=cache_dir,
        redo="fitting it again",
    )
    for i, p in enumerate(prior.params):
        p[...] = arrays[f"param.{i}"]
    history = {
        part: [float(v) for v in arrays[f"history.{part}"]] for part in ("train", "held_out")
    }
    return prior, history
