"""What a chapter shows: plots, image rasters of the latent space, and widgets that work
on the static page (precomputed frames linked in the browser)."""

from .frames import img_tag, panels
from .plots import CodeExplorer
from .widgets import Dropdown, Slider, Toggle, interactive_output

__all__ = [
    "CodeExplorer",
    "Dropdown",
    "Slider",
    "Toggle",
    "img_tag",
    "interactive_output",
    "panels",
]
