"""Saving and loading trained models as ``.npz``: weights, with the config beside them.

Files are written atomically (a temporary file in the same folder, then a rename), so an
interrupted save never leaves a half-written model behind, and read with
``allow_pickle=False``, so loading a file can never run code.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .vae import VAE, VAEConfig

FORMAT_VERSION = 1


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Mode of the files this library writes: what ``open`` gives under the process's umask.
FILE_MODE = _default_file_mode()


def atomic_write_npz(path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` as a compressed ``.npz``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_model(model: VAE, path, extra: dict | None = None) -> Path:
    """Save ``model``'s weights and config (and optional JSON-able ``extra``) to ``path``."""
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a VAE; got {type(model).__name__}")
    meta = {"format": FORMAT_VERSION, "config": model.config.to_dict(), "extra": extra or {}}
    arrays = dict(zip(model.param_names(), model.params))
    arrays["__meta__"] = np.array(json.dumps(meta))
    return atomic_write_npz(path, arrays)


def load_model(path) -> tuple[VAE, dict]:
    """Load a model saved by :func:`save_model`; returns ``(model, extra)``.

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
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except Exception as err:  # zipfile, zlib and numpy each raise their own errors
        raise ValueError(f"{path} is not a readable .npz file: {err}") from err
    if "__meta__" not in arrays:
        raise ValueError(f"{path} has no __meta__ entry; it was not saved by save_model")
    meta = json.loads(str(arrays.pop("__meta__")))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path} has format {meta.get('format')}; expected {FORMAT_VERSION}")
    config = VAEConfig.from_dict(meta["config"])
    model = VAE(config, np.random.default_rng(0))
    names = model.param_names()
    if sorted(arrays) != sorted(names):
        raise ValueError(f"{path} holds arrays {sorted(arrays)}; the config needs {sorted(names)}")
    for name, param in zip(names, model.params):
        if arrays[name].shape != param.shape:
            raise ValueError(
                f"{path}: {name} has shape {arrays[name].shape}; the config needs {param.shape}"
            )
        if not np.all(np.isfinite(arrays[name])):
            raise ValueError(f"{path}: {name} holds NaN or infinite values")
        param[...] = arrays[name]
    return model, meta["extra"]
