import json

import numpy as np
import pytest

from vae_lib.core import files


def test_save_and_load_arrays_round_trip(tmp_path):
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2], np.int32)}
    path = files.save_arrays(tmp_path / "x.npz", arrays, {"note": "hi"})
    loaded, meta = files.load_arrays(path)
    assert meta["note"] == "hi" and sorted(loaded) == ["a", "b"]
    assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays)
    assert list(tmp_path.iterdir()) == [path]


def test_changed_arrays_or_meta_are_refused(tmp_path):
    path = files.save_arrays(tmp_path / "x.npz", {"a": np.zeros(3)}, {})
    with np.load(path) as f:
        stored = dict(f)
    np.savez(path, a=np.ones(3), __meta__=stored["__meta__"])
    with pytest.raises(ValueError, match="do not match the SHA-256"):
        files.load_arrays(path)
    np.savez(path, a=np.zeros(3), __meta__=np.array("not json"))
    with pytest.raises(ValueError, match="is not JSON"):
        files.load_arrays(path)
    np.savez(path, a=np.zeros(3), __meta__=np.array(json.dumps([1])))
    with pytest.raises(ValueError, match="not a JSON object"):
        files.load_arrays(path)


def test_atomic_file_keeps_the_old_file_when_the_write_fails(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), files.atomic_file(path) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old" and list(tmp_path.iterdir()) == [path]


def test_sha256_file_and_check(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    digest = files.sha256_file(path)
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert files.check_sha256(digest.upper()) == digest
    with pytest.raises(ValueError, match="sha256 must be 64 hexadecimal digits"):
        files.check_sha256("abc")


def test_a_write_removes_what_killed_writes_left_in_the_folder(tmp_path):
    import os

    dead_save = tmp_path / "model.npz.999999999.k2j3h4.tmp"
    dead_download = tmp_path / "other.gz.999999998.x9y8z7.part"
    alive = tmp_path / f"third.npz.{os.getpid()}.abcdef.tmp"  # a write of a live process
    unrelated = tmp_path / "notes.tmp"
    for path in (dead_save, dead_download, alive, unrelated):
        path.write_bytes(b"x")
    files.atomic_write_npz(tmp_path / "new.npz", {"a": np.zeros(2)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, unrelated.name, "new.npz"]
    )
