"""Quantile grids, mosaics, straight paths and raster scatters of vae_lib.latent_views."""

from statistics import NormalDist

import numpy as np
import pytest

from vae_lib.views import latent_views as lv


def test_normal_quantiles_cover_equal_prior_mass():
    q = lv.normal_quantiles(20)
    assert q.shape == (20,) and np.all(np.diff(q) > 0)
    np.testing.assert_allclose(q, -q[::-1], atol=1e-12)  # symmetric about 0
    cdf = np.array([NormalDist().cdf(v) for v in q])
    np.testing.assert_allclose(cdf, (np.arange(20) + 0.5) / 20, atol=1e-12)
    # the quantiles of 20 slices reach the central 95%: Φ^{-1}(0.975) = 1.96
    assert q[-1] == pytest.approx(1.959964, abs=1e-6)
    assert lv.normal_quantiles(1)[0] == pytest.approx(0.0, abs=1e-12)


def test_quantile_grid_is_laid_out_like_a_plot():
    q, codes = lv.normal_quantile_grid(4)
    assert codes.shape == (16, 2)
    # first row: z2 at its largest, z1 increasing to the right
    np.testing.assert_allclose(codes[:4, 0], q)
    np.testing.assert_allclose(codes[:4, 1], q[-1])
    # last row: z2 at its smallest
    np.testing.assert_allclose(codes[-4:, 1], q[0])
    # down the first column z2 falls
    np.testing.assert_allclose(codes[::4, 1], q[::-1])


def test_tile_images_places_each_image_in_its_cell():
    images = np.arange(6 * 6, dtype=float).reshape(6, 6) / 36  # six 2x3 images
    mosaic = lv.tile_images(images, (2, 3), ncols=3, pad=1, pad_value=-1.0)
    assert mosaic.shape == (2 * 2 + 1, 3 * 3 + 2)
    for i, image in enumerate(images):
        r, c = divmod(i, 3)
        cell = mosaic[r * 3 : r * 3 + 2, c * 4 : c * 4 + 3]
        np.testing.assert_array_equal(cell, image.reshape(2, 3))
    assert np.all(mosaic[2, :] == -1.0) and np.all(mosaic[:, 3] == -1.0)
    no_pad = lv.tile_images(images, (2, 3), ncols=2)
    assert no_pad.shape == (6, 6)


def test_tile_images_rejects_bad_input():
    with pytest.raises(ValueError, match="multiple of ncols"):
        lv.tile_images(np.zeros((5, 4)), (2, 2), ncols=2)
    with pytest.raises(ValueError, match="images must have shape"):
        lv.tile_images(np.zeros((4, 5)), (2, 2), ncols=2)
    with pytest.raises(ValueError, match="pad"):
        lv.tile_images(np.zeros((4, 4)), (2, 2), ncols=2, pad=-1)


def test_interpolate_runs_from_start_to_end_in_a_straight_line():
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 2.0, -0.5])
    alphas = np.linspace(0, 1, 5)
    path = lv.interpolate(a, b, alphas)
    assert path.shape == (5, 3)
    np.testing.assert_allclose(path[0], a)
    np.testing.assert_allclose(path[-1], b)
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile((b - a) / 4, (4, 1)))
    assert lv.interpolate(a.astype(np.float32), b, [0.5]).dtype == np.float32
    with pytest.raises(ValueError, match="z_start and z_end must be codes of one non-zero length"):
        lv.interpolate(a, b[:2], alphas)


EXTENT = (-2.0, 2.0, -2.0, 2.0)


def test_scatter_raster_puts_codes_where_they_belong_in_their_colour():
    codes = np.array([[-2.0, 2.0], [2.0, -2.0], [0.0, 0.0], [9.0, 9.0]])
    labels = np.array([0, 1, 3, 2])
    image = lv.scatter_raster(codes, labels, extent=EXTENT, size=41, dot=1)
    assert image.shape == (41, 41, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 0], lv.TAB10[0])  # top left: (-2, 2)
    np.testing.assert_array_equal(image[40, 40], lv.TAB10[1])  # bottom right: (2, -2)
    np.testing.assert_array_equal(image[20, 20], lv.TAB10[3])  # the origin
    # the point outside the extent is left out; everything else is white or the grey axes
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert tuple(lv.TAB10[2]) not in colours
    assert colours <= {(255, 255, 255), (200, 200, 200)} | {tuple(lv.TAB10[i]) for i in (0, 1, 3)}


def test_draw_cross_and_path_copy_and_mark_the_raster():
    image = lv.scatter_raster(np.zeros((0, 2)), np.zeros(0, dtype=int), extent=EXTENT, size=41)
    crossed = lv.draw_cross(image, (1.0, 1.0), extent=EXTENT, arm=3, width=1)
    assert not np.shares_memory(crossed, image) and np.all(image[10, 30] == 255)
    np.testing.assert_array_equal(crossed[10, 30], (0, 0, 0))  # (1, 1) -> row 10, col 30
    np.testing.assert_array_equal(crossed[10, 27], (0, 0, 0))
    np.testing.assert_array_equal(crossed[7, 30], (0, 0, 0))
    np.testing.assert_array_equal(crossed[7, 27], (255, 255, 255))  # not a corner of a box
    # a cross off the raster draws nothing and does not fail
    np.testing.assert_array_equal(lv.draw_cross(image, (9.0, 9.0), extent=EXTENT), image)
    line = lv.interpolate(np.array([-2.0, 0.0]), np.array([2.0, 0.0]), np.linspace(0, 1, 81))
    path = lv.draw_path(image, line, extent=EXTENT, dot=1, colour=(255, 0, 0))
    assert np.all(path[20, :] == (255, 0, 0))  # the horizontal line through the origin
    assert np.sum(np.any(path != image, axis=2)) == 41


def test_raster_functions_reject_bad_input():
    with pytest.raises(ValueError, match="labels must be integers"):
        lv.scatter_raster(np.zeros((3, 2)), np.zeros(3), extent=EXTENT)
    with pytest.raises(ValueError, match="extent"):
        lv.scatter_raster(np.zeros((3, 2)), np.zeros(3, dtype=int), extent=(1, 0, 0, 1))
    with pytest.raises(ValueError, match="uint8 RGB"):
        lv.draw_cross(np.zeros((5, 5, 3)), (0, 0), extent=EXTENT)
    with pytest.raises(ValueError, match="square"):
        lv.draw_path(np.zeros((5, 6, 3), np.uint8), np.zeros((1, 2)), extent=EXTENT)
    with pytest.raises(ValueError, match="n must be at least 1"):
        lv.normal_quantiles(0)
