"""Two-dimensional views of codes with more than two coordinates: PCA and t-SNE.

PCA is a linear projection, written here with numpy's SVD; it keeps distances along the
directions in which the codes vary most, and nothing else. t-SNE (scikit-learn's, imported
only when used) is non-linear; it keeps who is near whom, not distances or densities
(van der Maaten and Hinton, 2008).
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_array, check_positive_float, check_positive_int, check_rng


def pca(x, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    r"""Project ``x`` onto its first principal components, by the SVD of the centred data.

    With :math:`X - \bar x = U S V^\top` (rows are examples), the scores are

    .. math:: Y = (X - \bar x)\, V_{:, :m} = U_{:, :m} S_{:m}

    and component :math:`j` explains the share :math:`s_j^2 / \sum_i s_i^2` of the variance
    (eq. ``latent-pca``). Each component's sign is fixed so that its largest loading (entry
    of :math:`V_{:, j}`) is positive, so the same data always give the same picture.

    Parameters
    ----------
    x : ndarray, shape (N, K)
        N examples of K coordinates, N >= 2.
    n_components : int
        m, at most min(N, K).

    Returns
    -------
    scores : ndarray, shape (N, m), float64
    explained : ndarray, shape (m,)
        The share of the total variance along each component (decreasing, summing to at
        most 1).
    """
    x = check_array(x, "x", ndim=2).astype(np.float64)
    n_components = check_positive_int(n_components, "n_components")
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 examples; got {len(x)}")
    if n_components > min(x.shape):
        raise ValueError(
            f"n_components must be at most min(N, K) = {min(x.shape)} for x of shape "
            f"{x.shape}; got {n_components}"
        )
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    v = vt[:n_components].T
    biggest = v[np.argmax(np.abs(v), axis=0), np.arange(n_components)]
    v = v * np.where(biggest < 0, -1.0, 1.0)
    total = float(np.sum(s**2))
    explained = s[:n_components] ** 2 / total if total > 0 else np.zeros(n_components)
    return centred @ v, explained


def tsne(
    x,
    rng: np.random.Generator,
    *,
    perplexity: float = 30.0,
    max_iter: int = 500,
) -> np.ndarray:
    """A 2-D t-SNE embedding of ``x`` (scikit-learn's ``TSNE``, started from PCA).

    t-SNE places the points in the plane so that each point's near neighbours stay near;
    the distances between clusters, and their sizes, mean little
    (van der Maaten and Hinton, 2008). Its cost grows like N log N with Barnes-Hut; a few
    hundred points take about a second.

    Parameters
    ----------
    x : ndarray, shape (N, K)
        N > perplexity examples.
    rng : numpy.random.Generator
        Draws the integer seed handed to scikit-learn (its ``random_state``).
    perplexity : float
        Roughly the number of neighbours each point attends to.
    max_iter : int
        Gradient steps (at least 250, scikit-learn's minimum).

    Returns
    -------
    ndarray, shape (N, 2), float64
    """
    from sklearn.manifold import TSNE  # lazily: the rest of vae_lib is numpy only

    x = check_array(x, "x", ndim=2).astype(np.float64)
    rng = check_rng(rng)
    perplexity = check_positive_float(perplexity, "perplexity")
    max_iter = check_positive_int(max_iter, "max_iter")
    if max_iter < 250:
        raise ValueError(f"max_iter must be at least 250 (scikit-learn's minimum); got {max_iter}")
    if len(x) <= perplexity:
        raise ValueError(
            f"x must hold more examples than the perplexity ({perplexity:g}); got {len(x)}"
        )
    seed = int(rng.integers(2**31 - 1))
    embedding = TSNE(
        n_components=2, perplexity=perplexity, max_iter=max_iter, init="pca", random_state=seed
    ).fit_transform(x)
    return np.asarray(embedding, dtype=np.float64)


def neighbour_accuracy(points, labels, k: int = 5) -> float:
    r"""Leave-one-out k-nearest-neighbour accuracy: how often a point's neighbours share its label.

    For each point, take the ``k`` other points nearest to it (Euclidean distance) and predict
    the label most of them carry (a tie goes to the smallest label); return the share of
    points predicted right. It measures what t-SNE tries to keep, who is near whom, so it
    can be compared between a code space and a 2-D view of it.

    Parameters
    ----------
    points : ndarray, shape (N, d)
        N > k points.
    labels : ndarray, shape (N,), int, at least 0
    k : int

    Returns
    -------
    float in [0, 1]
    """
    points = check_array(points, "points", ndim=2).astype(np.float64)
    k = check_positive_int(k, "k")
    labels = np.asarray(labels)
    if labels.shape != (len(points),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integers of shape ({len(points)},); got dtype {labels.dtype} "
            f"and shape {labels.shape}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be at least 0; got {labels.min()}")
    if len(points) <= k:
        raise ValueError(f"points must hold more than k={k} points; got {len(points)}")
    sq = np.sum(points**2, axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * points @ points.T
    np.fill_diagonal(d2, np.inf)
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    votes = labels[nearest]
    n_classes = int(labels.max()) + 1
    counts = np.stack([np.bincount(v, minlength=n_classes) for v in votes])
    return float(np.mean(np.argmax(counts, axis=1) == labels))


def nearest_centroid_accuracy(codes, labels) -> float:
    """Share of codes whose nearest class centroid (Euclidean) is their own class's.

    Parameters
    ----------
    codes : ndarray, shape (N, K)
    labels : ndarray, shape (N,), int
    """
    codes = check_array(codes, "codes", ndim=2)
    labels = np.asarray(labels)
    if labels.shape != (len(codes),):
        raise ValueError(f"labels must have shape ({len(codes)},); got {labels.shape}")
    classes = np.unique(labels)
    centroids = np.stack([codes[labels == c].mean(axis=0) for c in classes])
    d2 = ((codes[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=-1)
    return float(np.mean(classes[np.argmin(d2, axis=1)] == labels))
