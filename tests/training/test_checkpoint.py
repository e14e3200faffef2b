import json

import numpy as np
import pytest

import vae_lib.core.files as files
from vae_lib import VAE, VAEConfig, load_model, save_model


def make_model():
    return VAE(VAEConfig(hidden_dims=(8, 4), latent_dim=3), np.random.default_rng(0))


def test_round_trip(tmp_path):
    model = make_model()
    path = save_model(model, tmp_path / "m.npz", extra={"note": "hello"})
    loaded, extra = load_model(path)
    assert loaded.config == model.config and extra == {"note": "hello"}
    for p, q in zip(model.params, loaded.params):
        np.testing.assert_array_equal(p, q)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_model(make_model(), tmp_path / "m.npz")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files.np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model(make_model(), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_truncated_file_is_refused(tmp_path):
    path = save_model(make_model(), tmp_path / "m.npz")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="is not a readable .npz file"):
        load_model(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model at"):
        load_model(tmp_path / "nothing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="has no __meta__ entry"):
        load_model(tmp_path / "other.npz")


def test_pickled_arrays_are_never_loaded(tmp_path):
    np.savez(tmp_path / "evil.npz", __meta__=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz file"):
        load_model(tmp_path / "evil.npz")


def test_mismatched_weights_are_refused(tmp_path):
    path = save_model(make_model(), tmp_path / "m.npz")
    arrays, meta = files.load_arrays(path)
    arrays["encoder.0.W"] = np.zeros((2, 2), np.float32)
    files.save_arrays(path, arrays, meta)  # consistent checksum, wrong shape
    with pytest.raises(ValueError, match=r"encoder.0.W is float32 \(2, 2\); the config needs"):
        load_model(path)


def test_edited_weights_are_refused(tmp_path):
    path = save_model(make_model(), tmp_path / "m.npz")
    with np.load(path) as f:
        arrays = dict(f)
    arrays["encoder.0.W"] = arrays["encoder.0.W"] + 1
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="do not match the SHA-256 stored with them"):
        load_model(path)


def test_saved_file_gets_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = save_model(make_model(), tmp_path / "m.npz")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def rewrite_meta(path, change):
    """Rewrite a saved model's meta with ``change`` applied, keeping every checksum valid."""
    arrays, meta = files.load_arrays(path)
    change(meta)
    files.save_arrays(path, arrays, meta)


def test_a_config_that_asks_for_more_than_the_file_holds_is_refused_before_building(tmp_path):
    path = save_model(make_model(), tmp_path / "m.npz")
    rewrite_meta(path, lambda meta: meta["config"].update(hidden_dims=[10**8]))
    with pytest.raises(ValueError, match="the config needs"):  # not 24 GB of weights first
        load_model(path)


def test_an_entry_declaring_a_huge_array_is_refused_before_decompressing(tmp_path):
    path = tmp_path / "m.npz"
    # a zero-filled 2 GiB array compresses to a few MB; its header says what it holds
    np.savez_compressed(path, big=np.zeros(1, np.float32))
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
        header["shape"] = (1 << 29,)
        with zf.open("big.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, header)
    with pytest.raises(ValueError, match=r"declares 2,147,483,648 bytes of arrays; at most"):
        load_model(path)


def test_an_edited_config_in_the_file_is_detected(tmp_path):
    path = save_model(make_model(), tmp_path / "m.npz")
    arrays, meta = files.load_arrays(path)
    meta["config"]["beta"] = 4.0
    meta["meta_sha256"] = "0" * 64  # edited by hand: the meta no longer matches its checksum
    files.atomic_write_npz(path, {**arrays, "__meta__": np.array(json.dumps(meta))})
    with pytest.raises(ValueError, match="__meta__ entry does not match the SHA-256"):
        load_model(path)


@pytest.mark.parametrize("key, value", [("extra", [1, 2]), ("config", [16]), ("model", 3)])
def test_meta_entries_of_the_wrong_kind_are_a_clear_error(tmp_path, key, value):
    path = save_model(make_model(), tmp_path / "m.npz")
    rewrite_meta(path, lambda meta: meta.update({key: value}))
    with pytest.raises(ValueError, match=f"its meta entry '{key}' must be a"):
        load_model(path)


def test_non_finite_weights_are_not_saved(tmp_path):
    model = make_model()
    model.params[2][0] = np.nan
    with pytest.raises(ValueError, match="holds NaN or infinite values; a model like this"):
        save_model(model, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


def test_a_killed_save_leaves_nothing_after_the_next_save(tmp_path):
    path = save_model(make_model(), tmp_path / "m.npz")
    dead = tmp_path / "m.npz.999999999.abcdefgh.tmp"  # as a save killed outright leaves it
    dead.write_bytes(b"half a file")
    save_model(make_model(), path)
    assert list(tmp_path.iterdir()) == [path]


def test_a_file_is_loaded_as_the_class_asked_for(tmp_path):
    """A file whose class name was edited (checksums recomputed) would load as another kind
    of model: the caller names the kind it expects, and a mismatch is refused."""
    path = save_model(make_model(), tmp_path / "m.npz")
    model, _ = load_model(path, expected="vae")
    assert type(model) is VAE
    with pytest.raises(ValueError, match="holds a 'vae' model; a 'iwae' was asked for"):
        load_model(path, expected="iwae")
