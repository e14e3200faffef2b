"""make test's chromium install: begun in the background, waited for before the site tests.

A stand-in apt-get on PATH "installs" chromium by creating the file the script looks for,
and only once the test lets it (a file it waits for): so the test sees the install still
running after ``--start`` has returned, without reading a clock.
"""

import os
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure_chromium.sh"

FAKE_APT = """#!/usr/bin/env bash
echo "apt-get $*" >> "{calls}"
[ "$1" = install ] || exit 0
while [ ! -e "{go}" ]; do sleep 0.05; done
touch "{chromium}" && chmod +x "{chromium}"
echo "Setting up chromium"
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def machine(tmp_path):
    """Run the script with a stand-in apt-get (and `id` saying root), in a work folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    paths = {
        "chromium": tmp_path / "chromium",
        "calls": tmp_path / "apt-calls.txt",
        "go": tmp_path / "go",
    }
    _executable(bin_dir / "apt-get", FAKE_APT.format(**paths))
    _executable(bin_dir / "id", "#!/bin/sh\necho 0\n")
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CHROMIUM": str(paths["chromium"]),
    }

    def run(*args):
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    run.paths = paths
    run.work = work
    yield run
    paths["go"].touch()  # a stand-in left waiting by a failed test ends


def _calls(machine) -> list[str]:
    calls = machine.paths["calls"]
    return calls.read_text().splitlines() if calls.exists() else []


def test_the_install_begun_in_the_background_is_waited_for(machine):
    started = machine("--start")
    assert started.returncode == 0, started.stderr
    assert "installing it in the background" in started.stdout
    # --start has returned while apt-get still waits for the go-ahead
    assert not machine.paths["chromium"].exists()
    machine.paths["go"].touch()
    waited = machine()
    assert waited.returncode == 0, waited.stderr
    assert machine.paths["chromium"].exists()
    assert "installed in the background" in waited.stdout
    assert "Setting up chromium" in waited.stdout  # the background log is shown
    assert _calls(machine).count("apt-get update -q") == 1  # installed once, not twice
    assert not (machine.work / "_build" / "chromium-install.log").exists()


def test_without_start_the_install_happens_when_waited_for(machine):
    machine.paths["go"].touch()
    result = machine()
    assert result.returncode == 0, result.stderr
    assert machine.paths["chromium"].exists()
    assert "installing Debian's chromium package" in result.stdout


def test_a_chromium_already_there_installs_nothing(machine):
    _executable(machine.paths["chromium"], "#!/bin/sh\n")
    for args in (("--start",), ()):
        result = machine(*args)
        assert result.returncode == 0 and result.stdout == "", result.stderr
    assert _calls(machine) == []


def test_an_unknown_option_is_refused(machine):
    result = machine("--later")
    assert result.returncode == 2
    assert "usage:" in result.stderr and "--later" in result.stderr
    assert _calls(machine) == []
