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
import zipfile
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user: alive
        return True
    return True


#: What a temporary file of :func:`atomic_file` is called: the final name, the writer's
#: process id, a random part, and the suffix (".tmp" for saves, ".part" for downloads).
_TEMPORARY = re.compile(r"^.+\.(\d+)\.[^.]+\.(tmp|part)$")


def remove_stale_temporaries(folder) -> list[Path]:
    """Remove the temporary files that writes killed outright left in ``folder``.

    A temporary of :func:`atomic_file` carries its writer's process id; one whose process is
    gone can never be renamed into place, so the next write into the folder removes it.
    Temporaries of live processes are left alone.
    """
    removed = []
    for tmp in Path(folder).iterdir():
        match = _TEMPORARY.match(tmp.name)
        if match and tmp.is_file() and not _pid_alive(int(match.group(1))):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_file(path, suffix: str = ".tmp") -> Iterator:
    """Open a temporary file beside ``path`` for binary writing; rename it to ``path`` at the end.

    If the ``with`` block raises, the temporary file is removed and ``path`` is untouched. The
    temporary's name carries the writer's process id, so that a write killed outright leaves
    a file the next write into the same folder recognises and removes.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected a file path to write to")
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    prefix = f"{path.name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
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


#: Largest total size of the arrays :func:`load_arrays` reads unless told otherwise (1 GiB).
MAX_LOAD_BYTES = 1 << 30


def _meta_sha256(meta: dict) -> str:
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()


def save_arrays(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` and the JSON-able ``meta`` to an ``.npz``, with SHA-256s of both.

    :func:`load_arrays` reads it back and refuses a file whose arrays or meta were changed.
    """
    if META_ENTRY in arrays:
        raise ValueError(f"an array may not be called {META_ENTRY!r}; that name holds the meta")
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict; got {type(meta).__name__}")
    meta = {**meta, "arrays_sha256": arrays_sha256(arrays)}
    meta["meta_sha256"] = _meta_sha256(meta)
    return atomic_write_npz(path, {**arrays, META_ENTRY: np.array(json.dumps(meta))})


def declared_arrays(path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype each ``.npy`` entry of an ``.npz`` declares, read from its header
    alone (nothing is decompressed beyond the first bytes of each entry)."""
    declared = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"entry {info.filename!r} is not an .npy array")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(f)
                declared[info.filename[: -len(".npy")]] = (tuple(shape), np.dtype(dtype))
    except Exception as err:  # zipfile, zlib and numpy each raise their own errors
        raise ValueError(f"{path} is not a readable .npz file: {err}") from err
    return declared


def load_arrays(path, max_bytes: int = MAX_LOAD_BYTES) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_arrays`; returns ``(arrays, meta)``.

    The sizes the file declares are checked against ``max_bytes`` before anything is
    decompressed, so a small file that announces a huge array is refused, not read.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable ``.npz``, declares more than ``max_bytes``, holds object
        arrays, has no meta, or its arrays or meta do not match the SHA-256s stored with them.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    declared = declared_arrays(path)
    total = sum(
        int(np.prod(shape, dtype=object)) * dtype.itemsize for shape, dtype in declared.values()
    )
    if total > max_bytes:
        raise ValueError(
            f"{path} declares {total:,} bytes of arrays; at most {max_bytes:,} are read"
        )
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
    stored = meta.pop("meta_sha256", None)
    if stored != _meta_sha256(meta):
        raise ValueError(
            f"{path}: its {META_ENTRY} entry does not match the SHA-256 stored with it"
        )
    if meta.get("arrays_sha256") != arrays_sha256(arrays):
        raise ValueError(f"{path}: its arrays do not match the SHA-256 stored with them")
    return arrays, meta
