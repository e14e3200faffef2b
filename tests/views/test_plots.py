"""The image grid of vae_lib.views.plots."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_lib.views.plots import show_images  # noqa: E402


def test_each_image_has_a_thin_frame_and_no_ticks_and_spare_axes_are_off():
    images = np.ones((3, 16))  # all white: without a frame they would vanish into the page
    fig = show_images(images, (4, 4), ncols=2, titles=["a", "b", "c"])
    axes = fig.axes
    assert len(axes) == 4
    for ax in axes[:3]:
        assert ax.axison and not ax.get_xticks().size and not ax.get_yticks().size
        assert all(s.get_visible() and s.get_linewidth() > 0 for s in ax.spines.values())
        assert ax.images[0].get_array().shape == (4, 4)
    assert [ax.get_title() for ax in axes[:3]] == ["a", "b", "c"]
    assert not axes[3].axison and not axes[3].images
    plt.close(fig)


def test_images_of_the_wrong_width_are_refused():
    with pytest.raises(ValueError, match=r"shape \(n, 16\)"):
        show_images(np.zeros((2, 15)), (4, 4))
