"""Files the library writes and reads: atomic writes, SHA-256s, and checked ``.npz`` stores.

Every file is written to a temporary file in the destination's folder, flushed to disk and
then renamed over the destination, so an interrupted write never leaves a half-written file
where a good one was expected. ``.npz`` files are read with ``allow_pickle=False``, so
reading a file can never run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Name of the JSON entry that :func:`save_arrays` stores beside the arrays.
META_ENTRY = "__meta__"


def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Mode of the files this library writes: what ``open`` gives under the process's umask.
FILE_MODE = _default_file_mode()


def sha256_file(path) -> str:
    """The SHA-256 of a file's bytes, read in blocks of 1 MiB, as 64 hexadecimal digits."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sha256(sha256, name: str = "sha256") -> str:
    """``sha256`` in lower case if it is 64 hexadecimal digits, else ``ValueError``."""
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise ValueError(f"{name} must be 64 hexadecimal digits; got {sha256!r}")
    return sha256.lower()


@contextlib.contextmanager
def atomic_file(path, suffix: str = ".tmp") -> Iterator:
    """Open a temporary file beside ``path`` for binary writing; rename it to ``path`` at the end.

    If the ``with`` block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=suffix)
    try:
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_npz(path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` as a compressed ``.npz``, atomically."""
    with atomic_file(path) as f:
        np.savez_compressed(f, **arrays)
    return Path(path)


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in the order of the names."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_arrays(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` and the JSON-able ``meta`` to an ``.npz``, with the arrays' SHA-256.

    :func:`load_arrays` reads it back and refuses a file whose arrays do not match.
    """
    if META_ENTRY in arrays:
        raise ValueError(f"an array may not be called {META_ENTRY!r}; that name holds the meta")
    meta = {**meta, "arrays_sha256": arrays_sha256(arrays)}
    return atomic_write_npz(path, {**arrays, META_ENTRY: np.array(json.dumps(meta))})


def load_arrays(path) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_arrays`; returns ``(arrays, meta)``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable ``.npz``, has no meta, or its arrays do not match the
        SHA-256 stored with them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except Exception as err:  # zipfile, zlib and numpy each raise their own errors
        raise ValueError(f"{path} is not a readable .npz file: {err}") from err
    if META_ENTRY not in arrays:
        raise ValueError(f"{path} has no {META_ENTRY} entry; it was not written by vae_lib")
    try:
        meta = json.loads(str(arrays.pop(META_ENTRY)))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: its {META_ENTRY} entry is not JSON ({err})") from err
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: its {META_ENTRY} entry is not a JSON object")
    if meta.get("arrays_sha256") != arrays_sha256(arrays):
        raise ValueError(f"{path}: its arrays do not match the SHA-256 stored with them")
    return arrays, meta
