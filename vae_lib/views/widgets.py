"""Controls that work on the static page as well as in a kernel.

A static page has no Python behind it, so a slider cannot call a function there. But the
page's widget manager does run *front-end links*. So :func:`interactive_output` calls
``render`` ahead of time for every value of every control, keeps the outputs as the
children of an ``ipywidgets.Stack``, and ``jslink``\\ s each control's ``index`` to the
stack's ``selected_index``: moving the control shows another precomputed frame, in the
browser alone. Two controls give nested stacks: the outer one follows the control with
fewer values, each inner one the other. A kernel works the same way: the frames are already
made, so a control shows its new frame at once instead of waiting for ``render`` to run
again. (To see the widget follow new code or a retrained model, run its cell again.)

Frames are made by :mod:`vae_lib.frames` (figures as small palette PNGs of one size);
a widget may hold at most :data:`MAX_FRAMES` frames and :data:`MAX_WIDGET_BYTES` bytes.

>>> from vae_lib.widgets import Slider, interactive_output
>>> w = interactive_output(lambda s: f"<b>{s}</b>", {"s": Slider([1, 2, 3], "s")}, alt="s")
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import numpy as np

from ..core.validation import describe_value
from .frames import frame_html

#: Most frames one widget may precompute (the product of its controls' lengths).
MAX_FRAMES = 400
#: Most bytes all frames of one widget may take in the page (base64 PNGs and HTML).
MAX_WIDGET_BYTES = 3_000_000


def _same(a, b) -> bool:
    """``a == b`` that never raises and treats arrays as equal only when all entries are."""
    if a is b:
        return True
    try:
        return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
    except Exception:  # noqa: BLE001 - uncomparable values are simply different
        return False


class _Choice:
    """A control over a finite list of values; each value is one precomputed frame."""

    def __init__(self, labels, values, label, initial):
        if not isinstance(label, str) or not label.strip():
            raise TypeError(f"label must be a non-empty string; got {describe_value(label)}")
        if len(values) < 2:
            raise ValueError(
                f"a {type(self).__name__} needs at least 2 values to choose from; got {len(values)}"
            )
        if len(values) > MAX_FRAMES:  # refused before any work on the values
            raise ValueError(
                f"a {type(self).__name__} may have at most {MAX_FRAMES} values (one "
                f"precomputed frame each); got {len(values)}"
            )
        first_with_label = {}
        for i, shown in enumerate(labels):
            j = first_with_label.setdefault(shown, i)
            if j != i:
                raise ValueError(
                    f"the values of a {type(self).__name__} must be shown with distinct "
                    f"labels; values {describe_value(values[j])} and {describe_value(values[i])} "
                    f"are both shown as {shown!r}"
                )
        self.label = label
        self.labels = tuple(labels)
        self.values = tuple(values)
        self.index = 0 if initial is None else self._find(initial)

    def _find(self, initial) -> int:
        for i, value in enumerate(self.values):
            if _same(value, initial):
                return i
        raise ValueError(
            f"initial must be one of the values of the {type(self).__name__} "
            f"{self.label!r} ({', '.join(self.labels)}); got {describe_value(initial)}"
        )

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.labels)}, {self.label!r})"

    def _options(self):
        return list(zip(self.labels, range(len(self.values))))

    def _widget(self):  # pragma: no cover - overridden
        raise NotImplementedError


class Slider(_Choice):
    """A slider over a finite, increasing list of numbers, shown with ``fmt``.

    ``render`` receives the number itself (an ``int`` if ``values`` are integers, else a
    ``float``). ``initial`` (default: the first value) must be one of ``values``. Labels
    are plain text, not TeX: write "β" or "z₁".
    """

    def __init__(self, values, label, *, initial=None, fmt="{:.3g}"):
        if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__len__"):
            raise TypeError(
                f"values must be a sequence of numbers (a list or a 1-D array); "
                f"got {type(values).__name__}"
            )
        arr = np.asarray(values)
        if arr.ndim != 1 or not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
        ):
            raise TypeError(
                f"values must be a 1-D sequence of real numbers; got shape {arr.shape} "
                f"and dtype {arr.dtype}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"values must be finite; got {describe_value(list(values))}")
        if np.any(np.diff(arr) <= 0):
            raise ValueError(
                f"values must be strictly increasing; got {describe_value(list(values))}"
            )
        if not isinstance(fmt, str):
            raise TypeError(
                f"fmt must be a format string such as '{{:.3g}}'; got {describe_value(fmt)}"
            )
        cast = int if np.issubdtype(arr.dtype, np.integer) else float
        numbers = [cast(v) for v in arr]
        try:
            labels = [fmt.format(v) for v in numbers]
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(
                f"fmt {fmt!r} cannot format the number {numbers[0]!r}: {exc}"
            ) from None
        if initial is not None and not isinstance(initial, (int, float, np.integer, np.floating)):
            raise TypeError(f"initial must be a number; got {describe_value(initial)}")
        super().__init__(labels, numbers, label, initial)

    def _find(self, initial) -> int:
        close = np.isclose(self.values, initial, rtol=1e-9, atol=1e-12)
        if not close.any():
            return super()._find(initial)
        return int(np.argmax(close))

    def _widget(self):
        import ipywidgets

        return ipywidgets.SelectionSlider(
            options=self._options(),
            index=self.index,
            description=self.label,
            continuous_update=True,
            style={"description_width": "initial"},
            layout=ipywidgets.Layout(width="min(100%, 32em)"),
        )


class Dropdown(_Choice):
    """A drop-down list. ``options``: a sequence of values, or a dict {shown label: value}.

    ``render`` receives the value; ``initial`` (default: the first) is a value or, for a
    dict, a shown label.
    """

    _widget_name = "Dropdown"

    def __init__(self, options, label, *, initial=None):
        self._initial_label = None
        if isinstance(options, Mapping):
            labels = [str(k) for k in options]
            values = list(options.values())
            if isinstance(initial, str) and initial in labels:
                self._initial_label = initial  # a shown label names one option, even if
                # another option has the same value
        elif isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
            raise TypeError(
                f"options must be a sequence of values or a dict {{shown label: value}}; "
                f"got {type(options).__name__}"
            )
        else:
            values = list(options)
            labels = [v if isinstance(v, str) else str(v) for v in values]
        super().__init__(labels, values, label, initial)

    def _find(self, initial) -> int:
        if self._initial_label is not None:
            return self.labels.index(self._initial_label)
        return super()._find(initial)

    def _widget(self):
        import ipywidgets

        make = getattr(ipywidgets, self._widget_name)
        return make(
            options=self._options(),
            index=self.index,
            description=self.label,
            style={"description_width": "initial"},
        )


class Toggle(Dropdown):
    """Like :class:`Dropdown`, shown as a row of toggle buttons (``ipywidgets.ToggleButtons``)."""

    _widget_name = "ToggleButtons"


def _check_controls(controls) -> dict:
    if not isinstance(controls, Mapping):
        raise TypeError(
            f"controls must be a dict {{name: Slider/Dropdown/Toggle}}; "
            f"got {type(controls).__name__}"
        )
    if len(controls) not in (1, 2):
        raise ValueError(f"controls must have 1 or 2 entries; got {len(controls)}")
    for name, control in controls.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"controls' names are passed to render as keyword arguments and must be "
                f"Python identifiers; got {name!r}"
            )
        if not isinstance(control, _Choice):
            raise TypeError(
                f"controls[{name!r}] must be a Slider, Dropdown or Toggle; "
                f"got {type(control).__name__}"
            )
    return dict(controls)


def interactive_output(render: Callable, controls, *, alt):
    """A widget showing ``render(**values)`` for the values of ``controls``, kernel or not.

    Parameters
    ----------
    render : callable
        Called as ``render(**{name: value})`` for every combination of control values. It
        returns a matplotlib ``Figure`` (stored as a small PNG, then closed), a 2-D or 3-D
        ndarray image (see :func:`vae_lib.frames.image_png`; shown upscaled), or an
        HTML string.
    controls : dict
        ``{name: Slider | Dropdown | Toggle}``, one or two entries. Two controls give
        ``len(first) * len(second)`` frames in nested stacks.
    alt : str or callable
        Alt text of the frames: one string, or ``alt(**values) -> str`` per frame.

    Returns
    -------
    ipywidgets.VBox
        The controls above the output; ``jslink`` joins each control's ``index`` to the
        ``selected_index`` of its stack(s), so the page works with no kernel.
    """
    if not callable(render):
        raise TypeError(f"render must be callable; got {type(render).__name__}")
    controls = _check_controls(controls)
    if not (callable(alt) or isinstance(alt, str)):
        raise TypeError(f"alt must be a string or a callable; got {type(alt).__name__}")
    if isinstance(alt, str) and not alt.strip():
        raise ValueError("alt must be a non-empty string describing the frames; got ''")
    names = list(controls)
    sizes = [len(c) for c in controls.values()]
    n_frames = math.prod(sizes)
    if n_frames > MAX_FRAMES:
        shape = " x ".join(f"{len(c)} ({name})" for name, c in controls.items())
        raise ValueError(
            f"controls would need {n_frames} precomputed frames ({shape}), more than the "
            f"limit of {MAX_FRAMES}; give the controls fewer values"
        )

    import ipywidgets

    def frame_at(index: tuple) -> str:
        values = {n: controls[n].values[i] for n, i in zip(names, index)}
        return frame_html(render, values, alt)

    layout = ipywidgets.Layout()  # one shared layout model for all frames, not one each
    frames, n_bytes = {}, 0
    for done, index in enumerate(itertools.product(*(range(s) for s in sizes)), start=1):
        html = frame_at(index)
        n_bytes += len(html)
        if n_bytes > MAX_WIDGET_BYTES:  # refused as soon as it is known, not at the end
            raise ValueError(
                f"the first {done} of {n_frames} frames already take {n_bytes / 1e6:.1f} MB, "
                f"more than the limit of {MAX_WIDGET_BYTES / 1e6:.1f} MB per widget; give "
                f"the controls fewer values or draw smaller figures"
            )
        frames[index] = ipywidgets.HTML(value=html, layout=layout)

    widgets = [c._widget() for c in controls.values()]
    chosen = [c.index for c in controls.values()]
    if len(names) == 1:
        output = ipywidgets.Stack([frames[(i,)] for i in range(sizes[0])], selected_index=chosen[0])
        links = [ipywidgets.jslink((widgets[0], "index"), (output, "selected_index"))]
    else:
        # A change of the inner control is sent to every inner stack, so the control with
        # fewer values goes outside: fewer inner stacks, fewer updates (and, in a kernel,
        # fewer messages) per change.
        outer, inner = (0, 1) if sizes[0] <= sizes[1] else (1, 0)

        def frame(o: int, i: int):
            return frames[(o, i) if outer == 0 else (i, o)]

        stacks = [
            ipywidgets.Stack(
                [frame(o, i) for i in range(sizes[inner])], selected_index=chosen[inner]
            )
            for o in range(sizes[outer])
        ]
        output = ipywidgets.Stack(stacks, selected_index=chosen[outer])
        links = [ipywidgets.jslink((widgets[outer], "index"), (output, "selected_index"))]
        links += [
            ipywidgets.jslink((widgets[inner], "index"), (s, "selected_index")) for s in stacks
        ]
    output.add_class("vae-output")

    box = ipywidgets.VBox([*widgets, output])
    box.add_class("vae-interactive")
    box._vae_links = links  # keep the links with the widget (they are widgets too)
    return box
