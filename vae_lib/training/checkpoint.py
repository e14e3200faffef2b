"""Saving and loading trained models as ``.npz``: weights, with the model's name and config.

Any registered model is saved the same way (:func:`vae_lib.core.files.save_arrays`):
its parameters by name, and beside them a JSON entry naming the model class, its config and
a SHA-256 of the weights. Loading reads with ``allow_pickle=False``, checks the SHA-256,
and builds the model from the registry, so a file can never run code or load damaged
weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.files import load_arrays, save_arrays
from ..models.base import Model, model_class

FORMAT_VERSION = 2


def save_model(model: Model, path, extra: dict | None = None) -> Path:
    """Save ``model``'s weights, name and config (and optional JSON-able ``extra``) to ``path``."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a vae_lib model; got {type(model).__name__}")
    for name, param in zip(model.param_names(), model.params):
        if not np.all(np.isfinite(param)):
            raise ValueError(f"{name} holds NaN or infinite values; a model like this is not saved")
    meta = {
        "format": FORMAT_VERSION,
        "model": model.name,
        "config": model.config.to_dict(),
        "extra": extra or {},
    }
    return save_arrays(path, dict(zip(model.param_names(), model.params)), meta)


def load_model(path, expected: str | None = None) -> tuple[Model, dict]:
    """Load a model saved by :func:`save_model`; returns ``(model, extra)``.

    ``expected``, a registered model's name (``"vae"``, ``"af_prior_vae"``, …), is the class
    the caller asks for: a file that names another is refused before anything is built, so
    that a file whose class name was edited (and its checksums recomputed) cannot load as a
    model of another kind.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a model saved by this library, or its arrays do not match its config.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    arrays, meta = load_arrays(path)
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path} has format {meta.get('format')!r}; expected {FORMAT_VERSION}")
    for key, kind in (("model", str), ("config", dict), ("extra", dict)):
        if not isinstance(meta.get(key), kind):
            raise ValueError(
                f"{path}: its meta entry {key!r} must be a {kind.__name__}; got "
                f"{type(meta.get(key)).__name__}"
            )
    if expected is not None and meta["model"] != expected:
        raise ValueError(f"{path} holds a {meta['model']!r} model; a {expected!r} was asked for")
    cls = model_class(meta["model"])
    try:
        config = cls.config_class.from_dict(meta["config"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: its stored config is not a valid config ({err})") from err
    # the arrays must be exactly the ones the config needs, before the model is built: a
    # config that asks for more memory than the file holds is refused, not allocated
    shapes = cls.param_shapes(config)
    if sorted(arrays) != sorted(shapes):
        raise ValueError(f"{path} holds arrays {sorted(arrays)}; the config needs {sorted(shapes)}")
    for name, shape in shapes.items():
        if arrays[name].shape != shape or arrays[name].dtype != np.dtype(
            getattr(config, "dtype", "float64")
        ):
            raise ValueError(
                f"{path}: {name} is {arrays[name].dtype} {arrays[name].shape}; the config "
                f"needs {config.dtype} {shape}"
            )
        if not np.all(np.isfinite(arrays[name])):
            raise ValueError(f"{path}: {name} holds NaN or infinite values")
    model = cls(config, np.random.default_rng(0))
    for name, param in zip(model.param_names(), model.params):
        param[...] = arrays[name]
    return model, meta["extra"]
