"""Figures the chapters share: images, latent scatters, training curves, Gaussian ellipses.

matplotlib is imported here only, so the numerical core of vae_lib runs without it. Every
function draws into ``ax``/``axes`` when given and returns the figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..training.fit import History


def _new_axes(ax, **subplot_kw):
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(**subplot_kw)


def show_images(
    images,
    image_shape: tuple[int, int],
    *,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    axes=None,
    size: float = 1.3,
    suptitle: str | None = None,
):
    """Show flattened images in a grid, grey levels from 0 (black) to 1 (white).

    Parameters
    ----------
    images : ndarray, shape (n, H*W)
    image_shape : (H, W)
    ncols : int, optional
        Columns of the grid (default: all in one row).
    titles : sequence of str, optional
    axes : array of Axes, optional
        Draw here instead of making a new figure (must hold at least n axes).
    size : float
        Inches per image, when a new figure is made.
    """
    images = np.asarray(images)
    n = len(images)
    if images.ndim != 2 or images.shape[1] != image_shape[0] * image_shape[1]:
        raise ValueError(
            f"images must have shape (n, {image_shape[0] * image_shape[1]}) for image_shape "
            f"{image_shape}; got {images.shape}"
        )
    if axes is None:
        ncols = ncols or n
        nrows = -(-n // ncols)
        fig, axes = plt.subplots(
            nrows,
            ncols,
            figsize=(size * ncols, size * nrows + (0.3 if titles else 0)),
            squeeze=False,
        )
    axes = np.asarray(axes).reshape(-1)
    fig = axes[0].figure
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_axis_off()
            continue
        ax.imshow(images[i].reshape(image_shape), cmap="gray", vmin=0, vmax=1)
        # a thin grey frame: white pixels at an image's edge would otherwise merge with the page
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("0.6")
            spine.set_linewidth(0.6)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_latent_scatter(codes, labels, names: Sequence[str] | None = None, *, ax=None, title=""):
    """Scatter 2-D codes coloured by class, with a legend naming the classes.

    Parameters
    ----------
    codes : ndarray, shape (N, 2)
    labels : ndarray, shape (N,), int
    names : sequence of str, optional
        ``names[c]`` is the legend entry of class ``c``.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes must have shape (N, 2); got {codes.shape}")
    fig, ax = _new_axes(ax, figsize=(5, 4.5))
    cmap = plt.get_cmap("tab10")
    for c in np.unique(labels):
        pts = codes[labels == c]
        label = names[c] if names is not None else str(c)
        ax.scatter(pts[:, 0], pts[:, 1], s=14, alpha=0.7, color=cmap(int(c) % 10), label=label)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, markerscale=1.5, loc="best")
    return fig


def plot_training_curves(history: History, *, axes=None, title: str | None = None):
    """Three panels against the epoch: the ELBO, the reconstruction term and the KL term."""
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    fig = axes[0].figure
    panels = (
        (history["elbo"], "ELBO (nats, higher is better)"),
        (history["recon"], "reconstruction  E[log p(x|z)]"),
        (history["kl"], "KL(q(z|x) ‖ p(z))"),
    )
    for ax, (values, label) in zip(axes, panels):
        ax.plot(history.epoch, values, lw=1.2)
        ax.set_xlabel("epoch")
        ax.set_title(label, fontsize=10)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title if title is not None else history.summary(), fontsize=9)
    fig.tight_layout()
    return fig


def gaussian_ellipse(ax, mu, std, n_sigma: float = 2.0, **style):
    """Draw the axis-aligned ellipse μ ± n_sigma·σ of a diagonal 2-D Gaussian."""
    theta = np.linspace(0.0, 2.0 * np.pi, 200)
    style = {"color": "red", "ls": "--", "lw": 2, **style}
    return ax.plot(
        mu[0] + n_sigma * std[0] * np.cos(theta), mu[1] + n_sigma * std[1] * np.sin(theta), **style
    )


class CodeExplorer:
    """One figure for every frame of a "decode any code" widget: a 2-D latent map and an image.

    The codes are scattered once; each frame only moves the cross and swaps the decoded
    image (as matplotlib's animations do), which keeps a hundred precomputed frames quick.

    Parameters
    ----------
    codes : ndarray, shape (N, 2)
    labels : ndarray, shape (N,), int
        Colour of each code (tab10).
    image_shape : tuple of int
        (height, width) of a decoded image.
    lim : float
        The map spans [-lim, lim] on both axes.
    """

    def __init__(self, codes, labels, image_shape, *, lim: float = 3.3):
        self.image_shape = tuple(image_shape)
        self.figure = plt.figure(figsize=(6.4, 3.0))
        plt.close(self.figure)  # shown only through a widget, not as a figure of its own
        ax_latent = self.figure.add_axes((0.09, 0.15, 0.45, 0.78))
        self.ax_image = self.figure.add_axes((0.60, 0.08, 0.36, 0.78))
        codes = np.asarray(codes)
        ax_latent.scatter(*codes.T, c=plt.get_cmap("tab10")(np.asarray(labels)), s=12, alpha=0.7)
        (self.cross,) = ax_latent.plot([0], [0], "kx", ms=12, mew=3)
        ax_latent.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="$z_1$", ylabel="$z_2$")
        ax_latent.grid(True, alpha=0.3)
        self.picture = self.ax_image.imshow(np.zeros(self.image_shape), cmap="gray", vmin=0, vmax=1)
        self.ax_image.set_axis_off()

    def show(self, z, image):
        """The figure with the cross at ``z`` = (z1, z2) and ``image`` (flat or 2-D) beside it."""
        z1, z2 = z
        self.cross.set_data([z1], [z2])
        self.picture.set_data(np.asarray(image).reshape(self.image_shape))
        self.ax_image.set_title(f"decoded z = ({z1:.1f}, {z2:.1f})", fontsize=10)
        return self.figure
