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
