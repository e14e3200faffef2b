"""Sphinx extension: execute the book's notebooks in parallel, and never show a stale one.

myst-nb's ``cache`` mode executes notebooks one at a time while Sphinx reads them, and keys
each executed notebook by its code cells only. Before Sphinx reads anything, this extension
brings jupyter-cache (the store myst-nb reads from) up to date itself:

- **What is stale.** A stored execution is used only if it matches the chapter's code cells
  (jupyter-cache's own key) *and* was made with the library and data of this checkout: the
  SHA-256 of every file under ``vae_lib/`` (``nb_execution_library``: its code and its
  shipped data) is stored with each execution. A chapter whose execution is missing or
  stale is executed again, and Sphinx reads it again even if its source did not change.
- **In parallel.** The chapters to execute run in a pool of ``nb_execution_jobs``
  processes (0: ``BOOK_JOBS``, else the cores this process may use), each with one BLAS
  thread, the longest first, with jupyter-cache's own ``single_nb_execution``. "Longest" is
  the larger of each chapter's last measured time and its cold time in
  ``chapter_seconds.json`` beside this file (written by ``make bench``):
  :func:`execution_order`. Trained models and results that several chapters share are
  computed once, whatever name each chapter gives them: ``vae_lib``'s store finds them by
  their key and makes a second process wait for the first (:mod:`vae_lib.training.cache`).
- **What the book used.** Each execution records the stored models and results it read
  (``VAE_LIB_CACHE_LOG``); :func:`book_cache_files` gives their union, which the build
  publishes, and nothing else.

When everything is up to date this reads each chapter's source, hashes the library and
returns: a rebuild that executes nothing costs well under a second here. The times of the
last execution phase are written to ``execution_times.json`` in jupyter-cache's folder for
the build-statistics page (``execution-summary`` directive).

Loaded by ``_config.yml`` (``sphinx.local_extensions``), after myst-nb.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "vae_lib"
TIMES_FILE = "execution_times.json"
COLD_TIMES = Path(__file__).with_name("chapter_seconds.json")
#: Each chapter's time with every model and result it needs stored (``make bench``).
WARM_TIMES = Path(__file__).with_name("chapter_warm_seconds.json")
SUMMARY_DIRECTIVE = "{execution-summary}"
CACHE_LOG_ENV = "VAE_LIB_CACHE_LOG"  # vae_lib.training.cache.CACHE_LOG_ENV
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def library_sha256(root: Path = LIBRARY) -> str:
    """SHA-256 of every file under the library folder (code and data), by relative path,
    line endings normalised; caches and compiled files left out."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        data = path.read_bytes()
        if path.suffix in (".py", ".md", ".txt", ".json"):
            data = data.replace(b"\r\n", b"\n")
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def default_jobs() -> int:
    """``BOOK_JOBS`` if it is a positive integer, else the cores this process may use."""
    jobs = os.environ.get("BOOK_JOBS", "")
    if jobs.isdigit() and int(jobs) > 0:
        return int(jobs)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _cache(app):
    from jupyter_cache import get_cache

    return get_cache(app.env.mystnb_config.execution_cache_path or ".jupyter_cache")


def _source(env, docname: str) -> str:
    return Path(env.doc2path(docname)).read_text(encoding="utf-8")


def _read_notebook(app, docname: str):
    """The chapter as myst-nb reads it (the same notebook, so the same cache key), or None
    for a page that is not a notebook."""
    from myst_nb.core.read import create_nb_reader

    path, text = app.env.doc2path(docname), _source(app.env, docname)
    reader = create_nb_reader(str(path), app.env.myst_config, app.env.mystnb_config, text)
    return None if reader is None else reader.read(text)


def kernel_manager_class(sockets: str):
    """Kernels that talk over Unix sockets in the folder ``sockets`` (an absolute path: the
    kernel runs in the chapter's folder, its client elsewhere), where the system has them:
    two kernels started at once by two processes can pick the same free TCP port (each checks
    that it is free, then binds it), and one of them then loses its heartbeat."""
    from jupyter_client.manager import KernelManager
    from traitlets import default

    if os.name != "posix":
        return KernelManager

    class IPCKernelManager(KernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            return os.path.join(sockets, "kernel")

    return IPCKernelManager


def _execute(path: str, notebook, timeout, allow_errors: bool) -> dict:
    """One chapter, in a worker process: executed notebook, seconds, error, files read."""
    from jupyter_cache.executors.utils import single_nb_execution

    for name in THREAD_VARIABLES:  # one BLAS thread per process: the processes are the cores
        os.environ[name] = "1"
    with (
        tempfile.NamedTemporaryFile("r", suffix=".log", encoding="utf-8") as log,
        tempfile.TemporaryDirectory(prefix="vae-kernel-") as sockets,
    ):
        os.environ[CACHE_LOG_ENV] = log.name
        result = single_nb_execution(
            notebook,
            cwd=str(Path(path).parent),
            timeout=timeout,
            allow_errors=allow_errors,
            meta_override=True,
            kernel_manager_class=kernel_manager_class(sockets),
        )
        used = sorted(set(log.read().split()))
    return {
        "notebook": result.nb,
        "seconds": result.time,
        "error": result.exc_string if result.err is not None else None,
        "cache_files": used,
    }


def _saved_times(folder: Path) -> dict:
    try:
        return json.loads((folder / TIMES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record(path: Path) -> dict:
    """A file of chapter times ``make bench`` writes: {"seconds": {chapter: seconds},
    "measured": {date, cpu, commit, processes, build}}; {} when it is missing or bad."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _seconds(record: dict) -> dict:
    """A record's {chapter: seconds}; {} when it has none."""
    seconds = record.get("seconds")
    return seconds if isinstance(seconds, dict) else {}


def _times_on_record(path: Path) -> dict:
    """{chapter: seconds} from a file ``make bench`` writes; {} when it is missing or bad."""
    return _seconds(_record(path))


def measured_on(measured: dict) -> str:
    """Where and when times were measured, as a clause: "on 2026-12-06, at commit abc1234,
    on Intel(R) Xeon(R) Processor, one process" (empty if nothing is on record)."""
    if not measured:
        return ""
    processes = measured.get("processes")
    how = {1: "one process"}.get(processes, f"{processes} processes" if processes else "")
    parts = [
        f"on {str(measured['date'])[:10]}" if measured.get("date") else "",
        f"at commit {measured['commit']}" if measured.get("commit") else "",
        f"on {measured['cpu']}" if measured.get("cpu") else "",
        how,
    ]
    return ", ".join(p for p in parts if p)


def execution_order(chapters, cold: dict, last: dict) -> list[str]:
    """The chapters, the longest expected first; a chapter with no time on record first of all.

    A chapter's expected time is the larger of its cold time (``chapter_seconds.json``: what
    it costs when its models must be trained) and its last measured one. The larger, because
    chapters re-execute mostly after a change in the library, which may retrain their models:
    ordered by their last, warm, times, the longest cold chapter would start late and finish
    alone while the other processes idle.
    """

    def expected(chapter: str) -> float:
        known = [t for t in (cold.get(chapter), last.get(chapter)) if t is not None]
        return max(known) if known else float("inf")

    return sorted(chapters, key=lambda chapter: -expected(chapter))


def bring_cache_up_to_date(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: execute what is missing or stale, in parallel; return the
    chapters executed, for Sphinx to read again."""
    from jupyter_cache.base import CacheBundleIn

    config = env.mystnb_config
    if config.execution_mode != "cache":
        return []
    cache = _cache(app)
    library = library_sha256(Path(app.confdir) / app.config.nb_execution_library)
    to_run, current = {}, set()
    for docname in sorted(env.found_docs):
        notebook = _read_notebook(app, docname)
        if notebook is None:
            continue
        try:
            record = cache.match_cache_notebook(notebook)
        except KeyError:
            record = None
        if record is not None and record.data.get("library") == library:
            current.add(record.pk)
            continue
        if record is not None:
            cache.remove_cache(record.pk)  # made by other library code: stale
        to_run[docname] = notebook
    folder = Path(cache.path)
    times = _saved_times(folder)
    order = execution_order(to_run, _times_on_record(COLD_TIMES), times.get("chapters", {}))
    jobs = min(app.config.nb_execution_jobs or default_jobs(), max(1, len(order)))
    failures, ran = [], {}
    if order:
        logger.info(f"executing {len(order)} notebooks in {jobs} processes: {', '.join(order)}")
        start = time.perf_counter()
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures = {
                d: pool.submit(
                    _execute,
                    str(env.doc2path(d)),
                    to_run[d],
                    config.execution_timeout,
                    config.execution_allow_errors,
                )
                for d in order
            }
            for docname, future in futures.items():
                out = future.result()
                ran[docname] = out["seconds"]
                if out["error"] is not None:
                    failures.append(f"{docname}:\n{out['error']}")
                    continue
                uri = cache.add_nb_to_project(str(env.doc2path(docname))).uri
                record = cache.cache_notebook_bundle(
                    CacheBundleIn(
                        out["notebook"],
                        uri,
                        data={
                            "execution_seconds": out["seconds"],
                            "library": library,
                            "cache_files": out["cache_files"],
                        },
                    ),
                    check_validity=False,
                    overwrite=True,
                )
                current.add(record.pk)
                logger.info(f"executed {docname} in {out['seconds']:.1f} s")
        wall = time.perf_counter() - start
        chapter_times = {**times.get("chapters", {}), **ran}
        summary = {"jobs": jobs, "wall_seconds": wall, "executed": ran, "chapters": chapter_times}
        (folder / TIMES_FILE).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
        logger.info(f"executed {len(ran)} notebooks in {wall:.1f} s on {jobs} processes")
    for record in cache.list_cache_records():  # executions of sources that no longer exist
        if record.pk not in current:
            cache.remove_cache(record.pk)
    if failures:
        message = "\n\n".join(failures)
        if config.execution_raise_on_error:
            raise ExtensionError(f"notebooks failed to execute:\n{message}")
        logger.warning(f"notebooks failed to execute:\n{message}", type="mystnb", subtype="exec")
    summaries = [d for d in env.found_docs if SUMMARY_DIRECTIVE in _source(env, d)]
    return sorted(ran) + (summaries if ran else [])


def book_cache_files(app) -> set[str]:
    """Names of the stored models and results that the book's executed chapters read."""
    cache = _cache(app)
    return {name for r in cache.list_cache_records() for name in r.data.get("cache_files", [])}


def execution_summary(ran: dict, wall: float, jobs: int) -> str:
    """The last execution phase in a few sentences (:class:`ExecutionSummary`): ``ran`` the
    seconds of each chapter it executed, ``wall`` its wall-clock time, ``jobs`` its
    processes."""
    if not ran:
        return "No chapter has been executed by this build's cache yet."
    serial, longest = sum(ran.values()), max(ran.values())
    chapters = "1 chapter" if len(ran) == 1 else f"{len(ran)} chapters"
    if jobs == 1:
        return (
            f"The last time chapters were executed, {chapters} ran in one process, in "
            f"{wall:.0f} s of wall-clock time ({serial:.0f} s of execution, the sum of the "
            "times in the table)."
        )
    return (
        f"The last time chapters were executed, {chapters} ran in {jobs} processes in "
        f"{wall:.0f} s of wall-clock time. The processes were busy for {serial:.0f} s in all "
        f"(the sum of the chapters' times in the table), {serial / wall:.2f} times the "
        "wall-clock time; one process alone would take somewhat less than that sum, since a "
        "chapter runs faster when it does not share the memory bus with another "
        "(bench/results.md measures both builds). With P processes the wall-clock time is at "
        f"least the larger of the longest chapter ({longest:.0f} s) and the sum divided by P, "
        "and a chapter that waits for a model another is training adds to it."
    )


class ExecutionSummary(Directive):
    """The last execution phase in a few sentences (:func:`execution_summary`)."""

    def run(self):
        env = self.state.document.settings.env
        folder = Path(env.mystnb_config.execution_cache_path or ".jupyter_cache")
        times = _saved_times(folder)
        ran = times.get("executed", {})
        text = execution_summary(ran, times.get("wall_seconds", 0.0), times.get("jobs", 1))
        return [nodes.paragraph(text=text)]


def _table(header: list[str], rows: list[list[str]]) -> nodes.table:
    """A docutils table: a header row, then ``rows``, every cell text."""

    def row(cells):
        return nodes.row("", *(nodes.entry("", nodes.paragraph(text=c)) for c in cells))

    group = nodes.tgroup(cols=len(header))
    group += [nodes.colspec(colwidth=1) for _ in header]
    group += nodes.thead("", row(header))
    group += nodes.tbody("", *(row(r) for r in rows))
    return nodes.table("", group)


def cold_times_table(
    cold: dict, warm: dict, cold_measured: dict | None = None, warm_measured: dict | None = None
) -> tuple[list[str], list[list[str]], str]:
    """The appendix's table of cold times (header and rows, longest first, then the sum) and
    the sentences under it: where and when the times were measured, the bound they put on a
    clean build with P processes, and, when ``warm`` has every chapter of ``cold``, the part
    of a clean start that is computing the stored models and results."""
    total, longest = sum(cold.values()), max(cold.values())
    split = set(cold) <= set(warm)

    def cells(seconds: float, warm_seconds: float) -> list[str]:
        percent = 100 * seconds / total
        share = "<1%" if 0 < percent < 0.5 else f"{percent:.0f}%"  # a time never shows as 0%
        return [f"{seconds:,.0f}", *([f"{warm_seconds:,.0f}"] if split else []), share]

    warm_total = sum(warm[c] for c in cold) if split else 0.0
    rows = [[c, *cells(cold[c], warm.get(c, 0.0))] for c in sorted(cold, key=lambda c: -cold[c])]
    rows.append(["all chapters", *cells(total, warm_total)])
    header = ["chapter", "cold time (s)"]
    header += ["with its results stored (s)"] if split else []
    header += ["share of the cold sum"]
    bound = ", ".join(
        f"{p} {'process' if p == 1 else 'processes'}: {max(longest, total / p):,.0f} s"
        for p in (1, 2, 4)
    )
    where = [
        f"The {what} times were measured {measured_on(m)}."
        for what, m in (("cold", cold_measured), ("stored", warm_measured if split else None))
        if m
    ]
    text = " ".join(where + [""]) + (
        f"With P processes a clean build's execution takes at least max(longest chapter, "
        f"sum / P) = max({longest:,.0f} s, {total:,.0f} s / P): {bound}. A chapter that "
        "waits for a model another is training adds to it, and a chapter runs somewhat "
        "faster alone than beside another that shares the memory bus."
    )
    training = (cold_measured or {}).get("training_seconds")
    models = (cold_measured or {}).get("trained_models")
    trained = (
        f" ({training:,.0f} s of it: the training time the {models} models record)"
        if training and models
        else ""
    )
    if split:
        text += (
            f" With every model and result stored, the same chapters take {warm_total:,.0f} s"
            f" in all: the other {total - warm_total:,.0f} s "
            f"({100 * (total - warm_total) / total:.0f}%) of a clean start are, roughly (the "
            "two columns come from builds on one and on every core), training the models"
            f"{trained} and computing the stored results (importance-weighted bounds, "
            "refitted encoders)."
        )
    elif trained:
        text += f" Training the {models} models takes {training:,.0f} s of the cold sum."
    return header, rows, text


class ColdTimes(Directive):
    """Each chapter's time from a clean start (``chapter_seconds.json``), longest first, and
    what they bound: the clean build's wall-clock time on P processes; beside it, when on
    record for every chapter, its time with its models and results stored
    (``chapter_warm_seconds.json``). See :func:`cold_times_table`."""

    def run(self):
        env = self.state.document.settings.env
        env.note_dependency(str(COLD_TIMES))
        env.note_dependency(str(WARM_TIMES))
        cold_record, warm_record = _record(COLD_TIMES), _record(WARM_TIMES)
        cold = _seconds(cold_record)
        if not cold:
            return [nodes.paragraph(text=f"No cold times are on record ({COLD_TIMES.name}).")]
        header, rows, text = cold_times_table(
            cold,
            _seconds(warm_record),
            cold_record.get("measured"),
            warm_record.get("measured"),
        )
        return [_table(header, rows), nodes.paragraph(text=text)]


def setup(app):
    app.setup_extension("myst_nb")
    app.add_config_value("nb_execution_jobs", 0, "env", [int])
    app.add_config_value("nb_execution_library", "vae_lib", "env", [str])
    app.connect("env-get-outdated", bring_cache_up_to_date)
    app.add_directive("execution-summary", ExecutionSummary)
    app.add_directive("cold-times", ColdTimes)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
