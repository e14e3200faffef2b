"""What the numbers were taken on, and the thread settings that both libraries share.

The thread count must be set before numpy's BLAS and PyTorch start their thread pools, so
:func:`thread_env` gives the environment for a subprocess, and :func:`limit_threads` then
sets the same count again from inside it (threadpoolctl for numpy's OpenBLAS, and
``torch.set_num_threads`` for PyTorch's OpenMP and MKL) and reports what each library uses.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_env(threads: int) -> dict[str, str]:
    """The environment for a subprocess whose libraries all start with ``threads`` threads."""
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env


def limit_threads(threads: int) -> dict:
    """Set numpy's BLAS and PyTorch to ``threads`` threads; return what each now uses."""
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return {
        "requested": threads,
        "numpy_blas": [f"{p['internal_api']} {p['num_threads']}" for p in blas],
        "torch": torch.get_num_threads(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (other work on the machine shows here)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def describe() -> dict:
    """CPU, cores, memory, Python, numpy and its BLAS, PyTorch and its BLAS, the commit."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": ", ".join(
            f"{p['internal_api']} {p.get('version')} ({p.get('architecture')})" for p in blas
        ),
        "torch": None,
        "torch_blas": None,
        "commit": _git_commit(),
    }
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        config = torch.__config__.show()
        info["torch_blas"] = "MKL" if "BLAS_INFO=mkl" in config else "see torch.__config__"
    except ImportError:
        pass
    return info


def python() -> str:
    """The interpreter running the benchmark (the project's venv under ``make bench``)."""
    return sys.executable
