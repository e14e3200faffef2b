"""A cache of trained models, so the book trains each model once.

:func:`load_or_train` names a model by a hash of everything that decides its weights: the
:class:`~vae_lib.VAEConfig`, the training settings (epochs, batch size, learning rate,
seed, transform), the bytes of the data and the version of vae_lib. If a file with that
name holds a sound model, it is loaded; otherwise the model is trained and saved. The file
is a ``.npz`` written by :func:`vae_lib.save_model` (atomically, config beside the weights,
read back with ``allow_pickle=False``) with, in its metadata, the training
:class:`~vae_lib.History` and a SHA-256 of the weights, which is checked at every load: a
damaged file is trained again, never used.

The cache folder is, in order: the ``cache_dir`` argument, the environment variable
``VAE_LIB_CACHE``, ``<repository>/_build/.vae_cache`` when vae_lib runs from the book's
repository (so ``make clean`` clears it), else ``~/.cache/vae_lib/models``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .checkpoint import load_model, save_model
from .train import History, fit
from .vae import VAE, VAEConfig
from .validation import check_array, check_positive_float, check_positive_int, check_unit_interval

CACHE_ENV = "VAE_LIB_CACHE"
CACHE_FORMAT = 1
_REPO = Path(__file__).resolve().parent.parent


def default_cache_dir() -> Path:
    """The folder :func:`load_or_train` uses when given no ``cache_dir`` (see module doc)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if (_REPO / "_config.yml").is_file() and (_REPO / "_toc.yml").is_file():
        return _REPO / "_build" / ".vae_cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae_lib" / "models"


def _weights_sha256(model: VAE) -> str:
    """SHA-256 over every parameter's name, dtype, shape and bytes, in a fixed order."""
    h = hashlib.sha256()
    for name, param in zip(model.param_names(), model.params):
        h.update(f"{name}|{param.dtype.str}|{param.shape}|".encode())
        h.update(np.ascontiguousarray(param).tobytes())
    return h.hexdigest()


def _transform_name(transform, transform_name) -> str | None:
    if transform is None:
        if transform_name is not None:
            raise ValueError(f"transform_name was given ({transform_name!r}) without a transform")
        return None
    if not callable(transform):
        raise TypeError(f"transform must be callable (x, rng) -> x; got {type(transform).__name__}")
    if transform_name is not None:
        if not isinstance(transform_name, str) or not transform_name:
            raise TypeError(f"transform_name must be a non-empty str; got {transform_name!r}")
        return transform_name
    qualname = getattr(transform, "__qualname__", None)
    if qualname is None or "<" in qualname:
        raise ValueError(
            f"transform {transform!r} has no stable name to key the cache by (a lambda, a "
            "local function or a partial); pass transform_name='...' naming what it does"
        )
    return f"{transform.__module__}.{qualname}"


def load_or_train(
    config: VAEConfig,
    data,
    *,
    epochs: int,
    seed: int,
    batch_size: int = 100,
    lr: float = 1e-3,
    transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    transform_name: str | None = None,
    cache_dir=None,
    name: str = "vae",
    progress: bool | int = False,
) -> tuple[VAE, History]:
    """The VAE that ``fit`` would train from these settings, from the cache if it is there.

    Training, when needed, is exactly::

        rng = np.random.default_rng(seed)
        model = VAE(config, rng)
        history = fit(model, data, epochs=epochs, rng=rng, batch_size=batch_size, lr=lr,
                      transform=transform, progress=progress)

    It takes a ``seed``, not a Generator, so that loading and training leave the caller's
    own ``rng`` in the same state, and the rest of a chapter draws the same numbers either way.

    Parameters
    ----------
    config : VAEConfig
    data : ndarray, shape (N, config.input_dim), values in [0, 1]
        The training images; their bytes (as ``config.dtype``) are part of the key.
    epochs, seed, batch_size, lr
        Training settings, all part of the key. ``seed`` is an integer of at least 0.
    transform : callable (x, rng) -> x, optional
        Applied each epoch, e.g. :func:`vae_lib.binarize_dynamic`.
    transform_name : str, optional
        The transform's name in the key; by default its module and qualified name. Needed
        for a lambda or a local function.
    cache_dir : str or os.PathLike, optional
        Default :func:`default_cache_dir`.
    name : str
        Prefix of the file name (letters, digits, ``-``, ``_``, ``.``), for people reading
        the folder; not part of the key.
    progress : bool or int
        Passed to :func:`vae_lib.fit` when training.

    Returns
    -------
    model : VAE
    history : History
        The record of the training that made these weights (loaded with them from the cache),
        so a figure can plot the curves and state the budget with ``history.summary()``.
    """
    from . import __version__

    if not isinstance(config, VAEConfig):
        raise TypeError(f"config must be a VAEConfig; got {type(config).__name__}")
    x = check_array(data, "data", shape=(None, config.input_dim), dtype=np.dtype(config.dtype))
    check_unit_interval(x, "data")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(lr, "lr")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer; got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be at least 0; got {seed}")
    tname = _transform_name(transform, transform_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ValueError(f"name must be 1 to 64 letters, digits, '-', '_' or '.'; got {name!r}")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a str or os.PathLike; got {type(cache_dir).__name__}")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    x = np.ascontiguousarray(x)
    key_fields = {
        "cache_format": CACHE_FORMAT,
        "vae_lib": __version__,
        "config": config.to_dict(),
        "training": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": int(seed),
            "transform": tname,
        },
        "data": {
            "sha256": hashlib.sha256(x.tobytes()).hexdigest(),
            "shape": list(x.shape),
            "dtype": x.dtype.str,
        },
    }
    key = hashlib.sha256(json.dumps(key_fields, sort_keys=True).encode()).hexdigest()
    path = folder / f"{name}-{key[:20]}.npz"

    if path.is_file():
        try:
            return _load(path, key)
        except (OSError, ValueError, KeyError, TypeError) as err:
            warnings.warn(f"{path} is damaged ({err}); training the model again", stacklevel=2)

    rng = np.random.default_rng(seed)
    model = VAE(config, rng)
    history = fit(
        model,
        x,
        epochs=epochs,
        rng=rng,
        batch_size=batch_size,
        lr=lr,
        transform=transform,
        progress=progress,
    )
    extra = {
        "cache_key": key,
        "key_fields": key_fields,
        "history": history.to_dict(),
        "weights_sha256": _weights_sha256(model),
    }
    save_model(model, path, extra=extra)
    return model, history


def _load(path: Path, key: str) -> tuple[VAE, History]:
    """Load and check a cached model; raise ValueError if anything does not match."""
    model, extra = load_model(path)
    if extra.get("cache_key") != key:
        raise ValueError(f"its key is {extra.get('cache_key')!r}, expected {key!r}")
    if _weights_sha256(model) != extra.get("weights_sha256"):
        raise ValueError("its weights do not match the SHA-256 stored with them")
    return model, History(**extra["history"])
