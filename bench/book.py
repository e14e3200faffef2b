"""The book's build times: a clean build with execution, an unchanged rebuild, each chapter.

Everything happens in a temporary copy of the repository (without ``.venv``, ``_build``,
``node_modules`` and ``_assets``), so the main ``_build`` and its caches are
never touched. The copy is built as ``make book`` builds, with the project's venv:

1. **assets**: the front-end files are copied out of ``node_modules`` (copied into the
   temporary folder for this) by ``scripts/vendor_assets.py``, as ``make assets`` does
   after its ``npm ci`` (the download is not timed: it is not the book's work);
2. **clean build**: ``jupyter-book build`` with an empty execution cache and an empty
   model cache, so every chapter executes and every model trains;
3. **rebuild**: the same command again with nothing changed.

The chapters import the copy's ``vae_lib`` (``PYTHONPATH``), whose model cache then lives
in the copy's ``_build``. Each chapter's execution time is read from the copy's execution
cache, the numbers the book's own execution-statistics table shows.
"""

from __future__ import annotations

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
TARGETS = {"clean_build": 300.0, "rebuild": 30.0, "chapter": 60.0}  # seconds
MAKE_BOOK_THREADS = 1  # BLAS and OpenMP threads of each chapter's kernel, as `make book` sets


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


def copy_repository(dest: Path) -> None:
    """Copy the working tree into ``dest``, without the venv and anything built."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in EXCLUDE} if Path(folder) == ROOT else set()

    shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore)


def _run(cmd: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with open(log, "ab") as f:
        f.write(f"\n$ {' '.join(cmd)}\n".encode())
        f.flush()
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


def measure(
    keep: Path | None = None, after_build=None, threads: int | None = None, rebuild: bool = True
) -> dict:
    """Copy, build from clean, rebuild; return the times (then call ``after_build``).

    ``after_build(copy, env)`` runs on the built copy before it is deleted, with the
    environment of the build (the widget benchmark reads the built pages, and runs the
    chapters with the copy's trained-model cache). ``threads`` sets the BLAS and OpenMP
    threads of the chapters' kernels (by default :data:`MAKE_BOOK_THREADS`, as ``make book``).
    """
    tmp = Path(tempfile.mkdtemp(prefix="vae-book-bench-"))
    book = tmp / "book"
    log, relog = tmp / "build.log", tmp / "rebuild.log"
    result: dict = {"targets": TARGETS}
    try:
        start = time.perf_counter()
        copy_repository(book)
        result["copy_seconds"] = time.perf_counter() - start

        env = dict(os.environ)
        env["PYTHONPATH"] = str(book) + os.pathsep + env.get("PYTHONPATH", "")
        env["VAE_LIB_CACHE"] = str(book / "_build" / ".vae_cache")
        env.pop("MPLBACKEND", None)
        env.update(thread_env(MAKE_BOOK_THREADS if threads is None else threads))
        result["threads"] = MAKE_BOOK_THREADS if threads is None else threads

        vendor = book / "scripts" / "vendor_assets.py"
        if vendor.exists() and (ROOT / "node_modules").is_dir():
            shutil.copytree(ROOT / "node_modules", book / "node_modules", symlinks=True)
            seconds, code = _run([sys.executable, str(vendor)], book, env, log)
            result["assets_seconds"] = seconds
            if code:
                result["error"] = "scripts/vendor_assets.py failed (see bench/build.log)"
                return result

        cmd = [_jupyter_book(), *BUILD_ARGS]
        load_before = load_average()
        seconds, code = _run(cmd, book, env, log)
        result["clean_build_seconds"] = seconds
        result["load_average"] = {"before": load_before, "after": load_average()}
        if code:  # with --keep-going the site is still built; say what went wrong, go on
            result["clean_build_problems"] = _problems(log)
        if not (book / "_build" / "html" / "index.html").exists():
            result["error"] = f"the clean build made no site (exit {code})"
            return result
        result["chapters"] = chapter_times(book)
        if not rebuild:
            return result
        seconds, code = _run(cmd, book, env, relog)
        result["rebuild_seconds"] = seconds
        if code:
            result["rebuild_problems"] = _problems(relog)
        result["meets_targets"] = {
            "clean_build": result["clean_build_seconds"] <= TARGETS["clean_build"],
            "rebuild": result["rebuild_seconds"] <= TARGETS["rebuild"],
            "chapters": all((c["seconds"] or 0) <= TARGETS["chapter"] for c in result["chapters"]),
        }
        if after_build is not None:
            after_build(book, env)
        return result
    finally:
        if keep is not None:
            logs = [f.read_text(errors="replace") for f in (log, relog) if f.exists()]
            keep.write_text("".join(logs))
        shutil.rmtree(tmp, ignore_errors=True)
