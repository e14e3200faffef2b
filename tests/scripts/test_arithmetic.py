"""Every process make starts computes with the same kernels on every x86-64 machine with AVX2.

OpenBLAS and numpy choose their kernels by the CPU; an AVX-512 kernel rounds differently
from an AVX2 one, and training turns that last bit into another model. The Makefile pins
both libraries to their AVX2 kernels: here, what a process started by make sees.
"""

import platform
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CPUINFO = Path("/proc/cpuinfo")

# what numpy and the OpenBLAS it loaded say they use, in a process started by make
PROBE = r"""
import ctypes, glob, os
import numpy as np
from numpy._core._multiarray_umath import __cpu_features__
lib = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas*.so"))
blas = ctypes.CDLL(lib[0])
blas.scipy_openblas_get_corename64_.restype = ctypes.c_char_p
print(blas.scipy_openblas_get_corename64_().decode(), __cpu_features__["X86_V4"])
"""


def _avx2_x86() -> bool:
    flags = CPUINFO.read_text().split() if CPUINFO.is_file() else []
    return platform.machine() == "x86_64" and "avx2" in flags and "fma" in flags


@pytest.mark.skipif(not _avx2_x86(), reason="the pin is for x86-64 machines with AVX2 and FMA")
def test_make_runs_everything_with_the_avx2_kernels():
    probe = f"probe-arithmetic: ; @$(PY) -c '{PROBE.strip()}'".replace("\n", "; ")
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "--eval", probe, "probe-arithmetic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    corename, x86_v4 = result.stdout.split()
    assert corename.lower() == "haswell"  # OpenBLAS's AVX2 kernels
    assert x86_v4 == "False"  # numpy's AVX-512 loops are off, even where the CPU has them
