"""Importance-weighted bounds L_k of any model with importance weights, cached on disk.

Estimating log p(x) by the importance-weighted bound with K = 1,000 samples per image
costs a thousand decoder passes per image: seconds per model. :func:`bounds_by_k` turns
one draw of K log-weights into estimates of every smaller L_k as well (so a chapter can
show the bound rising with k at no extra cost), and :func:`load_or_estimate_bounds`
computes them once per model and data and keeps them in the store of
:func:`vae_lib.load_or_train`. Every function here reaches the model only through its
``log_weights`` (see :mod:`vae_lib.models.base`).
"""

from __future__ import annotations

import numpy as np

from ..core.numerics import log_mean_exp
from ..core.validation import check_array, check_positive_int, check_rng
from ..models.base import Model
from ..training.cache import (
    check_seed,
    data_fingerprint,
    load_arrays_keyed,
    load_or_compute,
    model_fingerprint,
    save_arrays_keyed,
)

#: The library code that decides a stored bound: the models' log-weights and this module.
BOUNDS_CODE = ("vae_lib.core", "vae_lib.models", __name__)


def _check_model(model) -> Model:
    if not isinstance(model, Model):
        raise TypeError(f"model must be a vae_lib model; got {type(model).__name__}")
    return model


def log_importance_weights(model: Model, x, k: int, rng: np.random.Generator) -> np.ndarray:
    r"""log w = log p(x|z) + log p(z) - log q(z|x) for ``k`` draws z ~ q(z|x) per example.

    The model's own ``log_weights``; this function is the name the chapters use.

    Returns
    -------
    ndarray, shape (k, N), float64
    """
    return _check_model(model).log_weights(x, k, rng)


def importance_weighted_bound(
    model: Model, x, k: int, rng: np.random.Generator, batch_size: int = 500
) -> np.ndarray:
    r"""The importance-weighted bound L_K of each example (Burda et al., 2016).

    .. math:: \mathcal L_K(x) = \mathbb E\left[\log \frac1K \sum_{k=1}^K
              \frac{p(x, z_k)}{q(z_k|x)}\right] \le \log p(x)

    One draw of the K samples per example; L_1 is the ELBO, and L_K rises towards log p(x)
    as K grows, so a large K gives an estimate of the log-likelihood.

    Returns
    -------
    ndarray, shape (N,), nats
    """
    model = _check_model(model)
    batch_size = check_positive_int(batch_size, "batch_size")
    rng = check_rng(rng)
    x = model.check_batch(x, "x")
    parts = [
        log_mean_exp(model.log_weights(model.batch_rows(x, slice(i, i + batch_size)), k, rng))
        for i in range(0, model.batch_length(x), batch_size)
    ]
    return np.concatenate(parts)


def _check_ks(ks, k_max: int, source: str) -> tuple[int, ...]:
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__") or np.ndim(ks) != 1:
        raise TypeError(f"ks must be a sequence of integers; got {type(ks).__name__}")
    ks = tuple(check_positive_int(k, "ks entry") for k in ks)
    if not ks:
        raise ValueError("ks must hold at least one k; got an empty sequence")
    too_big = [k for k in ks if k > k_max]
    if too_big:
        raise ValueError(
            f"every k in ks must be at most the {k_max} samples drawn ({source}); got {too_big}"
        )
    return ks


def bounds_by_k(log_weights, ks) -> np.ndarray:
    r"""Estimates of L_k for each k in ``ks``, from one (K_max, N) array of log-weights.

    The K_max samples of each example are cut into :math:`B = \lfloor K_{\max}/k \rfloor`
    disjoint blocks of k, and the bound's estimate is the mean over blocks

    .. math:: \hat{\mathcal L}_k(x) = \frac1B \sum_{b=1}^{B}
              \log \frac1k \sum_{j=1}^{k} w_{(b-1)k + j},
              \qquad w_j = \frac{p(x \mid z_j)\, p(z_j)}{q(z_j \mid x)}

    (eq. ``latent-iw-bound``). Each block is an unbiased draw of L_k, so averaging B of them
    only lowers the noise: k = 1 gives the ELBO averaged over K_max samples, k = K_max the
    single L_{K_max} estimate (Burda et al., 2016).

    Parameters
    ----------
    log_weights : ndarray, shape (K_max, N)
        log w for K_max samples z ~ q(z|x) of each of N examples, as
        :func:`vae_lib.log_importance_weights` returns them.
    ks : sequence of int
        Each between 1 and K_max.

    Returns
    -------
    ndarray, shape (len(ks), N), float64, nats
    """
    log_weights = check_array(log_weights, "log_weights", ndim=2).astype(np.float64)
    k_max, n = log_weights.shape
    if k_max == 0 or n == 0:
        raise ValueError(
            "log_weights must hold at least one sample of one example; got shape "
            f"{log_weights.shape}"
        )
    ks = _check_ks(ks, k_max, "the rows of log_weights")
    out = np.empty((len(ks), n))
    for i, k in enumerate(ks):
        blocks = log_weights[: (k_max // k) * k].reshape(k_max // k, k, n)
        out[i] = np.mean(log_mean_exp(blocks, axis=1), axis=0)
    return out


def load_or_estimate_bounds(
    model: Model,
    x,
    *,
    k: int,
    ks,
    seed: int,
    batch_size: int = 100,
    cache_dir=None,
    name: str = "bounds",
) -> dict[int, np.ndarray]:
    """Per-example estimates of L_k for each k in ``ks``, from ``k`` samples, computed once.

    Computing, when needed, is exactly::

        rng = np.random.default_rng(seed)
        rows = lambda i: model.batch_rows(x, slice(i, i + batch_size))  # x[i:i + batch_size]
        log_w = np.concatenate([log_importance_weights(model, rows(i), k, rng)
                                for i in range(0, model.batch_length(x), batch_size)], axis=1)
        bounds = bounds_by_k(log_w, ks)

    The result is stored in the folder of :func:`vae_lib.default_cache_dir` (or
    ``cache_dir``), under a hash of the model's weights and config, the bytes of ``x``, the
    settings and vae_lib's version; a file whose key or shapes do not match is computed
    again, never used. Like :func:`vae_lib.load_or_train` it takes a ``seed``, so that
    loading and computing leave the caller's own generator in the same state.

    Parameters
    ----------
    model : a model with ``log_weights``
    x : what the model's ``check_batch`` accepts: an (N, D) array, or a tuple of arrays
        (images and labels for a conditional model)
    k : int
        Importance samples drawn per example (K_max of :func:`bounds_by_k`).
    ks : sequence of int
        The bounds to estimate, each between 1 and ``k``.
    seed : int
        At least 0.
    batch_size : int
        Examples per call of :func:`vae_lib.log_importance_weights`.
    cache_dir : str or os.PathLike, optional
    name : str
        Prefix of the file name, for people reading the folder.

    Returns
    -------
    dict
        ``{k: ndarray of shape (N,)}``, nats, for each k of ``ks``.
    """
    model = _check_model(model)
    x = model.check_batch(x, "x")  # an array, or a tuple of arrays (e.g. images and labels)
    n = model.batch_length(x)
    k = check_positive_int(k, "k")
    ks = _check_ks(ks, k, "k")
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_seed(seed)
    key_fields = {
        "estimate": "importance-weighted bounds",
        **model_fingerprint(model),
        "data": (
            [data_fingerprint(np.ascontiguousarray(part)) for part in x]
            if isinstance(x, tuple)
            else data_fingerprint(np.ascontiguousarray(x))
        ),
        "k": k,
        "ks": list(ks),
        "seed": seed,
        "batch_size": batch_size,
    }

    def estimate() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        log_w = np.concatenate(
            [
                model.log_weights(model.batch_rows(x, slice(i, i + batch_size)), k, rng)
                for i in range(0, n, batch_size)
            ],
            axis=1,
        )
        return {"bounds": bounds_by_k(log_w, ks)}

    def load(path, key) -> dict[str, np.ndarray]:
        arrays = load_arrays_keyed(path, key)
        if arrays["bounds"].shape != (len(ks), n):
            raise ValueError(f"its bounds have shape {arrays['bounds'].shape}")
        return arrays

    arrays = load_or_compute(
        name,
        key_fields,
        estimate,
        save=save_arrays_keyed,
        load=load,
        code=BOUNDS_CODE,
        cache_dir=cache_dir,
        redo="computing the bounds again",
    )
    return dict(zip(ks, arrays["bounds"]))
