"""PCA by SVD, the t-SNE wrapper, and leave-one-out neighbour accuracy."""

import numpy as np
import pytest

from vae_lib.evaluation.projections import neighbour_accuracy, pca, tsne


def test_pca_finds_the_directions_of_largest_variance():
    rng = np.random.default_rng(0)
    # variances 9, 4, 0.01 along three orthogonal directions, rotated
    raw = rng.standard_normal((2000, 3)) * np.array([3.0, 2.0, 0.1])
    rotation, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    x = raw @ rotation.T + np.array([5.0, -1.0, 2.0])
    scores, explained = pca(x)
    assert scores.shape == (2000, 2)
    np.testing.assert_allclose(scores.mean(axis=0), 0, atol=1e-10)
    # the scores are uncorrelated and carry the two largest variances
    cov = np.cov(scores.T)
    assert abs(cov[0, 1]) < 1e-8 * cov[0, 0]
    np.testing.assert_allclose(np.diag(cov), np.var(raw, axis=0, ddof=1)[:2], rtol=0.02)
    total = np.sum(np.var(x, axis=0))
    np.testing.assert_allclose(explained, np.var(scores, axis=0) / total, rtol=1e-10)
    assert explained[0] > explained[1] and explained.sum() > 0.99


def test_pca_agrees_with_the_eigenvectors_of_the_covariance_and_has_a_fixed_sign():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5))
    scores, _ = pca(x, n_components=3)
    values, vectors = np.linalg.eigh(np.cov(x.T))
    top = vectors[:, ::-1][:, :3]
    centred = x - x.mean(axis=0)
    for j in range(3):
        np.testing.assert_allclose(np.abs(scores[:, j]), np.abs(centred @ top[:, j]), atol=1e-8)
    # the same data, shuffled, gives the same projection of each point
    order = rng.permutation(len(x))
    np.testing.assert_allclose(pca(x[order], n_components=3)[0], scores[order], atol=1e-8)


def test_pca_rejects_bad_input():
    with pytest.raises(ValueError, match="at most min"):
        pca(np.zeros((10, 2)), n_components=3)
    with pytest.raises(ValueError, match="at least 2 examples"):
        pca(np.zeros((1, 3)), n_components=1)
    with pytest.raises(ValueError, match="2-D array"):
        pca(np.zeros(5))


def test_tsne_keeps_separate_clusters_apart_and_depends_only_on_the_rng():
    rng = np.random.default_rng(2)
    centres = rng.standard_normal((3, 10)) * 20
    labels = np.repeat(np.arange(3), 40)
    x = centres[labels] + rng.standard_normal((120, 10))
    embedded = tsne(x, np.random.default_rng(3), perplexity=10, max_iter=400)
    assert embedded.shape == (120, 2) and np.all(np.isfinite(embedded))
    assert neighbour_accuracy(embedded, labels, k=5) == 1.0
    again = tsne(x, np.random.default_rng(3), perplexity=10, max_iter=400)
    np.testing.assert_allclose(again, embedded)


def test_tsne_rejects_bad_input():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        tsne(np.zeros((50, 3)), 0)
    with pytest.raises(ValueError, match="more examples than the perplexity"):
        tsne(np.zeros((20, 3)), np.random.default_rng(0), perplexity=30)
    with pytest.raises(ValueError, match="at least 250"):
        tsne(np.zeros((50, 3)), np.random.default_rng(0), max_iter=100)


def test_neighbour_accuracy_counts_neighbours_that_share_the_label():
    # two tight pairs far apart, labelled consistently: every neighbour agrees
    points = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 0.0], [10.1, 0.0]])
    assert neighbour_accuracy(points, np.array([0, 0, 1, 1]), k=1) == 1.0
    # swap two labels across the pairs: each point's nearest neighbour now disagrees
    assert neighbour_accuracy(points, np.array([0, 1, 0, 1]), k=1) == 0.0
    # a point is never its own neighbour
    assert neighbour_accuracy(np.array([[0.0], [5.0], [5.1]]), np.array([2, 0, 0]), k=1) == 2 / 3
    with pytest.raises(ValueError, match="more than k"):
        neighbour_accuracy(points, np.array([0, 0, 1, 1]), k=4)
    with pytest.raises(ValueError, match="labels must be integers"):
        neighbour_accuracy(points, np.zeros(4), k=1)


def test_neighbour_accuracy_of_random_labels_is_about_one_in_ten():
    # the chance level the chapter quotes ("with random codes, about 10% would")
    rng = np.random.default_rng(5)
    points = rng.standard_normal((1000, 2))
    labels = np.repeat(np.arange(10), 100)
    accuracies = [neighbour_accuracy(points, rng.permutation(labels)) for _ in range(5)]
    assert 0.06 < np.mean(accuracies) < 0.16
