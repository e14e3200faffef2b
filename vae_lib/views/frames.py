"""Frames: what a widget shows for one value of its controls, as a piece of HTML.

:func:`vae_lib.widgets.interactive_output` calls ``render`` once per value and keeps each
result as a frame: a matplotlib figure becomes a small palette PNG at one size and
resolution (:data:`FIGURE_SIZE`, :data:`FIGURE_DPI`), an array becomes a pixel image
upscaled by a whole factor, and an HTML string is kept as it is. Every frame carries its
alt text, so a screen reader can say what each one shows.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import sys
from collections.abc import Callable

import numpy as np

from ..core.validation import describe_value

#: Size (inches) of figures made inside ``render`` without an explicit ``figsize``.
FIGURE_SIZE = (6.0, 4.0)
#: Resolution of figure frames (96 dpi: shown at its nominal size, 1 inch = 96 CSS pixels);
#: lowered for wide figures so that no PNG is wider than MAX_FIGURE_PX.
FIGURE_DPI = 96
#: Widest a figure frame may be, in pixels.
MAX_FIGURE_PX = 800
#: Array images are upscaled (nearest neighbour, by a whole factor) towards this many pixels.
IMAGE_PX = 192


def _rc_context():
    """Consistent size for figures made inside ``render`` (if matplotlib is installed)."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - only HTML frames without matplotlib
        return contextlib.nullcontext()
    return matplotlib.rc_context({"figure.figsize": FIGURE_SIZE, "figure.dpi": FIGURE_DPI})


def _small_png(png: bytes) -> bytes:
    """Re-encode an RGB(A) PNG with a 256-colour palette when that is smaller."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        rgb = im.convert("RGB")
    out = io.BytesIO()
    palette = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette.save(out, format="png")
    return out.getvalue() if out.tell() < len(png) else png


def figure_png(fig) -> tuple[bytes, int, int]:
    """The figure as a small PNG at :data:`FIGURE_DPI` (capped at MAX_FIGURE_PX wide).

    Closes the figure. Returns the PNG bytes and its width and height in pixels.
    """
    import matplotlib.pyplot as plt

    width_in, height_in = fig.get_size_inches()
    dpi = min(FIGURE_DPI, MAX_FIGURE_PX / width_in)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    plt.close(fig)
    return _small_png(buf.getvalue()), round(width_in * dpi), round(height_in * dpi)


def image_png(image, upscale: bool = True) -> tuple[bytes, int, int]:
    """An image array as a PNG, upscaled by a whole factor (nearest neighbour) unless
    ``upscale`` is False (then the browser scales it, which keeps the page small).

    ``image``: shape (H, W) grey, or (H, W, 3) RGB, or (H, W, 4) RGBA; floats in [0, 1]
    (1 is white, as ``imshow(..., cmap="gray", vmin=0, vmax=1)``), or integers in [0, 255].
    """
    from PIL import Image

    a = np.asarray(image)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape:
        hint = " (reshape a flat image first, e.g. x.reshape(4, 4))" if a.ndim == 1 else ""
        raise ValueError(
            f"an image must have shape (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}{hint}"
        )
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 255:
            raise ValueError(
                f"an integer image must lie in [0, 255]; got values from {a.min()} to {a.max()}"
            )
        a = a.astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise ValueError("a float image must be finite; got NaN or infinite values")
        if a.min() < 0 or a.max() > 1:
            raise ValueError(
                f"a float image must lie in [0, 1]; got values from {a.min():.4g} to "
                f"{a.max():.4g} (scale it yourself: nothing is clipped)"
            )
        a = np.rint(a * 255).astype(np.uint8)
    else:
        raise TypeError(f"an image must hold numbers; got dtype {a.dtype}")
    scale = max(1, IMAGE_PX // max(a.shape[:2])) if upscale else 1
    a = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="png", optimize=True)
    return buf.getvalue(), a.shape[1], a.shape[0]


def _img_tag(png: bytes, width: int, height: int, alt: str, style: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img class="vae-frame" src="data:image/png;base64,{data}" width="{width}" '
        f'height="{height}" alt="{html.escape(alt, quote=True)}" '
        f'style="max-width:100%;height:auto;{style}">'
    )


# Pixel images keep sharp pixels when scaled, and a border shows where white pixels end.
_PIXEL_STYLE = "image-rendering:pixelated;border:1px solid #888"


def img_tag(image, alt: str, size: int) -> str:
    """HTML ``<img>`` of a pixel image, shown ``size`` pixels wide with its pixels kept sharp.

    ``image`` as :func:`image_png` takes it (grey levels in [0, 1] of shape (H, W), or 8-bit
    RGB); it is stored at its own resolution and enlarged by the browser.
    """
    png, width, height = image_png(image, upscale=False)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
        f'width="{size}" height="{round(size * height / width)}" style="{_PIXEL_STYLE}">'
    )


def panels(*items: tuple[str, str]) -> str:
    """HTML: ``(img tag, caption)`` pairs side by side, each caption below its image."""
    cells = "".join(
        '<figure style="margin:0 8px 0 0;text-align:center">'
        f'{tag}<figcaption style="font-size:0.8em">{caption}</figcaption></figure>'
        for tag, caption in items
    )
    return f'<div style="display:flex;flex-wrap:wrap;align-items:flex-end">{cells}</div>'


def frame_html(render: Callable, values: dict, alt) -> str:
    """Call ``render(**values)`` and turn its result into the HTML of one frame."""
    text = alt(**values) if callable(alt) else alt
    if not isinstance(text, str) or not text.strip():
        raise TypeError(
            f"alt must give a non-empty string; alt({values}) gave {describe_value(text)}"
            if callable(alt)
            else f"alt must be a non-empty string; got {describe_value(text)}"
        )
    with _rc_context():
        try:
            out = render(**values)
        except Exception as exc:
            if hasattr(exc, "add_note"):
                exc.add_note(f"(raised by render(**{values}) in vae_lib.widgets)")
            raise
    if "matplotlib" in sys.modules:
        from matplotlib.figure import Figure

        if isinstance(out, Figure):
            return _img_tag(*figure_png(out), text)
    if isinstance(out, np.ndarray):
        return _img_tag(*image_png(out), text, _PIXEL_STYLE)
    if isinstance(out, str):
        label = html.escape(text, quote=True)
        return f'<div class="vae-frame" role="figure" aria-label="{label}">{out}</div>'
    raise TypeError(
        f"render must return a matplotlib Figure, a 2-D or 3-D ndarray image or an HTML "
        f"string; render(**{values}) returned {type(out).__name__}"
    )
