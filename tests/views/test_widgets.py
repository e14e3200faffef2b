"""vae_lib.widgets and the frames it makes (vae_lib.frames): the structure the static page
relies on, the frames, and bad input."""

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import vae_lib
from vae_lib.views import frames, widgets
from vae_lib.views.widgets import Dropdown, Slider, Toggle, interactive_output


def links_of(box):
    return [(link.source, link.target) for link in box._vae_links]


def png_of(frame_html):
    data = re.search(r'src="data:image/png;base64,([^"]+)"', frame_html).group(1)
    return Image.open(io.BytesIO(base64.b64decode(data)))


def alt_of(frame_html):
    return re.search(r'alt="([^"]*)"', frame_html).group(1)


# --- controls -----------------------------------------------------------------------------


def test_slider_values_labels_and_initial():
    s = Slider(np.linspace(-1, 1, 5), "z", initial=0)
    assert s.values == (-1.0, -0.5, 0.0, 0.5, 1.0)
    assert all(type(v) is float for v in s.values)
    assert s.labels == ("-1", "-0.5", "0", "0.5", "1")
    assert s.index == 2
    assert Slider([1, 2, 4], "epochs").values == (1, 2, 4)
    assert all(type(v) is int for v in Slider(np.arange(3), "k").values)
    assert Slider([1, 2, 4], "n").index == 0
    assert Slider([0.1, 0.2], "b", fmt="{:.2f}").labels == ("0.10", "0.20")
    # an initial value equal up to rounding still matches (linspace rarely gives exact 0)
    assert Slider(np.linspace(-3, 3, 13), "z", initial=1e-15).index == 6


def test_dropdown_and_toggle_options():
    d = Dropdown(["relu", "tanh"], "activation", initial="tanh")
    assert d.labels == ("relu", "tanh") and d.values == ("relu", "tanh") and d.index == 1
    t = Toggle({"off": False, "on": True}, "show samples", initial=True)
    assert t.labels == ("off", "on") and t.values == (False, True) and t.index == 1
    # a dict's option may also be chosen by its shown label
    assert Toggle({"small": 2, "large": 8}, "size", initial="large").index == 1
    assert Dropdown([1, 2.5], "x").labels == ("1", "2.5")


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Slider("abc", "z"), TypeError, "values must be a sequence"),
        (lambda: Slider(5, "z"), TypeError, "values must be a sequence"),
        (lambda: Slider([[1, 2], [3, 4]], "z"), TypeError, "1-D"),
        (lambda: Slider(["a", "b"], "z"), TypeError, "real numbers"),
        (lambda: Slider([1, np.nan], "z"), ValueError, "finite"),
        (lambda: Slider([2, 1], "z"), ValueError, "strictly increasing"),
        (lambda: Slider([1], "z"), ValueError, "at least 2 values"),
        (lambda: Slider([1, 2], ""), TypeError, "label must be a non-empty string"),
        (lambda: Slider([1, 2], None), TypeError, "label"),
        (lambda: Slider([1, 2], "z", fmt=3), TypeError, "fmt"),
        (lambda: Slider([1.5, 2], "z", fmt="{:d}"), ValueError, "fmt"),
        (lambda: Slider([0.1001, 0.1002], "z"), ValueError, "distinct labels"),
        (lambda: Slider([1, 2], "z", initial=3), ValueError, "initial must be one of"),
        (lambda: Slider([1, 2], "z", initial="1"), TypeError, "initial must be a number"),
        (lambda: Dropdown("ab", "x"), TypeError, "options must be"),
        (lambda: Dropdown(3, "x"), TypeError, "options must be"),
        (lambda: Dropdown(["a", "a"], "x"), ValueError, "distinct labels"),
        (lambda: Dropdown(["a"], "x"), ValueError, "at least 2"),
        (lambda: Toggle(["a", "b"], "x", initial="c"), ValueError, "initial must be one of"),
    ],
)
def test_bad_controls_raise_naming_the_argument(make, error, words):
    with pytest.raises(error, match=words):
        make()


# --- interactive_output: structure -----------------------------------------------------------


def test_one_control_is_a_stack_linked_to_the_slider():
    calls = []

    def render(beta):
        calls.append(beta)
        return f"<p>beta = {beta}</p>"

    box = interactive_output(render, {"beta": Slider([0.5, 1, 2], "β", initial=1)}, alt="text")
    assert isinstance(box, ipywidgets.VBox)
    slider, stack = box.children
    assert isinstance(slider, ipywidgets.SelectionSlider)
    assert slider.description == "β" and slider.index == 1
    assert isinstance(stack, ipywidgets.Stack)
    assert stack.selected_index == 1
    assert calls == [0.5, 1.0, 2.0]
    assert ["beta = 0.5" in stack.children[0].value, "beta = 2.0" in stack.children[2].value] == [
        True,
        True,
    ]
    assert links_of(box) == [((slider, "index"), (stack, "selected_index"))]
    assert all(isinstance(link, ipywidgets.widgets.widget_link.Link) for link in box._vae_links)
    assert "vae-interactive" in box._dom_classes
    # the widget displays itself when it is the last expression of a cell
    assert "application/vnd.jupyter.widget-view+json" in box._repr_mimebundle_()


def test_dropdown_and_toggle_make_their_ipywidgets():
    box = interactive_output(lambda a: f"{a}", {"a": Dropdown({"A": 1, "B": 2}, "pick")}, alt="a")
    assert isinstance(box.children[0], ipywidgets.Dropdown)
    assert box.children[0]._options_labels == ("A", "B")
    box = interactive_output(lambda a: f"{a}", {"a": Toggle(["x", "y"], "pick")}, alt="a")
    assert isinstance(box.children[0], ipywidgets.ToggleButtons)
    assert links_of(box)[0][1][1] == "selected_index"


def test_two_controls_are_nested_stacks_the_shorter_control_outside():
    box = interactive_output(
        lambda a, b: f"<p>{a}/{b}</p>",
        {"a": Slider([1, 2, 3], "a", initial=3), "b": Toggle(["x", "y"], "b", initial="y")},
        alt=lambda a, b: f"{a} and {b}",
    )
    slider, toggle, outer = box.children  # the controls keep their order on the page
    assert outer.selected_index == 1  # b has fewer values: it chooses among the inner stacks
    assert len(outer.children) == 2
    for b, inner in zip("xy", outer.children):
        assert isinstance(inner, ipywidgets.Stack)
        assert inner.selected_index == 2
        shown = [f.value for f in inner.children]
        assert all(f"<p>{a}/{b}</p>" in frame for a, frame in zip([1, 2, 3], shown))
    links = links_of(box)
    assert links[0] == ((toggle, "index"), (outer, "selected_index"))
    assert links[1:] == [((slider, "index"), (inner, "selected_index")) for inner in outer.children]


def test_two_controls_of_one_length_nest_the_first_outside():
    box = interactive_output(
        lambda a, b: f"<p>{a}/{b}</p>",
        {"a": Slider([1, 2], "a", initial=2), "b": Toggle(["x", "y"], "b")},
        alt="a and b",
    )
    slider, toggle, outer = box.children
    assert outer.selected_index == 1
    assert [inner.selected_index for inner in outer.children] == [0, 0]
    assert "<p>2/x</p>" in outer.children[1].children[0].value
    links = links_of(box)
    assert links[0] == ((slider, "index"), (outer, "selected_index"))
    assert links[1:] == [((toggle, "index"), (inner, "selected_index")) for inner in outer.children]


def test_html_frames_carry_the_alt_text_as_an_accessible_name():
    box = interactive_output(
        lambda n: "<table><tr><td>1</td></tr></table>",
        {"n": Slider([1, 2], "n")},
        alt=lambda n: f'table for n = {n} & "more"',
    )
    frame = box.children[1].children[1].value
    assert frame.startswith('<div class="vae-frame" role="figure" aria-label="table for n = 2')
    assert "&amp; &quot;more&quot;" in frame


# --- frames -------------------------------------------------------------------------------


def test_figure_frames_are_small_pngs_of_one_size_and_are_closed():
    plt.close("all")

    def render(w):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, w])
        ax.set_title(f"w = {w}")
        return fig

    box = interactive_output(render, {"w": Slider([1, 2, 3], "w")}, alt=lambda w: f"line of {w}")
    shown = [f.value for f in box.children[1].children]
    sizes = {png_of(f).size for f in shown}
    width, height = (round(s * frames.FIGURE_DPI) for s in frames.FIGURE_SIZE)
    assert sizes == {(width, height)}
    assert [alt_of(f) for f in shown] == ["line of 1", "line of 2", "line of 3"]
    assert f'width="{width}" height="{height}"' in shown[0]
    assert all(len(f) < 40_000 for f in shown)
    assert plt.get_fignums() == []  # every frame's figure was closed


def test_wide_figures_are_capped_in_width():
    def render(k):
        return plt.figure(figsize=(20, 2))

    frame = interactive_output(render, {"k": Slider([1, 2], "k")}, alt="x").children[1].children[0]
    assert png_of(frame.value).size[0] <= frames.MAX_FIGURE_PX


def test_array_frames_are_upscaled_nearest_neighbour():
    image = np.array([[0.0, 1.0], [0.5, 0.25]])
    box = interactive_output(lambda k: image * k, {"k": Slider([0, 1], "k")}, alt="img")
    png = png_of(box.children[1].children[1].value)
    scale = frames.IMAGE_PX // 2
    assert png.size == (2 * scale, 2 * scale)
    pixels = np.asarray(png.convert("L"))
    expected = np.rint(image * 255).astype(np.uint8)
    np.testing.assert_array_equal(pixels[::scale, ::scale], expected)
    np.testing.assert_array_equal(pixels[scale - 1, scale - 1], expected[0, 0])  # a flat block


def test_array_frames_accept_bool_uint8_and_rgb():
    for image in (
        np.eye(4, dtype=bool),
        np.full((4, 4), 200, dtype=np.uint8),
        np.zeros((4, 4, 3)),
        np.ones((3, 5, 4)),
    ):
        png, width, height = frames.image_png(image)
        assert png.startswith(b"\x89PNG") and width > 4 and height > 3


@pytest.mark.parametrize(
    ("image", "error", "words"),
    [
        (np.zeros(16), ValueError, r"reshape a flat image"),
        (np.zeros((4, 4, 2)), ValueError, r"shape \(H, W\)"),
        (np.full((4, 4), 1.5), ValueError, r"\[0, 1\].*nothing is clipped"),
        (np.full((4, 4), np.nan), ValueError, "finite"),
        (np.full((4, 4), 300), ValueError, r"\[0, 255\]"),
        (np.full((4, 4), "a"), TypeError, "numbers"),
    ],
)
def test_bad_images_raise(image, error, words):
    with pytest.raises(error, match=words):
        interactive_output(lambda k: image, {"k": Slider([1, 2], "k")}, alt="x")


# --- guards and bad arguments --------------------------------------------------------------


def test_too_many_frames_raise_before_rendering_anything():
    calls = []
    controls = {"a": Slider(np.arange(21), "a"), "b": Slider(np.arange(20), "b")}
    with pytest.raises(ValueError, match=r"420 precomputed frames.*limit of 400"):
        interactive_output(lambda a, b: calls.append(1) or "", controls, alt="x")
    assert calls == []


def test_too_many_bytes_raise():
    big = "x" * (widgets.MAX_WIDGET_BYTES // 2)
    with pytest.raises(
        ValueError, match=r"the first 2 of 3 frames already take 3\.0 MB.*limit of 3\.0 MB"
    ):
        interactive_output(lambda k: big, {"k": Slider([1, 2, 3], "k")}, alt="x")


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"render": 3}, TypeError, "render must be callable"),
        ({"controls": [Slider([1, 2], "k")]}, TypeError, "controls must be a dict"),
        ({"controls": {}}, ValueError, "1 or 2 entries; got 0"),
        (
            {"controls": {c: Slider([1, 2], c) for c in "abc"}},
            ValueError,
            "1 or 2 entries; got 3",
        ),
        ({"controls": {"not a name": Slider([1, 2], "k")}}, ValueError, "identifiers"),
        ({"controls": {"k": [1, 2]}}, TypeError, r"controls\['k'\] must be a Slider"),
        ({"alt": None}, TypeError, "alt must be a string or a callable"),
        ({"alt": " "}, ValueError, "alt must be a non-empty string"),
        ({"alt": lambda k: 5}, TypeError, "alt must give a non-empty string"),
        ({"render": lambda k: 42}, TypeError, "render must return .* returned int"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(kwargs, error, words):
    args = {"render": lambda k: "<p></p>", "controls": {"k": Slider([1, 2], "k")}, "alt": "x"}
    args.update(kwargs)
    render = args.pop("render")
    controls = args.pop("controls")
    with pytest.raises(error, match=words):
        interactive_output(render, controls, **args)


def test_errors_in_render_propagate_with_the_values():
    def render(k):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError) as info:
        interactive_output(render, {"k": Slider([1, 2], "k")}, alt="x")
    notes = getattr(info.value, "__notes__", ["render(**{'k': 1})"])
    assert "render(**{'k': 1})" in " ".join(notes)


# --- in a kernel ---------------------------------------------------------------------------


def test_moving_a_control_in_a_kernel_shows_a_frame_made_ahead_without_rendering_again():
    calls = []
    box = interactive_output(
        lambda k: calls.append(k) or f"<p>{k}</p>", {"k": Slider([1, 2, 3], "k")}, alt="x"
    )
    slider, stack = box.children
    before = [frame.value for frame in stack.children]
    slider.set_state({"index": 2})  # what the front end sends when the reader moves it
    slider.index = 1
    assert calls == [1, 2, 3]
    assert [frame.value for frame in stack.children] == before


def test_widgets_are_exported_from_views_not_from_the_root():
    assert vae_lib.views.interactive_output is interactive_output
    assert vae_lib.views.Slider is Slider and vae_lib.views.Dropdown is Dropdown
    assert not hasattr(vae_lib, "Slider") and "interactive_output" not in vae_lib.__all__


def test_import_vae_lib_imports_numpy_and_nothing_that_draws():
    import subprocess
    import sys

    code = (
        "import sys, vae_lib; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'matplotlib', 'ipywidgets', 'IPython', 'PIL', 'sklearn', 'scipy'}), "
        "'vae_lib.views' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "False"]


def test_img_tag_and_panels():
    from vae_lib.views import img_tag, panels

    tag = img_tag(np.linspace(0, 1, 28 * 28).reshape(28, 28), 'a "digit"', 84)
    assert tag.startswith('<img src="data:image/png;base64,') and 'width="84" height="84"' in tag
    assert 'alt="a &quot;digit&quot;"' in tag and "pixelated" in tag
    html = panels((tag, "left"), (tag, "right"))
    assert html.count("<figure") == 2 and "<figcaption" in html and "right" in html
    with pytest.raises(ValueError, match="a float image must lie in"):
        img_tag(np.full((2, 2), 2.0), "x", 10)


def test_code_explorer_reuses_one_figure():
    from vae_lib.views import CodeExplorer

    codes = np.random.default_rng(0).standard_normal((20, 2))
    explorer = CodeExplorer(codes, np.arange(20) % 4, image_shape=(4, 4))
    first = explorer.show((0.5, -1.0), np.full(16, 0.25))
    second = explorer.show((1.0, 2.0), np.zeros((4, 4)))
    assert first is second
    assert list(explorer.cross.get_xdata()) == [1.0]
    assert explorer.ax_image.get_title() == "decoded z = (1.0, 2.0)"
