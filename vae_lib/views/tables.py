"""How the book states a number: a likelihood with its context.

Presentation, not mathematics: the data layer defines the data sets and binarizations, this
says them in words beside a number.
"""

from __future__ import annotations

import re

import numpy as np

from ..data.digits import BINARIZATIONS, Dataset


def format_nats(value: float, dataset: Dataset, *, split: str, binarization: str, k: int) -> str:
    """State a likelihood bound as the book states every number: nats per image, with context.

    ``format_nats(-98.1, mnist_subset(), split="test", binarization="dynamic", k=1)`` gives
    ``"-98.10 nats per image (ELBO, K = 1; MNIST subset, test split of 1000 images,
    dynamically binarized, each pixel drawn from Bernoulli(grey level))"``.

    Parameters
    ----------
    value : float
        The bound, averaged over the split's images, in nats per image.
    dataset : Dataset
    split : {"train", "test"}
    binarization : {"static", "dynamic", "grey"}
        One of :data:`BINARIZATIONS` ("static" means the default threshold 0.5).
    k : int
        Importance samples: 1 for the ELBO, K for the bound L_K.
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a Dataset; got {type(dataset).__name__}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    x, _ = dataset.split(split)
    if binarization not in BINARIZATIONS:
        raise ValueError(
            f"binarization must be one of {sorted(BINARIZATIONS)}; got {binarization!r}"
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer of at least 1; got {k!r}")
    bound = "ELBO, K = 1" if k == 1 else f"L_K with K = {k} importance samples"
    return (
        f"{float(value):.2f} nats per image ({bound}; {dataset.name}, {split} split of "
        f"{len(x)} images, {BINARIZATIONS[binarization]})"
    )


def html_table(header, rows, note: str = "", label: str = "table", nowrap: bool = False):
    """A table as the book shows one: a header row, body rows, and a note below it, inside a
    region that scrolls sideways on a narrow screen and that the keyboard can reach.

    Parameters
    ----------
    header : sequence of str
        The column headings (HTML allowed).
    rows : sequence of sequences
        The cells of each row, formatted already (HTML allowed).
    note : str
        A line under the table: what the numbers are.
    label : str
        What a screen reader announces for the region.
    nowrap : bool
        Keep each cell on one line (for cells like "-98.1 ± 0.4").

    Returns
    -------
    IPython.display.HTML
    """
    from IPython.display import HTML

    header, rows = list(header), [list(row) for row in rows]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(
            f"every row must have {len(header)} cells, one per heading; got rows of "
            f"{sorted({len(row) for row in rows})}"
        )
    cell = '<td style="white-space: nowrap">{}</td>' if nowrap else "<td>{}</td>"
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell.format(c) for c in row) + "</tr>" for row in rows)
    return HTML(
        f'<div style="overflow-x: auto" tabindex="0" role="region" aria-label="{label}">'
        f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f'</div><p style="font-size: 0.85em">{note}</p>'
    )


def mean_se(values, ddof: int = 1) -> tuple[float, float]:
    """The mean of ``values`` and its standard error, std / √n (with ``ddof`` as numpy's)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) <= ddof:
        raise ValueError(
            f"values must be a 1-D array of more than {ddof} numbers; got shape {values.shape}"
        )
    return float(values.mean()), float(values.std(ddof=ddof) / np.sqrt(len(values)))


_E_NOTATION = re.compile(r"(?P<sign>[-+]?)(?P<mantissa>\d+(?:\.\d+)?)[eE](?P<exponent>[-+]?\d+)")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def as_power_of_ten(text: str) -> str:
    """Python's e-notation as prose writes a power of ten: ``"1.8e-08"`` -> ``"1.8 × 10⁻⁸"``,
    ``"-3e+12"`` -> ``"−3 × 10¹²"``; any other text as it is. Format the number first, with
    the digits it deserves: ``as_power_of_ten(f"{error:.0e}")``."""
    match = _E_NOTATION.fullmatch(text.strip())
    if match is None:
        return text
    exponent = int(match["exponent"])
    sign = "−" if match["sign"] == "-" else ""
    if exponent == 0:
        return f"{sign}{match['mantissa']}"
    return f"{sign}{match['mantissa']} × 10{str(exponent).translate(_SUPERSCRIPT)}"
