"""The book's build times: clean builds on one process and on every core, and the rebuilds
of everyday work.

Everything happens in a temporary copy of the repository (without ``.venv``, ``_build``,
``node_modules`` and ``_assets``), so the main ``_build`` and its caches are never touched.
The copy is built as ``make book`` builds, with the project's venv:

1. **assets**: the front-end files are copied out of ``node_modules`` (copied into the
   temporary folder for this) by ``scripts/vendor_assets.py``, as ``make assets`` does
   after its ``npm ci`` (the download is not timed: it is not the book's work);
2. **clean build, one process** (``BOOK_JOBS=1``) and **clean build, every core**, each
   from an empty execution cache and an empty model cache: every chapter executes and
   every model trains. Their ratio is the build's parallel speed-up;
3. **rebuild, nothing changed**;
4. **rebuild after editing one chapter** (a code cell added to its end): that chapter is
   executed again, nothing else;
5. **rebuild after a change to the library that leaves training alone** (a comment added
   to ``vae_lib/views/plots.py``): every chapter is executed again, no model is trained
   (the model cache's files are compared before and after);
6. **make check** in the copy, twice: the first run after the build also computes the
   results only the tests use (the exercises' stored estimates); the second is the warm
   everyday loop the target is for.

The chapters import the copy's ``vae_lib`` (``PYTHONPATH``), whose model cache then lives
in the copy's ``_build``. Each chapter's execution time is read from the copy's execution
cache, the numbers the book's own execution-statistics table shows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .machine import ROOT, load_average, thread_env

BUILD_ARGS = ["build", ".", "--warningiserror", "--nitpick", "--keep-going"]  # as `make book`
EXCLUDE = (".venv", "_build", "node_modules", "_assets", ".pytest_cache", ".ruff_cache")
TARGETS = {
    "speedup": 1.8,  # clean build on one process / on every core (2 cores)
    "clean_build": 480.0,  # seconds, on every core
    "rebuild": 30.0,  # nothing changed
    "chapter_edit_overhead": 30.0,  # rebuild after one chapter's edit, beyond its execution
    "library_edit_overhead": 30.0,  # beyond the warm chapters' time divided by the processes
    "chapter": 150.0,  # the slowest chapter's cold execution, on one core
    "check": 120.0,  # make check, warm
    # seconds: training the models the book reads, in the clean build on one process (the
    # book's training budget: about 20 core-minutes)
    "training": 1200.0,
}
#: make test from a fresh clone, idle, in seconds: 12 minutes, 15 since the paper's part
#: brought more than 5 minutes of training
FRESH_TEST_TARGET = 900.0
EDITED_CHAPTER = "chapters/first_vae.md"
EDITED_HELPER = "vae_lib/views/plots.py"


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def copy_repository(dest: Path) -> None:
    """Copy the working tree into ``dest``, without the venv and anything built."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in EXCLUDE} if Path(folder) == ROOT else set()

    shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore)


def _log_command(f, cmd: list[str]) -> None:
    f.write(f"\n$ {' '.join(cmd)}\n".encode())
    f.flush()


def _run(cmd: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with open(log, "ab") as f:
        _log_command(f, cmd)
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT)
    return time.perf_counter() - start, proc.returncode


def _problems(log: Path, limit: int = 20) -> list[str]:
    """The build's warnings and errors (Sphinx's colour codes removed), at most ``limit``."""
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        if ("WARNING" in line or "ERROR" in line) and "without encryption" not in line:
            lines.append(line.replace(str(log.parent / "book") + "/", ""))
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])


def chapter_times(book: Path) -> list[dict]:
    """Execution time of every notebook in the copy's execution cache, slowest first."""
    from jupyter_cache import get_cache

    cache_dir = book / "_build" / ".jupyter_cache"
    if not cache_dir.is_dir():
        return []
    rows = []
    for record in get_cache(cache_dir).list_cache_records():
        path = Path(record.uri)
        try:
            name = path.relative_to(book).with_suffix("").as_posix()
        except ValueError:
            name = path.with_suffix("").name
        rows.append({"chapter": name, "seconds": record.data.get("execution_seconds")})
    return sorted(rows, key=lambda r: -(r["seconds"] or 0.0))


def last_execution(book: Path) -> dict:
    """What the build's last execution phase ran: processes, wall time, chapter times."""
    path = book / "_build" / ".jupyter_cache" / "execution_times.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def model_files(book: Path) -> dict[str, float]:
    """The model cache's files and their modification times."""
    folder = book / "_build" / ".vae_cache"
    return {p.name: p.stat().st_mtime for p in folder.glob("*.npz")} if folder.is_dir() else {}


def training_record(book: Path) -> dict:
    """The models the built site publishes (those its chapters read) that record a training
    time, and the sum of those times (stored results such as bounds record none)."""
    path = book / "_build" / "html" / "_models" / "manifest.json"
    entries = json.loads(path.read_text(encoding="utf-8")).values() if path.is_file() else []
    seconds = [e["seconds"] for e in entries if e.get("seconds") is not None]
    return {"models": len(seconds), "seconds": sum(seconds)}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def measure(keep: Path | None = None, after_build=None) -> dict:
    """Copy, build from clean on one process and on every core, rebuild as work does.

    ``after_build(copy, env)`` runs on the built copy before it is deleted, with the
    environment of the build (the widget benchmark reads the built pages, and runs the
    chapters with the copy's trained-model cache).
    """
    tmp = Path(tempfile.mkdtemp(prefix="vae-book-bench-"))
    book = tmp / "book"
    log = tmp / "build.log"
    jobs = cores()
    result: dict = {"targets": TARGETS, "jobs": jobs, "threads": 1}
    try:
        start = time.perf_counter()
        copy_repository(book)
        result["copy_seconds"] = time.perf_counter() - start

        env = dict(os.environ)
        env["PYTHONPATH"] = str(book) + os.pathsep + env.get("PYTHONPATH", "")
        env["VAE_LIB_CACHE"] = str(book / "_build" / ".vae_cache")
        env.pop("MPLBACKEND", None)
        env.update(thread_env(1))

        vendor = book / "scripts" / "vendor_assets.py"
        if vendor.exists() and (ROOT / "node_modules").is_dir():
            shutil.copytree(ROOT / "node_modules", book / "node_modules", symlinks=True)
            seconds, code = _run([sys.executable, str(vendor)], book, env, log)
            result["assets_seconds"] = seconds
            if code:
                result["error"] = "scripts/vendor_assets.py failed (see bench/build.log)"
                return result

        cmd = [_jupyter_book(), *BUILD_ARGS]

        def build(name: str, processes: int) -> bool:
            load_before = load_average()
            seconds, code = _run(cmd, book, {**env, "BOOK_JOBS": str(processes)}, log)
            result[name] = {
                "seconds": seconds,
                "processes": processes,
                "load_average": {"before": load_before, "after": load_average()},
                "executed": last_execution(book).get("executed", {}),
            }
            if code:  # with --keep-going the site is still built; say what went wrong, go on
                result[name]["problems"] = _problems(log)
            if not (book / "_build" / "html" / "index.html").exists():
                result["error"] = f"the {name} made no site (exit {code})"
                return False
            return True

        print("book: clean build on one process ...", flush=True)
        if not build("clean_serial", 1):
            return result
        result["chapters"] = chapter_times(book)  # cold, one process at a time
        result["training"] = training_record(book)  # every model trained once, one at a time
        shutil.rmtree(book / "_build")
        print(f"book: clean build on {jobs} processes ...", flush=True)
        if not build("clean_parallel", jobs):
            return result
        print("book: rebuilds ...", flush=True)
        build("rebuild", jobs)
        text = "\n```{code-cell} ipython3\n# an edit, made by the benchmark\n```\n"
        _append(book / EDITED_CHAPTER, text)
        build("chapter_edit", jobs)
        before = model_files(book)
        # two blank lines before it, as ruff's format wants after a definition
        _append(book / EDITED_HELPER, "\n\n# an edit, made by the benchmark\n")
        build("library_edit", jobs)
        after = model_files(book)
        result["library_edit"]["models_trained"] = sorted(
            n for n, t in after.items() if before.get(n) != t
        )

        # The first make check after a build also computes what only the tests use (the
        # exercises' stored results): it is timed as "first"; the second is the warm loop.
        make_check = ["make", "check", f"VENV={ROOT / '.venv'}"]
        print("book: make check, first ...", flush=True)
        first, first_code = _run(make_check, book, env, log)
        print("book: make check, warm ...", flush=True)
        seconds, code = _run(make_check, book, env, log)
        result["check"] = {
            "seconds": seconds,
            "exit": code,
            "first_seconds": first,
            "first_exit": first_code,
        }

        serial, parallel = result["clean_serial"]["seconds"], result["clean_parallel"]["seconds"]
        edit = result["chapter_edit"]
        lib = result["library_edit"]
        warm = sum(lib["executed"].values())
        lib["warm_sum_seconds"] = warm
        slowest = result["chapters"][0]["seconds"] if result["chapters"] else None
        result["meets_targets"] = {
            "speedup": serial / parallel >= TARGETS["speedup"],
            "clean_build": parallel <= TARGETS["clean_build"],
            "rebuild": result["rebuild"]["seconds"] <= TARGETS["rebuild"],
            "chapter_edit": (
                list(edit["executed"]) == [EDITED_CHAPTER.removesuffix(".md")]
                and edit["seconds"] - sum(edit["executed"].values())
                <= TARGETS["chapter_edit_overhead"]
            ),
            "library_edit": (
                not lib["models_trained"]
                and lib["seconds"] <= warm / jobs + TARGETS["library_edit_overhead"]
            ),
            "chapter": slowest is not None and slowest <= TARGETS["chapter"],
            "check": code == 0 and first_code == 0 and seconds <= TARGETS["check"],
            "training": 0 < result["training"]["seconds"] <= TARGETS["training"],
        }
        if after_build is not None:
            after_build(book, env)
        return result
    finally:
        if keep is not None and log.exists():
            keep.write_text(log.read_text(errors="replace"))
        shutil.rmtree(tmp, ignore_errors=True)


#: The busy process that loads the machine for the loaded run: pure Python, one core's worth.
BUSY = "while True: pass"


#: The phase of ``make test`` in which the chapters execute (the report weighs it).
EXECUTION_PHASE = "book: assets, then the chapters' execution"

#: The phases of ``make test``, each starting at the first output line that matches its
#: pattern (what make echoes before a recipe line, or what the build prints at its end).
TEST_PHASES = (
    ("install", None),
    ("lint", re.compile(r"^make lint$")),
    ("library tests", re.compile(r"-m pytest .*--ignore=tests/book")),
    (EXECUTION_PHASE, re.compile(r"^make book$")),
    ("book: Sphinx reads and writes", re.compile(r"^executed \d+ notebooks? in ")),
    ("browser", re.compile(r"^The book is in ")),
    ("book and site tests", re.compile(r"-m pytest .*tests/book tests/site")),
)


def _cpu_times() -> tuple[float, float]:
    """The machine's busy and idle CPU time so far, in clock ticks (from /proc/stat)."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields[:8]) - idle, idle


def _run_phases(
    cmd: list[str], cwd: Path, env: dict, log: Path, phases=TEST_PHASES
) -> tuple[float, int, list]:
    """``_run``, noting when each of ``phases`` (name, pattern; the first starts at once)
    starts and how busy the cores were in it (the share of all cores' time not idle)."""
    start = time.perf_counter()
    marks = [(phases[0][0], start, _cpu_times())]
    pending = list(phases[1:])
    with open(log, "ab") as f:
        _log_command(f, cmd)
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for raw in proc.stdout:
            f.write(raw)
            line = raw.decode(errors="replace").strip()
            for i, (name, pattern) in enumerate(pending):
                if pattern.search(line):  # phases that never started are left out
                    marks.append((name, time.perf_counter(), _cpu_times()))
                    del pending[: i + 1]
                    break
        code = proc.wait()
    end = (None, time.perf_counter(), _cpu_times())
    phases = []
    for (name, t0, (busy0, idle0)), (_, t1, (busy1, idle1)) in zip(marks, marks[1:] + [end]):
        ticks = (busy1 - busy0) + (idle1 - idle0)
        phases.append(
            {
                "phase": name,
                "seconds": round(t1 - t0, 1),
                "cores_busy": round((busy1 - busy0) / ticks, 3) if ticks else None,
            }
        )
    return time.perf_counter() - start, code, phases


def measure_fresh_test(keep: Path | None = None, busy: int = 0) -> dict:
    """``make test`` in a fresh clone of the committed ``HEAD``, as CI runs it: its own
    venv and npm packages installed from the registries, every model trained.

    ``busy`` processes that each keep a core busy run alongside it (a loaded machine: the
    same work shares the cores with another job); the target applies to the idle run only.
    """
    tmp = Path(tempfile.mkdtemp(prefix="vae-test-bench-"))
    clone, log = tmp / "clone", tmp / "test.log"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    load = []
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        load = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(busy)]
        load_before = load_average()
        seconds, code, phases = _run_phases(["make", "test"], clone, env, log)
        result = {
            "seconds": seconds,
            "exit": code,
            "phases": phases,
            "load_average": {"before": load_before, "after": load_average()},
            "busy_processes": busy,
        }
        if busy:
            return result
        return {
            **result,
            "target": FRESH_TEST_TARGET,
            "meets_target": code == 0 and seconds <= FRESH_TEST_TARGET,
        }
    finally:
        for process in load:
            process.kill()
            process.wait()
        if keep is not None and log.exists():
            keep.write_text(log.read_text(errors="replace"))
        shutil.rmtree(tmp, ignore_errors=True)
