"""Importance-weighted bounds L_k for several k from one set of samples, cached on disk.

Estimating log p(x) by the importance-weighted bound with K = 1,000 samples per image
costs a thousand decoder passes per image: seconds per model. :func:`bounds_by_k` turns
one draw of K log-weights into estimates of every smaller L_k as well (so a chapter can
show the bound rising with k at no extra cost), and :func:`load_or_estimate_bounds`
computes them once per model and data and keeps them beside the trained models of
:func:`vae_lib.load_or_train`.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from .cache import default_cache_dir
from .checkpoint import atomic_write_npz
from .distributions import log_mean_exp
from .metrics import log_importance_weights
from .vae import VAE
from .validation import check_array, check_positive_int

CACHE_FORMAT = 1


def _check_ks(ks, k_max: int) -> tuple[int, ...]:
    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__iter__"):
        raise TypeError(f"ks must be a sequence of integers; got {type(ks).__name__}")
    ks = tuple(check_positive_int(k, "ks entry") for k in ks)
    if not ks:
        raise ValueError("ks must hold at least one k; got an empty sequence")
    too_big = [k for k in ks if k > k_max]
    if too_big:
        raise ValueError(f"every k in ks must be at most the {k_max} samples drawn; got {too_big}")
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
    single L_{K_max} estimate {cite}`burda2016importance`.

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
    ks = _check_ks(ks, k_max)
    out = np.empty((len(ks), n))
    for i, k in enumerate(ks):
        blocks = log_weights[: (k_max // k) * k].reshape(k_max // k, k, n)
        out[i] = np.mean(log_mean_exp(blocks, axis=1), axis=0)
    return out


def _params_sha256(model: VAE) -> str:
    h = hashlib.sha256()
    for name, param in zip(model.param_names(), model.params):
        h.update(f"{name}|{param.dtype.str}|{param.shape}|".encode())
        h.update(np.ascontiguousarray(param).tobytes())
    return h.hexdigest()


def load_or_estimate_bounds(
    model: VAE,
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
        log_w = np.concatenate([log_importance_weights(model, x[i:i + batch_size], k, rng)
                                for i in range(0, len(x), batch_size)], axis=1)
        bounds = bounds_by_k(log_w, ks)

    The result is stored in the folder of :func:`vae_lib.default_cache_dir` (or
    ``cache_dir``), under a hash of the model's weights and config, the bytes of ``x``, the
    settings and vae_lib's version; a file whose key or shapes do not match is computed
    again, never used. Like :func:`vae_lib.load_or_train` it takes a ``seed``, so that
    loading and computing leave the caller's own generator in the same state.

    Parameters
    ----------
    model : VAE
    x : ndarray, shape (N, D), values in [0, 1]
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
    from . import __version__

    if not isinstance(model, VAE):
        raise TypeError(f"model must be a VAE; got {type(model).__name__}")
    x = np.ascontiguousarray(model.check_data(x))
    k = check_positive_int(k, "k")
    ks = _check_ks(ks, k)
    batch_size = check_positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer; got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be at least 0; got {seed}")
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"name must be letters, digits, '-' or '_'; got {name!r}")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a str or os.PathLike; got {type(cache_dir).__name__}")

    key_fields = {
        "cache_format": CACHE_FORMAT,
        "vae_lib": __version__,
        "config": model.config.to_dict(),
        "weights": _params_sha256(model),
        "data": [hashlib.sha256(x.tobytes()).hexdigest(), list(x.shape), x.dtype.str],
        "k": k,
        "ks": list(ks),
        "seed": int(seed),
        "batch_size": batch_size,
    }
    key = hashlib.sha256(json.dumps(key_fields, sort_keys=True).encode()).hexdigest()
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"{name}-{key[:20]}.npz"

    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                stored_key, bounds = str(f["key"]), np.array(f["bounds"])
            if stored_key != key or bounds.shape != (len(ks), len(x)):
                raise ValueError("its key or shape does not match")
            if not np.all(np.isfinite(bounds)):
                raise ValueError("it holds values that are not finite")
            return dict(zip(ks, bounds))
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"{path} is damaged ({err}); computing the bounds again", stacklevel=2)

    rng = np.random.default_rng(seed)
    log_w = np.concatenate(
        [
            log_importance_weights(model, x[i : i + batch_size], k, rng)
            for i in range(0, len(x), batch_size)
        ],
        axis=1,
    )
    bounds = bounds_by_k(log_w, ks)
    atomic_write_npz(path, {"key": np.array(key), "bounds": bounds})
    return dict(zip(ks, bounds))
