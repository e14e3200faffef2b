"""The build's execution step on a book of two tiny chapters and a library of one module.

A chapter is executed again when its source changes or when the library it runs changes,
and only then; chapters run in parallel processes; the cache holds no execution of a
source that is gone; the files a chapter reads from vae_lib's store are recorded.
"""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _ext.parallel_execution import library_sha256

BOOK = Path(__file__).resolve().parents[2]

CHAPTER = """\
---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# {title}

```{{code-cell}} ipython3
import os, sys
sys.path.insert(0, os.path.abspath(".."))
from tinylib.numbers import answer
print("{title}", answer(), os.environ["OPENBLAS_NUM_THREADS"], os.getpid())
log = os.environ.get("VAE_LIB_CACHE_LOG")
if log:
    with open(log, "a") as f:
        f.write("{title}-model.npz\\n")
```
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("book")
    (root / "tinylib").mkdir()
    (root / "tinylib" / "__init__.py").write_text("")
    (root / "tinylib" / "numbers.py").write_text("def answer():\n    return 42\n")
    (root / "chapters").mkdir()
    for name in ("a", "b"):
        (root / "chapters" / f"{name}.md").write_text(CHAPTER.format(title=name))
    (root / "intro.md").write_text("# Intro\n")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/a\n  - file: chapters/b\n"
    )
    (root / "_config.yml").write_text(
        textwrap.dedent(
            f"""\
            title: tiny
            execute:
              execute_notebooks: cache
            sphinx:
              config:
                nb_execution_jobs: 2
                nb_execution_library: tinylib
              local_extensions:
                parallel_execution: {BOOK / "_ext"}
            """
        )
    )
    return root


def build(root: Path) -> str:
    run = subprocess.run(
        [Path(sys.executable).parent / "jupyter-book", "build", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


def executed(log: str) -> list[str]:
    return sorted(re.findall(r"executed (chapters/\w+) in", log))


def printed(root: Path, chapter: str) -> list[str]:
    html = (root / "_build" / "html" / "chapters" / f"{chapter}.html").read_text()
    return re.search(rf"{chapter} (\d+) (\d+) (\d+)", html).groups()


@pytest.mark.slow(seconds=26)  # builds a small book several times: started first
def test_what_runs_and_when(book):
    first = build(book)
    assert executed(first) == ["chapters/a", "chapters/b"]
    assert "executing 2 notebooks in 2 processes" in first
    assert "Executing notebook" not in first  # myst-nb found every chapter stored
    answer, threads, pid_a = printed(book, "a")
    assert (answer, threads) == ("42", "1")
    assert printed(book, "b")[2] != pid_a  # two kernels

    assert executed(build(book)) == []  # nothing changed: nothing runs

    (book / "chapters" / "a.md").write_text(
        (book / "chapters" / "a.md").read_text() + "\nA new paragraph.\n"
    )
    assert executed(build(book)) == []  # prose only: the code cells are the key

    chapter = book / "chapters" / "b.md"
    chapter.write_text(chapter.read_text().replace("answer()", "answer() + 0"))
    assert executed(build(book)) == ["chapters/b"]

    (book / "tinylib" / "numbers.py").write_text("def answer():\n    return 43\n")
    log = build(book)
    assert executed(log) == ["chapters/a", "chapters/b"]  # the library changed
    assert printed(book, "a")[0] == "43" and printed(book, "b")[0] == "43"

    from jupyter_cache import get_cache

    records = get_cache(book / "_build" / ".jupyter_cache").list_cache_records()
    assert len(records) == 2  # the executions of b's old source are gone
    assert sorted(f for r in records for f in r.data["cache_files"]) == [
        "a-model.npz",
        "b-model.npz",
    ]
    assert {r.data["library"] for r in records} == {library_sha256(book / "tinylib")}
    times = json.loads((book / "_build" / ".jupyter_cache" / "execution_times.json").read_text())
    assert times["jobs"] == 2 and sorted(times["executed"]) == ["chapters/a", "chapters/b"]


@pytest.mark.slow(seconds=7)
def test_a_failing_chapter_fails_the_build_with_its_traceback(tmp_path, book):
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(book, root, ignore=shutil.ignore_patterns("_build"))
    chapter = root / "chapters" / "a.md"
    chapter.write_text(chapter.read_text().replace("answer()", "answer() / 0", 1))
    config = root / "_config.yml"
    config.write_text(
        config.read_text().replace(
            "nb_execution_jobs: 2", "nb_execution_jobs: 2\n    nb_execution_raise_on_error: true"
        )
    )
    run = subprocess.run(
        [Path(sys.executable).parent / "jupyter-book", "build", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode != 0
    log = run.stdout + run.stderr
    assert "notebooks failed to execute" in log and "ZeroDivisionError" in log
    assert "chapters/a" in log and "Executing notebook" not in log  # run once, not twice


def test_the_library_key_covers_code_and_data(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\n")
    (tmp_path / "data.npz").write_bytes(b"\x00\x01")
    before = library_sha256(tmp_path)
    (tmp_path / "m.py").write_text("x = 1\r\n")
    assert library_sha256(tmp_path) == before  # line endings do not count
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "m.pyc").write_bytes(b"compiled")
    assert library_sha256(tmp_path) == before
    (tmp_path / "data.npz").write_bytes(b"\x00\x02")
    assert library_sha256(tmp_path) != before


def test_the_longest_expected_chapter_runs_first():
    from _ext.parallel_execution import execution_order

    cold = {"chapters/a": 600.0, "chapters/b": 50.0, "chapters/d": 5.0}
    last = {"chapters/a": 10.0, "chapters/b": 60.0}  # a was warm last time: still the longest
    chapters = ["chapters/b", "chapters/d", "chapters/a", "chapters/new"]
    assert execution_order(chapters, cold, last) == [
        "chapters/new",  # no time on record
        "chapters/a",
        "chapters/b",
        "chapters/d",
    ]


def test_the_cold_times_say_where_and_when_they_were_measured():
    from _ext.parallel_execution import cold_times_table, measured_on

    on = {"date": "2026-12-06 05:10 UTC", "commit": "abc1234", "cpu": "Some CPU", "processes": 1}
    assert measured_on(on) == "on 2026-12-06, at commit abc1234, on Some CPU, one process"
    assert measured_on({**on, "processes": 2}).endswith("on Some CPU, 2 processes")
    assert measured_on({}) == ""
    cold, warm = {"chapters/a": 300.0}, {"chapters/a": 20.0}
    _, _, text = cold_times_table(cold, warm, on, {**on, "processes": 2})
    assert text.startswith(
        "The cold times were measured on 2026-12-06, at commit abc1234, on Some CPU, one "
        "process. The stored times were measured on 2026-12-06, at commit abc1234, on Some "
        "CPU, 2 processes. With P processes"
    )
    _, _, text = cold_times_table(cold, {}, on, {**on, "processes": 2})  # no stored column
    assert "cold times were measured" in text and "stored times" not in text
    assert cold_times_table(cold, warm)[2].startswith("With P processes")


def test_a_times_file_holds_its_seconds_and_where_they_were_measured(tmp_path):
    from _ext.parallel_execution import _record, _times_on_record

    path = tmp_path / "times.json"
    path.write_text('{"measured": {"cpu": "X"}, "seconds": {"chapters/a": 1.5}}')
    assert _times_on_record(path) == {"chapters/a": 1.5} and _record(path)["measured"]["cpu"] == "X"
    for bad in ("[1, 2]", "{not json", '{"seconds": [1]}'):
        path.write_text(bad)
        assert _times_on_record(path) == {}
    assert _times_on_record(tmp_path / "missing.json") == {}


@pytest.mark.parametrize("warm_on_record", ["all", "some", "none"])
def test_the_cold_times_table_and_what_it_says(warm_on_record):
    from _ext.parallel_execution import cold_times_table

    cold = {"chapters/b": 100.0, "chapters/a": 300.0, "chapters/c": 1600.0}
    warm = {
        "all": {"chapters/a": 20.0, "chapters/b": 10.0, "chapters/c": 70.0, "other": 5.0},
        "some": {"chapters/a": 20.0},
        "none": {},
    }[warm_on_record]
    header, rows, text = cold_times_table(cold, warm)
    split = warm_on_record == "all"
    assert header[:2] == ["chapter", "cold time (s)"] and header[-1] == "share of the cold sum"
    assert ("with its results stored (s)" in header) == split
    assert [r[0] for r in rows] == ["chapters/c", "chapters/a", "chapters/b", "all chapters"]
    assert rows[0][1] == "1,600" and rows[0][-1] == "80%" and rows[-1][1:2] == ["2,000"]
    if split:
        assert [r[2] for r in rows] == ["70", "20", "10", "100"]  # the sum over cold's chapters
    assert "2 processes: 1,600 s" in text and "4 processes: 1,600 s" in text
    assert "1 process: 2,000 s" in text
    assert ("the other 1,900 s (95%)" in text) == split
    assert "training time" not in text and "Training the" not in text  # none on record
    on = {"training_seconds": 1234.5, "trained_models": 7}
    text = cold_times_table(cold, warm, on)[2]
    if split:
        assert "training the models (1,234 s of it: the training time the 7 models record)" in (
            text
        )
    else:
        assert text.endswith(" Training the 7 models takes 1,234 s of the cold sum.")


def test_a_short_chapter_shows_a_share_below_one_percent_not_zero():
    from _ext.parallel_execution import cold_times_table

    _, rows, _ = cold_times_table({"chapters/long": 2000.0, "chapters/short": 5.0}, {})
    assert [r[-1] for r in rows] == ["100%", "<1%", "100%"]


def test_the_execution_summary_counts_chapters_and_processes_as_they_were():
    from _ext.parallel_execution import execution_summary

    assert (
        execution_summary({}, 0.0, 2) == "No chapter has been executed by this build's cache yet."
    )
    one = execution_summary({"chapters/a": 6.4}, 7.2, 1)
    assert one.startswith("The last time chapters were executed, 1 chapter ran in one process,")
    assert "7 s of wall-clock time (6 s of execution" in one and "processes" not in one
    many = execution_summary(
        {"chapters/a": 600.0, "chapters/b": 500.0, "chapters/c": 900.0}, 1050.0, 2
    )
    assert many.startswith(
        "The last time chapters were executed, 3 chapters ran in 2 processes in 1050 s"
    )
    assert "busy for 2000 s in all" in many and "1.90 times the wall-clock time" in many
    assert "the longest chapter (900 s)" in many
