"""One keyed store for everything expensive: trained models, importance bounds, sweeps.

A result is named by a SHA-256 of everything that decides it (its *key fields*: what is
computed, a config, training settings, the bytes of the data, and the source of the library
code that computes it, so that a fixed bug in ``fit`` or in a model retrains, while a change
to a plotting helper does not). :func:`load_or_compute` looks for a file with that key,
checks it (the key stored inside, the SHA-256 of its arrays) and returns what it holds; a
missing file is fetched from the book's published copies when ``VAE_LIB_MODELS_URL`` is set
(:mod:`vae_lib.training.published`), and a missing or damaged file is otherwise computed
again, never used.
:func:`load_or_train` is that store applied to training a model.

The folder is, in order: the ``cache_dir`` argument, the environment variable
``VAE_LIB_CACHE``, ``<repository>/_build/.vae_cache`` when vae_lib runs from the book's
repository (so ``make clean`` clears it), else ``~/.cache/vae_lib/models``.

A file's name is a label for people followed by the key's first 20 hex digits; the key
decides. A result asked for under another name is the same file (two pages that train the
same model share it), and two processes that need the same result at once (two chapters
executed in parallel) compute it once: the second waits on a lock on the key, then loads
it. When the environment variable ``VAE_LIB_CACHE_LOG`` names a file, the name of every
stored file a process uses is appended to it, so that the book publishes exactly the files
its chapters read.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

try:  # POSIX; elsewhere two processes computing one result both compute it (still correct)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

import numpy as np

from ..core.files import arrays_sha256, load_arrays, save_arrays
from ..models.base import Model, model_class_for
from ..version import __version__
from .checkpoint import load_model, save_model
from .fit import History, check_training_settings, fit
from .published import fetch_published, published_models_url, stored_key_part

CACHE_ENV = "VAE_LIB_CACHE"
CACHE_LOG_ENV = "VAE_LIB_CACHE_LOG"
CACHE_FORMAT = 3
#: The library code that decides a trained model: a change to any of it retrains.
TRAINING_CODE = ("vae_lib.core", "vae_lib.models", "vae_lib.training.fit")
#: The default for other results: all of the library (never stale, sometimes recomputed).
ALL_CODE = ("vae_lib",)
_REPO = Path(__file__).resolve().parents[2]


def default_cache_dir() -> Path:
    """The folder the store uses when given no ``cache_dir`` (see module doc)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if (_REPO / "_config.yml").is_file() and (_REPO / "_toc.yml").is_file():
        return _REPO / "_build" / ".vae_cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae_lib" / "models"


def training_code(*modules: str) -> tuple[str, ...]:
    """:data:`TRAINING_CODE`, and those of ``modules`` that are vae_lib's (the module of a
    training loop of its own, of a library transform such as ``binarize_dynamic``): the
    code whose change trains again."""
    return TRAINING_CODE + tuple(m for m in modules if m.startswith("vae_lib."))


def transform_module(transform_key: str | None) -> str:
    """The module named in a transform's key name (see :func:`transform_key_name`): the
    module of a library transform, or of the library function a ``transform_name`` names;
    the longest importable prefix (a method's class is not a module), "" for none."""
    name = transform_key or ""
    while name:
        name = name.rpartition(".")[0]
        try:
            if name and importlib.util.find_spec(name) is not None:
                return name
        except (ImportError, ValueError):
            pass
    return ""


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` if it is an integer of at least 0 (what the store's functions take)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be at least 0; got {seed}")
    return int(seed)


def code_files(modules) -> list[Path]:
    """The source files of these modules, by dotted name; a package means every ``.py`` file
    under it. Raises ``ValueError`` for a name that is not an importable module."""
    if isinstance(modules, str) or not all(isinstance(m, str) for m in modules):
        raise TypeError(f"modules must be a sequence of dotted module names; got {modules!r}")
    files: set[Path] = set()
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            raise ValueError(f"{name!r} is not an importable module with a source file")
        if spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                files.update(Path(folder).rglob("*.py"))
        else:
            files.add(Path(spec.origin))
    return sorted(files)


@functools.lru_cache(maxsize=64)
def code_sha256(modules: tuple[str, ...]) -> str:
    """SHA-256 of the source of these modules (see :func:`code_files`), for key fields.

    Files are taken by their path below the ``vae_lib`` folder and their bytes with line
    endings normalised, so a clone on any system computes the same key (and finds the
    book's published files).
    """
    root = Path(__file__).resolve().parents[1].parent
    h = hashlib.sha256()
    for path in code_files(modules):
        try:
            name = path.resolve().relative_to(root).as_posix()
        except ValueError:
            name = path.name
        h.update(name.encode() + b"\0")
        h.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return h.hexdigest()


def data_fingerprint(x: np.ndarray) -> dict:
    """The SHA-256, shape and dtype of an array's bytes, for key fields."""
    x = np.ascontiguousarray(x)
    return {
        "sha256": hashlib.sha256(x.tobytes()).hexdigest(),
        "shape": list(x.shape),
        "dtype": x.dtype.str,
    }


def model_fingerprint(model: Model) -> dict:
    """The model's registered name, config and a SHA-256 of its weights, for key fields."""
    return {
        "model": model.name,
        "config": model.config.to_dict(),
        "weights": arrays_sha256(dict(zip(model.param_names(), model.params))),
    }


def cache_path(name: str, key_fields: dict, cache_dir=None) -> tuple[Path, str]:
    """The file that holds the result with these key fields, and its full key."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ValueError(f"name must be 1 to 64 letters, digits, '-', '_' or '.'; got {name!r}")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a str or os.PathLike; got {type(cache_dir).__name__}")
    fields = {"cache_format": CACHE_FORMAT, "vae_lib": __version__, **key_fields}
    key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"{name}-{key[:20]}.npz", key


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold a lock named after ``path`` (the cache folder and a result's key) while the
    block runs: another process that asks for the same result waits here, then finds it
    stored."""
    if fcntl is None:
        yield
        return
    # The lock lives outside the cache folder, which holds only results (and is published).
    locks = Path(tempfile.gettempdir()) / f"vae_lib-locks-{os.getuid()}"
    locks.mkdir(mode=0o700, exist_ok=True)
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    with open(locks / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _stored(path: Path) -> Path | None:
    """``path`` if it is stored, else the stored file with its key under another name, if any.

    Names are labels for people; the key decides. Two pages that ask for the same result
    under their own names (the same model, the same bounds) thus share one file.
    """
    if path.is_file():
        return path
    key_part = stored_key_part(path.name)
    if key_part is None or not path.parent.is_dir():
        return None
    twins = [p for p in sorted(path.parent.glob(f"*-{key_part}")) if p.is_file()]
    return twins[0] if twins else None


def _log_use(path: Path) -> None:
    """Append the file's name to the log named by ``VAE_LIB_CACHE_LOG``, if any."""
    log = os.environ.get(CACHE_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(path.name + "\n")


def load_or_compute(
    name: str,
    key_fields: dict,
    compute: Callable[[], object],
    *,
    save: Callable[[Path, str, object], None],
    load: Callable[[Path, str], object],
    code: tuple[str, ...] = ALL_CODE,
    cache_dir=None,
    redo: str = "computing it again",
):
    """``load(path, key)`` if a sound file is stored under these key fields, else compute it.

    The key decides, not ``name``: a file stored under another name with the same key is
    that result, and is used. ``key_fields`` must therefore say what is computed (e.g.
    ``"estimate": "importance-weighted bounds"``), not only from what. ``load`` raises
    ``ValueError`` (or ``OSError``, ``KeyError``, ``TypeError``) for a file that does not
    match; the result is then computed again with a warning that says so (``redo``), and
    saved with ``save(path, key, value)`` under ``name``. ``code`` names the library modules
    whose source decides the result (default: all of vae_lib); their SHA-256 is a key
    field, so a change to them computes the result again.
    """
    path, key = cache_path(name, {**key_fields, "code": code_sha256(tuple(code))}, cache_dir)
    if path.exists() and not path.is_file():
        raise ValueError(
            f"{path} is in the way: a folder (or another non-file) where the cache "
            "keeps a file; remove it or choose another cache_dir"
        )
    with _exclusive(path.parent / key):
        stored = _stored(path)
        if stored is None:
            report = fetch_published(path)  # "" unless VAE_LIB_MODELS_URL names the book's
            if report:
                print(report)
            stored = _stored(path)
        if stored is not None:
            try:
                value = load(stored, key)
            except (OSError, ValueError, KeyError, TypeError) as err:
                warnings.warn(f"{stored} is damaged ({err}); {redo}", stacklevel=3)
            else:
                _log_use(stored)
                return value
        start = time.perf_counter()
        value = compute()
        save(path, key, value)
        _log_use(path)
    if published_models_url() is not None:
        print(f"computed {path.name} here in {time.perf_counter() - start:.1f} s")
    return value


def save_arrays_keyed(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Store ``arrays`` with their key (for :func:`load_or_compute`)."""
    save_arrays(path, arrays, {"cache_key": key})


def load_arrays_keyed(path: Path, key: str) -> dict[str, np.ndarray]:
    """Arrays stored by :func:`save_arrays_keyed` under ``key``; ``ValueError`` otherwise."""
    arrays, meta = load_arrays(path)
    if meta.get("cache_key") != key:
        raise ValueError(f"its key is {meta.get('cache_key')!r}, expected {key!r}")
    for name, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise ValueError(f"its array {name} holds values that are not finite")
    return arrays


def transform_key_name(transform, transform_name=None) -> str | None:
    """The transform's name in a key: ``transform_name`` if given, else its module and
    qualified name; a lambda or local function needs ``transform_name``."""
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
    config,
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
    monitor: Callable[[Model], dict[str, float]] | None = None,
    monitor_name: str | None = None,
) -> tuple[Model, History]:
    """The model that ``fit`` would train from these settings, from the cache if it is there.

    Training, when needed, is exactly::

        rng = np.random.default_rng(seed)
        model = ModelClass(config, rng)      # the registered model whose config this is
        history = fit(model, data, epochs=epochs, rng=rng, batch_size=batch_size, lr=lr,
                      transform=transform, progress=progress)

    It takes a ``seed``, not a Generator, so that loading and training leave the caller's
    own ``rng`` in the same state, and the rest of a chapter draws the same numbers either way.

    Parameters
    ----------
    config : the config of a registered model, e.g. a VAEConfig
    data : what the model's ``check_batch`` accepts, e.g. an (N, D) array in [0, 1]
        The training data; their bytes (as the model checks them) are part of the key.
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
    monitor : callable (model) -> {name: float}, optional
        Passed to :func:`vae_lib.fit`: measured after every epoch into ``history.monitored``.
    monitor_name : str, optional
        The monitor's name in the key (required with a monitor): it must say what the
        monitor measures and on which data, since the key cannot read a closure.

    Returns
    -------
    model
    history : History
        The record of the training that made these weights (loaded with them from the cache),
        so a figure can plot the curves and state the budget with ``history.summary()``.
    """
    cls = model_class_for(config)
    epochs, batch_size, lr = check_training_settings(epochs, batch_size, lr)
    seed = check_seed(seed)
    if monitor is not None and not (isinstance(monitor_name, str) and monitor_name):
        raise ValueError(
            "a monitor needs a monitor_name for the cache key, saying what it measures on "
            "which data"
        )
    rng = np.random.default_rng(seed)
    model = cls(config, rng)  # cheap next to training, and it checks the data as it will train
    data = model.check_batch(data, "data")
    parts = data if isinstance(data, tuple) else (data,)
    key_fields = {
        "model": cls.name,
        "config": config.to_dict(),
        "training": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
            "transform": transform_key_name(transform, transform_name),
            **({"monitor": monitor_name} if monitor is not None else {}),
        },
        "data": [data_fingerprint(part) for part in parts],
    }

    def train() -> tuple[Model, History]:
        history = fit(
            model,
            data,
            epochs=epochs,
            rng=rng,
            batch_size=batch_size,
            lr=lr,
            transform=transform,
            progress=progress,
            monitor=monitor,
        )
        return model, history

    def save(path: Path, key: str, value: tuple[Model, History]) -> None:
        model, history = value
        extra = {
            "cache_key": key,
            "key_fields": key_fields,
            "history": history.to_dict(),
            "weights_sha256": model_fingerprint(model)["weights"],
        }
        save_model(model, path, extra=extra)

    def load(path: Path, key: str) -> tuple[Model, History]:
        model, extra = load_model(path, expected=cls.name)
        if extra.get("cache_key") != key:
            raise ValueError(f"its key is {extra.get('cache_key')!r}, expected {key!r}")
        if type(model) is not cls or model.config != config:
            raise ValueError(f"it holds a {model.name} with config {model.config}, not {config}")
        if model_fingerprint(model)["weights"] != extra.get("weights_sha256"):
            raise ValueError("its weights do not match the SHA-256 stored when they were trained")
        if not isinstance(extra.get("history"), dict):
            raise ValueError("its training history is missing")
        return model, History(**extra["history"])

    return load_or_compute(
        name,
        key_fields,
        train,
        save=save,
        load=load,
        code=training_code(transform_module(key_fields["training"]["transform"])),
        cache_dir=cache_dir,
        redo="training the model again",
    )
