"""What a chapter shows: plots, image rasters of the latent space, numbers stated with their
context, and widgets that work on the static page (precomputed frames linked in the browser).

The only part of vae_lib that imports matplotlib and ipywidgets; ``import vae_lib`` does not
import it.
"""

from .frames import img_tag, panels
from .latent_views import (
    draw_cross,
    draw_path,
    interpolate,
    normal_quantile_grid,
    normal_quantiles,
    scatter_raster,
    tile_images,
)
from .plots import CodeExplorer
from .tables import as_power_of_ten, format_nats, html_table, mean_se
from .widgets import Dropdown, Slider, Toggle, interactive_output

__all__ = [
    "CodeExplorer",
    "Dropdown",
    "Slider",
    "Toggle",
    "as_power_of_ten",
    "draw_cross",
    "draw_path",
    "format_nats",
    "html_table",
    "img_tag",
    "interactive_output",
    "interpolate",
    "mean_se",
    "normal_quantile_grid",
    "normal_quantiles",
    "panels",
    "scatter_raster",
    "tile_images",
]
