"""The chapters as the last book build executed them, read from its execution cache.

Numbers in the prose are glued from code (myst-nb's ``glue``), so a test that reads the
glued values from the executed notebook checks exactly the numbers a reader sees.
"""

from __future__ import annotations

import math
import os
import re
from functools import cache
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2]
CACHE = BOOK / "_build" / ".jupyter_cache"
_NUMPY_SCALAR = re.compile(r"^np\.\w+\((.*)\)$")


@cache
def executed_notebook(chapter: str):
    """The executed notebook of ``chapters/<chapter>.md`` from the build's cache."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    from _ext.parallel_execution import library_sha256

    # `make check` skips a chapter whose stored execution is missing or stale; after `make
    # book` (as in `make test`) every chapter must be current, so a stale one fails.
    stop = pytest.skip if os.environ.get("BOOK_CLAIMS") == "current-only" else pytest.fail
    if not CACHE.is_dir():
        stop(f"no execution cache at {CACHE}: run `make book` before these tests")
    source = BOOK / "chapters" / f"{chapter}.md"
    notebook = read_myst_markdown_notebook(source.read_text(encoding="utf-8"))
    store = get_cache(CACHE)
    try:
        record = store.match_cache_notebook(notebook)
    except KeyError:
        stop(f"{source} changed since the book was built: run `make book` again")
    if record.data.get("library") != library_sha256():
        stop(f"{source} was executed with another vae_lib: run `make book` again")
    _, merged = store.merge_match_into_notebook(notebook)
    return merged


def _parse(text: str):
    match = _NUMPY_SCALAR.match(text.strip())
    text = match.group(1) if match else text.strip()
    try:
        return float(text)
    except ValueError:
        return text.strip("'\"")


def glued(chapter: str) -> dict:
    """Every value the chapter glued, by name (numbers as floats)."""
    values = {}
    for cell in executed_notebook(chapter).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                data = output["data"]  # glue(..., display=False) records under its own key
                text = data.get("application/papermill.record/text/plain", data.get("text/plain"))
                values[name] = _parse(text)
    if not values:
        pytest.fail(f"chapter {chapter} glued no values")
    return values


def over_seeds(values: dict, key: str, runs) -> tuple[float, float, list[float]]:
    """A comparison over training runs as a page glues it: the value of each run
    (``{key}-{run}``), their mean (``{key}``) and its standard error over the runs
    (``{key}-se``), checked to be the mean and the sample deviation / √n of the values.

    Returns (mean, se, values of the runs).
    """
    per_run = [values[f"{key}-{run}"] for run in runs]
    mean, se = values[key], values[f"{key}-se"]
    n = len(per_run)
    assert mean == pytest.approx(sum(per_run) / n)
    sd = math.sqrt(sum((v - mean) ** 2 for v in per_run) / (n - 1))
    assert se == pytest.approx(sd / math.sqrt(n))
    return mean, se, per_run
