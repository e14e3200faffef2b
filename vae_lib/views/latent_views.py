"""Ways to look at a latent space: quantile grids, image mosaics, paths, raster scatters.

The chapter "The latent space of handwritten digits" uses these to draw Kingma and
Welling's manifold of decoded digits, to walk between two codes, and to mark a code on a
map of the test set's codes in a widget frame (a raster, so that each of many frames costs
a few milliseconds and a few kilobytes).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from ..core.validation import check_array, check_positive_int

#: matplotlib's "tab10" colours as 8-bit RGB, so a raster scatter matches
#: :func:`vae_lib.plots.plot_latent_scatter` (class ``c`` gets ``TAB10[c % 10]``).
TAB10 = np.array(
    [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ],
    dtype=np.uint8,
)


#: Bounds on the sizes these functions draw: a larger request is refused before any work.
MAX_RASTER_PX = 4096
MAX_DOT_PX = 64
MAX_QUANTILES = 100_000


def _check_at_most(value: int, name: str, limit: int) -> int:
    if value > limit:
        raise ValueError(f"{name} must be at most {limit:,}; got {value:,}")
    return value


def normal_quantiles(n: int) -> np.ndarray:
    r"""The quantiles of N(0, 1) at the midpoints of ``n`` equal slices of (0, 1).

    .. math:: q_i = \Phi^{-1}\!\left(\frac{i + 1/2}{n}\right), \qquad i = 0, \dots, n - 1

    (eq. ``latent-quantile-grid``), where :math:`\Phi^{-1}` is the inverse normal CDF
    (``statistics.NormalDist().inv_cdf``). Each of the ``n`` values stands for the same
    prior probability 1/n, so a grid of them covers the prior evenly rather than the plane.

    Returns
    -------
    ndarray, shape (n,), float64, increasing and symmetric about 0
    """
    n = _check_at_most(check_positive_int(n, "n"), "n", MAX_QUANTILES)
    inv_cdf = NormalDist().inv_cdf
    return np.array([inv_cdf((i + 0.5) / n) for i in range(n)])


def normal_quantile_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """An ``n`` × ``n`` grid of 2-D codes at the quantiles of N(0, 1), laid out like a plot.

    Code ``r * n + c`` is ``(q[c], q[n - 1 - r])``: along a row z₁ grows to the right, down
    a column z₂ falls, so decoding the codes and tiling the images row by row
    (:func:`tile_images` with ``ncols=n``) draws the latent plane with z₂ pointing up
    (Kingma and Welling, 2014).

    Returns
    -------
    q : ndarray, shape (n,)
        :func:`normal_quantiles` of ``n``.
    codes : ndarray, shape (n * n, 2), float64
    """
    q = normal_quantiles(n)
    z1, z2 = np.meshgrid(q, q[::-1])
    return q, np.column_stack([z1.ravel(), z2.ravel()])


def tile_images(
    images, image_shape: tuple[int, int], ncols: int, *, pad: int = 0, pad_value: float = 1.0
) -> np.ndarray:
    """Tile flattened images row by row into one 2-D array (a mosaic for ``imshow``).

    Parameters
    ----------
    images : ndarray, shape (n, H * W)
        ``n`` must be a multiple of ``ncols``.
    image_shape : (H, W)
    ncols : int
    pad : int
        Pixels of ``pad_value`` between neighbouring images (none at the border).
    pad_value : float

    Returns
    -------
    ndarray, shape (rows * H + (rows - 1) * pad, ncols * W + (ncols - 1) * pad)
    """
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 2:
        raise ValueError(f"image_shape must be a pair (H, W); got {image_shape!r:.60}")
    h, w = (check_positive_int(s, "image_shape entry") for s in image_shape)
    images = check_array(images, "images", shape=(None, h * w))
    ncols = check_positive_int(ncols, "ncols")
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be an integer of at least 0; got {pad!r}")
    if (
        isinstance(pad_value, bool)
        or not isinstance(pad_value, (int, float, np.integer, np.floating))
        or not np.isfinite(pad_value)
    ):
        raise ValueError(f"pad_value must be a finite number (a grey level); got {pad_value!r}")
    n = len(images)
    if n == 0 or n % ncols:
        raise ValueError(f"images must hold a positive multiple of ncols={ncols} images; got {n}")
    rows = n // ncols
    out = np.full((rows * h + (rows - 1) * pad, ncols * w + (ncols - 1) * pad), pad_value)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = image.reshape(
            h, w
        )
    return out


def interpolate(z_start, z_end, alphas) -> np.ndarray:
    r"""Points on the straight line from ``z_start`` to ``z_end``.

    .. math:: z(\alpha) = (1 - \alpha)\, z_{\text{start}} + \alpha\, z_{\text{end}}

    (eq. ``latent-interpolation``); ``alpha = 0`` gives ``z_start``, ``alpha = 1`` ``z_end``.

    Parameters
    ----------
    z_start, z_end : ndarray, shape (K,)
    alphas : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (n, K), the dtype of ``z_start``
    """
    z_start = check_array(z_start, "z_start", ndim=1)
    z_end = check_array(z_end, "z_end", ndim=1)
    if z_start.shape != z_end.shape or len(z_start) == 0:
        raise ValueError(
            f"z_start and z_end must be codes of one non-zero length; got shapes "
            f"{z_start.shape} and {z_end.shape}"
        )
    alphas = check_array(alphas, "alphas", ndim=1)
    path = (1.0 - alphas[:, None]) * z_start[None, :] + alphas[:, None] * z_end[None, :]
    return path.astype(z_start.dtype)


def _to_pixels(points: np.ndarray, extent, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) pixel coordinates of 2-D points in a square raster showing ``extent``."""
    x0, x1, y0, y1 = extent
    col = np.rint((points[:, 0] - x0) / (x1 - x0) * (size - 1)).astype(int)
    row = np.rint((y1 - points[:, 1]) / (y1 - y0) * (size - 1)).astype(int)
    return row, col


def _check_extent(extent) -> tuple[float, float, float, float]:
    values = check_array(extent, "extent", shape=(4,))
    x0, x1, y0, y1 = (float(v) for v in values)
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"extent must be (x0, x1, y0, y1) with x0 < x1 and y0 < y1; got {extent}")
    return x0, x1, y0, y1


def _stamp_dots(image: np.ndarray, row, col, dot: int, colours: np.ndarray) -> None:
    """Paint a dot × dot square of ``colours[i]`` centred on pixel (row[i], col[i]), in place;
    the parts of a square outside the image are left out."""
    size = image.shape[0]
    lo = -(dot // 2)
    for dr in range(lo, lo + dot):
        for dc in range(lo, lo + dot):
            r, c = row + dr, col + dc
            inside = (r >= 0) & (r < size) & (c >= 0) & (c < size)
            image[r[inside], c[inside]] = colours[inside]


def scatter_raster(codes, labels, *, extent, size: int = 200, dot: int = 3) -> np.ndarray:
    """A scatter of 2-D codes drawn into an RGB array: white, with a grey cross at the origin.

    Each code is a ``dot`` × ``dot`` square in the colour ``TAB10[label % 10]``; codes
    outside ``extent`` are left out of the picture. Drawn with no anti-aliasing, so that it
    stays small as a PNG: a cheap background for widget frames.

    Parameters
    ----------
    codes : ndarray, shape (N, 2)
    labels : ndarray, shape (N,), int
    extent : (x0, x1, y0, y1)
        The window of the plane shown: x from left to right, y from bottom to top.
    size : int
        Side of the square raster, in pixels.
    dot : int
        Side of each code's square, in pixels.

    Returns
    -------
    ndarray, shape (size, size, 3), uint8
    """
    codes = check_array(codes, "codes", shape=(None, 2))
    labels = np.asarray(labels)
    if labels.shape != (len(codes),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape ({len(codes)},); got dtype {labels.dtype} "
            f"and shape {labels.shape}"
        )
    extent = _check_extent(extent)
    size = _check_at_most(check_positive_int(size, "size"), "size", MAX_RASTER_PX)
    dot = _check_at_most(check_positive_int(dot, "dot"), "dot", MAX_DOT_PX)
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    origin_row, origin_col = _to_pixels(np.zeros((1, 2)), extent, size)
    if 0 <= origin_row[0] < size:
        image[origin_row[0], :] = 200
    if 0 <= origin_col[0] < size:
        image[:, origin_col[0]] = 200
    row, col = _to_pixels(codes, extent, size)
    _stamp_dots(image, row, col, dot, TAB10[labels % 10])
    return image


def _check_raster(image) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"image must be a uint8 RGB array of shape (H, W, 3); got dtype {image.dtype} "
            f"and shape {image.shape}"
        )
    if image.shape[0] != image.shape[1]:
        raise ValueError(f"image must be square, as scatter_raster draws it; got {image.shape}")
    return image


def _check_colour(colour) -> np.ndarray:
    """``colour`` as 3 integers in [0, 255] (uint8), or a ValueError: floats are refused,
    not cast (0.9 would become 0, black)."""
    c = np.asarray(colour)
    if c.shape != (3,) or not np.issubdtype(c.dtype, np.integer) or c.min() < 0 or c.max() > 255:
        raise ValueError(f"colour must be 3 integers (r, g, b) from 0 to 255; got {colour!r}")
    return c.astype(np.uint8)


def draw_cross(image, point, *, extent, arm: int = 7, width: int = 3, colour=(0, 0, 0)):
    """A copy of a raster from :func:`scatter_raster` with a cross (+) at the 2-D ``point``.

    Parameters
    ----------
    image : ndarray, shape (size, size, 3), uint8
    point : (z1, z2)
        Where to draw the cross, in the coordinates of ``extent``; the part of the cross
        that falls outside the raster is not drawn.
    extent : (x0, x1, y0, y1)
        The same window as the raster's.
    arm : int
        Half the length of each bar, in pixels.
    width : int
        Thickness of the bars, in pixels.
    colour : (r, g, b), 0 to 255

    Returns
    -------
    ndarray, shape (size, size, 3), uint8
    """
    out = _check_raster(image).copy()
    colour = _check_colour(colour)
    point = check_array(point, "point", shape=(2,))
    extent = _check_extent(extent)
    size = out.shape[0]
    (row,), (col,) = _to_pixels(point[None, :], extent, size)
    half = check_positive_int(width, "width") // 2
    arm = check_positive_int(arm, "arm")
    rows = slice(max(row - half, 0), max(row + half + 1, 0))
    cols = slice(max(col - arm, 0), max(col + arm + 1, 0))
    out[rows, cols] = colour
    rows = slice(max(row - arm, 0), max(row + arm + 1, 0))
    cols = slice(max(col - half, 0), max(col + half + 1, 0))
    out[rows, cols] = colour
    return out


def draw_path(image, points, *, extent, dot: int = 2, colour=(0, 0, 0)) -> np.ndarray:
    """A copy of a raster from :func:`scatter_raster` with ``points`` drawn as small squares.

    Dense points along a line (e.g. from :func:`interpolate`) draw the line.

    Parameters
    ----------
    image : ndarray, shape (size, size, 3), uint8
    points : ndarray, shape (n, 2)
        In the coordinates of ``extent``; points outside it are not drawn.
    extent : (x0, x1, y0, y1)
        The same window as the raster's.
    dot : int
        Side of each point's square, in pixels.
    colour : (r, g, b), 0 to 255

    Returns
    -------
    ndarray, shape (size, size, 3), uint8
    """
    out = _check_raster(image).copy()
    colour = _check_colour(colour)
    points = check_array(points, "points", shape=(None, 2))
    extent = _check_extent(extent)
    dot = _check_at_most(check_positive_int(dot, "dot"), "dot", MAX_DOT_PX)
    size = out.shape[0]
    row, col = _to_pixels(points, extent, size)
    _stamp_dots(out, row, col, dot, np.broadcast_to(np.asarray(colour), (len(row), 3)))
    return out
