"""The trained-model cache: train once, load after, retrain when anything changes or breaks."""

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import vae_lib
from vae_lib.evaluation.refit import refit_encoder
from vae_lib.testing import HANG_SECONDS
from vae_lib.training import cache

CONFIG = vae_lib.VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=2)
SETTINGS = dict(epochs=2, seed=3, batch_size=16)


@pytest.fixture(scope="module")
def data():
    x, _ = vae_lib.patterns(64, np.random.default_rng(0))
    return x


@pytest.fixture
def fits(monkeypatch):
    """Counts the calls of fit made by load_or_train."""
    calls = []
    real_fit = cache.fit

    def counting_fit(*args, **kwargs):
        calls.append(kwargs)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(cache, "fit", counting_fit)
    return calls


def cached_files(folder):
    return sorted(folder.glob("*.npz"))


def test_second_call_loads_without_training(data, fits, tmp_path):
    model, history = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 1 and len(cached_files(tmp_path)) == 1
    again, history2 = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 1
    assert again.config == CONFIG
    for a, b in zip(model.params, again.params):
        assert np.array_equal(a, b)
    assert history2 == history and history2.epoch == [1, 2]
    assert history2.summary() == history.summary()
    assert history2.n_examples == 64 and history2.batch_size == 16


def test_training_is_what_fit_does_with_the_seed(data, tmp_path):
    model, history = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    rng = np.random.default_rng(3)
    reference = vae_lib.VAE(CONFIG, rng)
    ref_history = vae_lib.fit(reference, data, epochs=2, rng=rng, batch_size=16, progress=False)
    for a, b in zip(model.params, reference.params):
        assert np.array_equal(a, b)
    assert history.terms == ref_history.terms and history.loss == ref_history.loss


@pytest.mark.parametrize(
    "change",
    [
        dict(config=vae_lib.VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=3)),
        dict(config=vae_lib.VAEConfig(input_dim=16, hidden_dims=(8,), latent_dim=2, beta=0.5)),
        dict(epochs=3),
        dict(seed=4),
        dict(batch_size=32),
        dict(lr=2e-3),
        dict(transform=vae_lib.binarize_dynamic),
        dict(data_scale=0.5),
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_change_trains_anew(data, fits, tmp_path, change):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    kwargs = {"config": CONFIG, "data": data, **SETTINGS, **change}
    kwargs["data"] = kwargs["data"] * kwargs.pop("data_scale", 1.0)
    vae_lib.load_or_train(cache_dir=tmp_path, **kwargs)
    assert len(fits) == 2 and len(cached_files(tmp_path)) == 2
    vae_lib.load_or_train(cache_dir=tmp_path, **kwargs)
    assert len(fits) == 2


def test_library_version_is_part_of_the_key(data, fits, tmp_path, monkeypatch):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    monkeypatch.setattr(cache, "__version__", "9.9.9")
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 2


def test_data_key_uses_the_model_dtype(data, fits, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    vae_lib.load_or_train(CONFIG, data.astype(np.float32), cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 1


def test_corrupted_file_is_trained_again(data, fits, tmp_path):
    model, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3 : len(raw) // 3 + 16] = b"\xff" * 16
    path.write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match="damaged.*training the model again"):
        again, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 2
    for a, b in zip(model.params, again.params):
        assert np.array_equal(a, b)
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)  # repaired
    assert len(fits) == 2


def test_weights_that_do_not_match_their_checksum_are_not_used(data, fits, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    model, extra = vae_lib.load_model(path)
    model.params[0][0, 0] += 1.0
    vae_lib.save_model(model, path, extra=extra)  # a readable file with altered weights
    with pytest.warns(UserWarning, match="do not match the SHA-256"):
        again, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 2 and again.params[0][0, 0] != model.params[0][0, 0]


def test_truncated_and_empty_files_are_trained_again(data, fits, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="damaged"):
        vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    path.write_bytes(b"")
    with pytest.warns(UserWarning, match="damaged"):
        vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 3
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary files left


def test_cache_folder_argument_environment_and_default(data, tmp_path, monkeypatch):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    repo = cache._REPO
    if (repo / "_config.yml").is_file():
        assert vae_lib.default_cache_dir() == repo / "_build" / ".vae_cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "env"))
    assert vae_lib.default_cache_dir() == tmp_path / "env"
    vae_lib.load_or_train(CONFIG, data, name="first-vae", **SETTINGS)
    (path,) = cached_files(tmp_path / "env")
    assert path.name.startswith("first-vae-")
    vae_lib.load_or_train(CONFIG, data, cache_dir=str(tmp_path / "arg"), **SETTINGS)
    assert len(cached_files(tmp_path / "arg")) == 1


def test_file_holds_config_history_and_key(data, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    with np.load(path, allow_pickle=False) as f:
        assert "__meta__" in f.files
    _, extra = vae_lib.load_model(path)
    assert vae_lib.VAEConfig.from_dict(extra["key_fields"]["config"]) == CONFIG
    assert extra["key_fields"]["training"] == {
        "epochs": 2,
        "batch_size": 16,
        "lr": 1e-3,
        "seed": 3,
        "transform": None,
    }
    assert extra["key_fields"]["model"] == "vae"
    assert extra["history"]["epoch"] == [1, 2]


def test_transform_is_keyed_by_name(data, fits, tmp_path):
    vae_lib.load_or_train(
        CONFIG, data, cache_dir=tmp_path, transform=vae_lib.binarize_dynamic, **SETTINGS
    )
    (path,) = cached_files(tmp_path)
    _, extra = vae_lib.load_model(path)
    assert extra["key_fields"]["training"]["transform"] == "vae_lib.data.digits.binarize_dynamic"
    with pytest.raises(ValueError, match="no stable name.*transform_name"):
        vae_lib.load_or_train(
            CONFIG, data, cache_dir=tmp_path, transform=lambda x, rng: x, **SETTINGS
        )
    vae_lib.load_or_train(
        CONFIG,
        data,
        cache_dir=tmp_path,
        transform=lambda x, rng: vae_lib.binarize_dynamic(x, rng),
        transform_name="vae_lib.data.digits.binarize_dynamic",
        **SETTINGS,
    )
    assert len(fits) == 1


@pytest.mark.parametrize(
    "change, error, message",
    [
        (
            dict(config={"input_dim": 16}),
            TypeError,
            "config must be the config of a registered model",
        ),
        (dict(data=np.zeros((4, 9))), ValueError, r"data must have shape \(N, 16\)"),
        (dict(data=np.full((4, 16), 1.5)), ValueError, r"data must lie in \[0, 1\]"),
        (dict(data=np.full((4, 16), np.nan)), ValueError, "data must be finite"),
        (dict(epochs=0), ValueError, "epochs must be at least 1"),
        (dict(epochs=2.0), TypeError, "epochs must be an integer"),
        (dict(seed=-1), ValueError, "seed must be at least 0"),
        (dict(seed=np.random.default_rng(0)), TypeError, "seed must be an integer"),
        (dict(lr=-1.0), ValueError, "lr must be"),
        (dict(transform="binarize"), TypeError, "transform must be callable"),
        (dict(transform_name="x"), ValueError, "transform_name was given"),
        (dict(name="../escape"), ValueError, "name must be"),
        (dict(cache_dir=3), TypeError, "cache_dir must be"),
    ],
)
def test_bad_input(data, tmp_path, change, error, message):
    kwargs = {"config": CONFIG, "data": data, "cache_dir": tmp_path, **SETTINGS, **change}
    with pytest.raises(error, match=message):
        vae_lib.load_or_train(**kwargs)
    assert cached_files(tmp_path) == []


def test_a_cached_file_whose_config_asks_for_too_much_is_trained_again(data, fits, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    arrays, meta = vae_lib.core.files.load_arrays(path)
    meta["config"]["hidden_dims"] = [10**8]
    vae_lib.core.files.save_arrays(path, arrays, meta)
    with pytest.warns(UserWarning, match="the config needs.*training the model again"):
        vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 2


def test_a_cached_file_holding_another_config_is_trained_again(data, fits, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    arrays, meta = vae_lib.core.files.load_arrays(path)
    meta["config"]["beta"] = 4.0  # weights, key and checksums all consistent: only the config
    vae_lib.core.files.save_arrays(path, arrays, meta)
    with pytest.warns(UserWarning, match="with config .*beta=4.0.*training the model again"):
        model, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 2 and model.config == CONFIG


def test_a_folder_in_the_way_is_refused_before_training(data, fits, tmp_path):
    path, _ = cache.cache_path("vae", {}, tmp_path)  # any name: find the real one first
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    (path,) = cached_files(tmp_path)
    path.unlink()
    path.mkdir()
    with pytest.raises(ValueError, match="is in the way: a folder"):
        vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 1


def test_the_training_code_is_the_models_core_and_fit_not_the_views():
    files = {
        p.relative_to(Path(vae_lib.__file__).parent).as_posix()
        for p in cache.code_files(cache.TRAINING_CODE)
    }
    assert {"training/fit.py", "models/vae.py", "models/iwae.py", "core/optim.py"} <= files
    assert not any(f.startswith(("views/", "evaluation/", "toys/")) for f in files)
    with pytest.raises(ValueError, match="not an importable module"):
        cache.code_files(("vae_lib.no_such_module",))
    with pytest.raises(TypeError, match="sequence of dotted module names"):
        cache.code_files("vae_lib.core")


@pytest.fixture
def library_copy(tmp_path, monkeypatch):
    """A copy of vae_lib's sources that the cache hashes in place of the real ones."""
    real_root = Path(vae_lib.__file__).parent
    copy = tmp_path / "vae_lib"
    shutil.copytree(real_root, copy, ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    real_code_files = cache.code_files
    monkeypatch.setattr(
        cache,
        "code_files",
        lambda modules: [copy / p.relative_to(real_root) for p in real_code_files(modules)],
    )
    cache.code_sha256.cache_clear()
    yield copy
    cache.code_sha256.cache_clear()


def edit(path):
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    cache.code_sha256.cache_clear()


def test_a_change_to_fit_retrains_and_a_plotting_helper_does_not(
    data, fits, tmp_path, library_copy
):
    train = dict(cache_dir=tmp_path / "c", transform=vae_lib.binarize_dynamic, **SETTINGS)
    vae_lib.load_or_train(CONFIG, data, **train)
    edit(library_copy / "views" / "plots.py")
    edit(library_copy / "evaluation" / "importance.py")
    vae_lib.load_or_train(CONFIG, data, **train)
    assert len(fits) == 1
    edit(library_copy / "training" / "fit.py")
    vae_lib.load_or_train(CONFIG, data, **train)
    assert len(fits) == 2
    edit(library_copy / "models" / "vae.py")
    vae_lib.load_or_train(CONFIG, data, **train)
    assert len(fits) == 3
    edit(library_copy / "data" / "digits.py")  # the module of the transform
    vae_lib.load_or_train(CONFIG, data, **train)
    assert len(fits) == 4
    assert len(cached_files(tmp_path / "c")) == 4


def test_a_refitted_encoder_is_keyed_by_the_code_that_trains_it(data, tmp_path, library_copy):
    model, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "m", **SETTINGS)
    refit = dict(n_samples=2, epochs=1, seed=0, batch_size=32, cache_dir=tmp_path / "c")
    refit_encoder(model, data, transform=vae_lib.binarize_dynamic, **refit)
    edit(library_copy / "views" / "plots.py")
    edit(library_copy / "evaluation" / "importance.py")
    refit_encoder(model, data, transform=vae_lib.binarize_dynamic, **refit)
    assert len(cached_files(tmp_path / "c")) == 1
    for changed in ("evaluation/refit.py", "core/optim.py", "data/digits.py"):
        edit(library_copy / changed)
        refit_encoder(model, data, transform=vae_lib.binarize_dynamic, **refit)
    assert len(cached_files(tmp_path / "c")) == 4


@pytest.mark.parametrize(
    "transform_key, module",
    [
        ("vae_lib.data.digits.binarize_dynamic", "vae_lib.data.digits"),
        ("vae_lib.data.digits.Binarizer.__call__", "vae_lib.data.digits"),  # a method
        ("labelled_binarize", ""),  # a transform_name that names no module
        ("no_such_package.f", ""),
        (None, ""),
    ],
)
def test_a_transform_s_module_is_the_longest_importable_prefix(transform_key, module):
    assert cache.transform_module(transform_key) == module
    assert cache.training_code(module) == (
        cache.TRAINING_CODE + ((module,) if module.startswith("vae_lib.") else ())
    )


def test_line_endings_do_not_change_the_code_key(library_copy):
    before = cache.code_sha256(cache.TRAINING_CODE)
    fit = library_copy / "training" / "fit.py"
    fit.write_bytes(fit.read_bytes().replace(b"\n", b"\r\n"))
    cache.code_sha256.cache_clear()
    assert cache.code_sha256(cache.TRAINING_CODE) == before


def test_every_file_used_is_logged(data, tmp_path, monkeypatch):
    log = tmp_path / "used.txt"
    monkeypatch.setenv(cache.CACHE_LOG_ENV, str(log))
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", **SETTINGS)  # trained
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", **SETTINGS)  # loaded
    (path,) = cached_files(tmp_path / "c")
    assert log.read_text().splitlines() == [path.name, path.name]


def test_a_result_asked_for_under_another_name_is_the_same_file(data, fits, tmp_path, monkeypatch):
    """Names are labels; the key decides: two pages that train one model share its file."""
    log = tmp_path / "used.txt"
    monkeypatch.setenv(cache.CACHE_LOG_ENV, str(log))
    a, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", name="one", **SETTINGS)
    b, _ = vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", name="other", **SETTINGS)
    assert len(fits) == 1
    (path,) = cached_files(tmp_path / "c")
    assert path.name.startswith("one-") and log.read_text().splitlines() == [path.name] * 2
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", name="one", epochs=3, seed=3)
    assert len(fits) == 2  # another key under the same label is another result


def test_a_damaged_file_under_another_name_is_left_alone_and_computed_anew(data, fits, tmp_path):
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", name="one", **SETTINGS)
    (theirs,) = cached_files(tmp_path / "c")
    theirs.write_bytes(theirs.read_bytes()[:100])  # truncated
    with pytest.warns(UserWarning, match=f"{theirs.name} is damaged"):
        vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", name="other", **SETTINGS)
    assert len(fits) == 2
    mine = tmp_path / "c" / theirs.name.replace("one-", "other-")
    assert cached_files(tmp_path / "c") == sorted([theirs, mine])
    assert len(theirs.read_bytes()) == 100  # the other page's file is not written over
    vae_lib.load_or_train(CONFIG, data, cache_dir=tmp_path / "c", name="other", **SETTINGS)
    assert len(fits) == 2  # and its own sound file is found first from now on


@pytest.mark.parametrize("names", [("shared", "shared"), ("one", "other")])
def test_two_callers_of_one_result_compute_it_once(tmp_path, names):
    """The second caller waits on the first's lock, then loads what the first stored,
    whatever name each gives it."""
    computed, in_compute, go = [], threading.Event(), threading.Event()

    def compute():
        computed.append(1)
        in_compute.set()
        go.wait(timeout=HANG_SECONDS)
        return {"a": np.arange(3.0)}

    def call(name):
        return cache.load_or_compute(
            name,
            {"what": "a test"},
            compute,
            save=cache.save_arrays_keyed,
            load=cache.load_arrays_keyed,
            cache_dir=tmp_path,
        )

    results = []
    first = threading.Thread(target=lambda: results.append(call(names[0])))
    first.start()
    assert in_compute.wait(timeout=HANG_SECONDS)
    second = threading.Thread(target=lambda: results.append(call(names[1])))
    second.start()
    second.join(timeout=0.5)  # time to reach the lock: without it, it would compute too
    go.set()
    first.join(timeout=HANG_SECONDS)
    second.join(timeout=HANG_SECONDS)
    assert computed == [1] and len(results) == 2
    assert all(np.array_equal(r["a"], np.arange(3.0)) for r in results)


def test_a_monitor_is_recorded_keyed_and_changes_no_weight(data, tmp_path, fits):
    """A monitor's values are stored with the model, its name is part of the key, and the
    weights are the ones trained without it."""

    def mean_kl(model):
        return {"kl": float(np.mean(model.elbo(data[:8], np.random.default_rng(0)).kl))}

    plain, _ = cache.load_or_train(CONFIG, data, cache_dir=tmp_path, **SETTINGS)
    watched, history = cache.load_or_train(
        CONFIG, data, cache_dir=tmp_path, monitor=mean_kl, monitor_name="kl-8", **SETTINGS
    )
    assert len(fits) == 2 and len(history.monitored["kl"]) == SETTINGS["epochs"]
    for a, b in zip(plain.params, watched.params):
        np.testing.assert_array_equal(a, b)
    _, again = cache.load_or_train(
        CONFIG, data, cache_dir=tmp_path, monitor=mean_kl, monitor_name="kl-8", **SETTINGS
    )
    assert len(fits) == 2 and again.monitored == history.monitored
    with pytest.raises(ValueError, match="monitor needs a monitor_name"):
        cache.load_or_train(CONFIG, data, cache_dir=tmp_path, monitor=mean_kl, **SETTINGS)
