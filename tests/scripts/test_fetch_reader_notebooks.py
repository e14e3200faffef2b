"""Binder's notebook fetcher writes only inside its destination, and always exits 0.

A hostile or broken site on 127.0.0.1 serves a manifest whose entries try to leave the
destination; the fetcher must refuse each before it makes a folder or writes a byte, fetch
the honest entries beside them, and report the rest.
"""

import functools
import hashlib
import http.server
import json
import threading

import pytest

from scripts.fetch_reader_notebooks import main, notebook_path

GOOD = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
SHA = hashlib.sha256(GOOD).hexdigest()


@pytest.fixture
def site(tmp_path):
    """A site folder served on 127.0.0.1; the test writes its manifest."""
    root = tmp_path / "site"
    (root / "_notebooks" / "chapters").mkdir(parents=True)
    (root / "_notebooks" / "chapters" / "elbo.ipynb").write_bytes(GOOD)
    (root / "_notebooks" / "a.ipynb").write_bytes(GOOD)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def serve(manifest: dict) -> str:
        (root / "_notebooks" / "manifest.json").write_text(json.dumps(manifest))
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield serve
    httpd.shutdown()


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "name",
    [
        "/tmp/elsewhere/x.ipynb",
        "//server/share/x.ipynb",
        "C:/x.ipynb",
        "C:x.ipynb",
        "..\\x.ipynb",
        "../x.ipynb",
        "chapters/../../x.ipynb",
        "chapters//x.ipynb",
        "./x.ipynb",
        "x.txt",
        "",
    ],
)
def test_names_that_leave_the_folder_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="notebook name"):
        notebook_path(tmp_path / "_notebooks", name)


def test_a_name_of_the_wrong_type_is_refused(tmp_path):
    with pytest.raises(ValueError, match="notebook name 7 is not"):
        notebook_path(tmp_path, 7)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    folder, outside = tmp_path / "_notebooks", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "chapters").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="leads outside"):
        notebook_path(folder, "chapters/x.ipynb")
    assert notebook_path(folder, "x.ipynb") == folder.resolve() / "x.ipynb"


def test_hostile_entries_write_nothing_outside_and_the_rest_is_fetched(site, tmp_path, capsys):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "x.ipynb.part-keep").write_text("not the fetcher's to delete")
    dest = tmp_path / "dest"
    base = site(
        {
            str(victim / "x.ipynb"): SHA,  # an absolute path
            str(tmp_path / "new-folder" / "x.ipynb"): SHA,
            "../x.ipynb": SHA,
            "chapters/elbo.ipynb": SHA,  # honest
            "a.ipynb": SHA,  # honest, and then a name that needs it to be a folder
            "a.ipynb/b.ipynb": SHA,
        }
    )
    assert main(["--base", base, "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert "fetched 2 reader notebooks" in out
    assert out.count("skipped ") == 4, out
    assert files_under(victim) == ["x.ipynb.part-keep"]
    assert not (tmp_path / "new-folder").exists() and not (tmp_path / "x.ipynb").exists()
    assert files_under(dest) == ["_notebooks/a.ipynb", "_notebooks/chapters/elbo.ipynb"]


def test_an_unreachable_site_exits_0(tmp_path, capsys):
    assert main(["--base", "http://127.0.0.1:9/", "--dest", str(tmp_path)]) == 0
    assert "not fetched" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
