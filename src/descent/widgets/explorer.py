r"""The :class:`Explorer`: a matplotlib figure, its sliders, and three ways to show it.

An :class:`Explorer` holds a matplotlib figure ``fig``, its ``sliders`` (name → :class:`Slider`) and
``update(**values)``, which redraws the figure for those values and returns it. ``update`` moves the existing
artists (``set_data``, ``set_text``) and rebuilds only what really changes. Values not passed keep their current
setting; a value outside its slider's range raises ``ValueError``. ``frames(name, values)`` yields the figure
for each value of one slider.

The live widget's callback is :meth:`Explorer.png`: ``update``, then only the artists that move are drawn
over a cached picture of the rest (blitting), and the pixels are sent as a PNG: 20-40 ms a call here, against
250-450 ms for ``display(fig)`` (``benchmarks/bench_widgets.py``). So explorers choose axes that their main
slider never changes, because a change of axis means rendering everything again.

``show()`` displays both forms of an explorer in one output: the ipywidgets version (sliders above the figure),
which a live notebook renders, and :meth:`Explorer.static_html`, which a static page (the book) renders: the
figure pre-rendered along one slider, switched by an HTML range input and a few lines of inline JavaScript,
with no kernel and no network. An explorer's ``views`` (:class:`View`) choose what the page pre-renders: the
values where the chapter's story is, and one sweep for each "Things to try" suggestion, offered in a menu.

A slider whose ``applies`` says it does nothing at the current values (the decay factor of a schedule that has
none) is disabled in the live widget and left out of the static page's description.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from .. import _checks, plots


class Slider(NamedTuple):
    """One control of an explorer: a number between ``min`` and ``max`` in steps of ``step`` (in decades,
    i.e. powers of 10, when ``log``), or, when ``options`` is given, a dropdown over ``options`` (then
    ``min``, ``max`` and ``step`` are ``None``). ``value`` is the current setting. An integer ``step`` makes
    an integer slider. ``applies``, if given, says from all the sliders' values whether this one matters:
    the live widget disables it where it does not."""

    min: float | None
    max: float | None
    step: float | None
    value: object
    log: bool = False
    description: str = ""
    options: tuple | None = None
    applies: Callable[[dict], bool] | None = None  # given every slider's value: does this one change the figure?

    def applies_to(self, values: dict) -> bool:
        """Whether this slider changes the figure when the sliders are at ``values`` (always, without
        ``applies``)."""
        return self.applies is None or bool(self.applies(values))

    def check(self, name: str, value):
        """Return ``value`` if this slider can take it, else raise ``ValueError`` naming the slider."""
        if self.options is not None:
            if value not in self.options:
                raise ValueError(f"{name}={value!r} is invalid: {name} must be one of "
                                 + ", ".join(repr(option) for option in self.options) + ".")
            return value
        integer = isinstance(self.step, int)
        kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
        if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
            kind = "an integer" if integer else "a number"
            raise ValueError(f"{name}={value!r} is invalid: {name} must be {kind} "
                             f"in [{self.min:g}, {self.max:g}].")
        slack = 1e-9 * (abs(self.max) + abs(self.min))  # a log slider's 10**x may round just outside
        if not self.min - slack <= value <= self.max + slack:
            raise ValueError(f"{name}={value!r} is invalid: {name} must be in [{self.min:g}, {self.max:g}].")
        return int(value) if integer else float(min(max(value, self.min), self.max))

    def sweep(self, n: int = 7) -> list:
        """``n`` values across the whole range, both ends included (every option of a dropdown).

        >>> Slider(1e-3, 1.0, 0.1, 0.1, log=True).sweep(4)
        [0.001, 0.01, 0.1, 1.0]
        """
        if self.options is not None:
            return list(self.options)
        if isinstance(self.step, int):
            return sorted({round(float(v)) for v in np.linspace(self.min, self.max, n)})
        space = np.geomspace if self.log else np.linspace
        return [float(v) for v in space(self.min, self.max, n)]


class View(NamedTuple):
    """One sweep of an explorer's static form (:meth:`Explorer.static_html`): slider ``name`` (default: the
    explorer's ``main``) over ``values`` (default: ``n`` values across its range), with the other sliders at
    ``settings`` (the ones not named keep their current values). ``label`` names the view in the page's menu,
    e.g. a "Things to try" suggestion; the view opens on ``start`` (default: the slider's current value), which
    is added to ``values`` if they lack it.

    >>> view = View("rosenbrock near 0.002", {"landscape": "rosenbrock"}, "lr", (0.001, 0.002, 0.0025))
    >>> view.name, view.settings
    ('lr', {'landscape': 'rosenbrock'})
    """

    label: str
    settings: dict | None = None
    name: str | None = None
    values: tuple | None = None
    start: object = None


@dataclass(eq=False)
class Explorer:
    """A figure with sliders. ``update(**values)`` is the slider callback: it redraws ``fig`` for the given
    values (the others keep their current setting) and returns it. ``alt`` describes the figure in words,
    for alt text; ``main`` names the slider that :meth:`static_html` sweeps (default: the first), and
    ``views`` (:class:`View`) what it pre-renders (default: one sweep of ``main``). Made by the ``*_explorer``
    functions of :mod:`descent.widgets`.
    """

    fig: object
    sliders: dict[str, Slider]
    draw: Callable[..., None] = field(repr=False)
    alt: str = ""
    main: str | None = None
    moving: tuple = field(default=(), repr=False)  # the artists ``draw`` changes: blitted by :meth:`png`
    views: tuple = field(default=(), repr=False)  # the static form's sweeps (View); () means one sweep of main
    _background: tuple | None = field(default=None, init=False, repr=False)  # (what it shows, pixels)

    @property
    def values(self) -> dict:
        """The current setting of every slider."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def update(self, **values):
        """Redraw the figure for ``values`` (slider name → value; missing ones keep their current value)."""
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise ValueError(f"{', '.join(sorted(unknown))} is not a slider of this explorer: the sliders "
                             f"are {', '.join(self.sliders)}.")
        checked = {name: self.sliders[name].check(name, value) for name, value in values.items()}
        self.sliders = {name: slider._replace(value=checked.get(name, slider.value))
                        for name, slider in self.sliders.items()}
        self.draw(**self.values)
        return self.fig

    def png(self, **values) -> bytes:
        """The live widget's callback: :meth:`update`, then the figure as PNG bytes.

        Blitting keeps it fast: the figure without its ``moving`` artists (axes, ticks, labels, contours) is
        rendered once and kept as pixels; a call pastes those back and draws only the moving artists over
        them. The background is rendered again only when it changes: other axis limits or scales, or other
        artists (a new landscape's contours). The result is the same picture as a full redraw."""
        self.update(**values)
        canvas = self.fig.canvas
        shows = _background_shows(self.fig, self.moving)
        with _animated(self.moving):
            if self._background is None or self._background[0] != shows:
                canvas.draw()
                self._background = shows, canvas.copy_from_bbox(self.fig.bbox)
            else:
                canvas.restore_region(self._background[1])
            for artist in _draw_order(self.fig, self.moving):
                self.fig.draw_artist(artist)
        return _encode_png(canvas)

    def frames(self, name: str, values: Iterable) -> Iterator:
        """Yield the figure once for each value of slider ``name`` (the other sliders stay as they are)."""
        for value in values:
            yield self.update(**{name: value})

    def to_jshtml(self, name: str, n: int = 20) -> str:
        """An HTML/JavaScript animation sweeping slider ``name`` over ``n`` values (no kernel needed)."""
        from matplotlib.animation import FuncAnimation

        values, before = self.sliders[name].sweep(n), self.values
        animation = FuncAnimation(self.fig, lambda i: self.update(**{name: values[i]}), frames=len(values))
        try:
            return animation.to_jshtml(default_mode="once")
        finally:
            self.update(**before)

    def widget(self, continuous_update: bool = True):
        """The ipywidgets version: the sliders above an ``Image`` of the figure, which :meth:`png` redraws on
        each change. The figure follows a drag (``continuous_update=True``); with ``False`` a slider reports
        its value only when you let go of it, which suits a slow connection to a remote kernel."""
        import ipywidgets as w

        controls = {name: _control(name, slider, continuous_update) for name, slider in self.sliders.items()}
        width, _ = self.fig.canvas.get_width_height()
        image = w.Image(format="png", layout=w.Layout(width=f"{width}px", max_width="100%", height="auto"))

        def render(change=None):
            image.value = self.png(**{name: control.value for name, control in controls.items()})
            for name, control in controls.items():
                control.disabled = not self.sliders[name].applies_to(self.values)

        for control in controls.values():
            control.observe(render, names="value")
        render()
        return w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), image])

    def static_html(self, name: str | None = None, n: int = 16, dpi: int = 100, views=None) -> str:
        """The explorer for a page without a kernel: the figure pre-rendered along each of ``views``
        (:class:`View`; default: the explorer's ``views``, or else one sweep of slider ``name``, by default
        ``main``, over ``n`` values across its range), with an HTML range input that swaps the image and, for
        several views, a menu that switches between them. The page opens on the first view, at the figure the
        live notebook shows when its settings are the current ones. Self-contained (PNG data URIs, each
        distinct picture stored once, and a few lines of inline JavaScript scoped to its own ``<figure>``),
        deterministic; the explorer's values are restored afterwards."""
        _checks.integer("n", n, low=2)
        _checks.integer("dpi", dpi, low=10)
        if views is None:
            views = self.views if name is None and self.views else (View("", name=name),)
        views = tuple(views)
        if not views or not all(isinstance(view, View) for view in views):
            raise ValueError(f"views={views!r} is invalid: pass a non-empty sequence of View(label, settings, "
                             "name, values).")
        before, rendered, pictures = self.values, [], []
        try:
            for view in views:
                info, shots = self._render(view, before, n, dpi)
                rendered.append(info)
                pictures.append(shots)
        finally:
            self.update(**before)
        size = pictures[0][0][0].size
        boxes = _crop_boxes([cut for shots in pictures for _, cut in shots], size)
        images: dict[str, int] = {}  # data URI -> its index: a picture two frames share is stored once
        for info, shots in zip(rendered, pictures, strict=True):
            info["frames"] = [[images.setdefault(_png_data_uri(picture.crop(box)), len(images)) for box in boxes]
                              for picture, _ in shots]
        first, uris = rendered[0], list(images)
        data = json.dumps({"images": uris, "views": rendered}).replace("</", "<\\/")
        menu = ""
        if len(rendered) > 1:
            options = "".join(f'<option value="{i}">{html.escape(view["label"])}</option>'
                              for i, view in enumerate(rendered))
            menu = f'<label>View <select style="max-width:100%">{options}</select></label>'
        elif views[0].label:  # one sweep, named: say what it shows
            menu = f'<span>{html.escape(views[0].label)}</span>'
        label, value = html.escape(first["slider"]), html.escape(first["labels"][first["start"]])
        return (
            '<figure class="descent-explorer" style="margin:1em 0">'
            f'{_picture(boxes, size, [uris[i] for i in first["frames"][first["start"]]], self.alt)}'
            '<div style="display:flex;gap:0.5em 0.75em;align-items:center;flex-wrap:wrap">'
            f'{menu}<label><span class="descent-explorer-slider">{label}</span> <input type="range" min="0" '
            f'max="{len(first["frames"]) - 1}" step="1" value="{first["start"]}" aria-valuetext="{value}" '
            f'style="vertical-align:middle;width:16em;max-width:100%"></label><output aria-live="polite">'
            f'{value}</output></div>'
            f'<figcaption>Static view: <span class="descent-explorer-note">{html.escape(first["note"])}</span>. '
            "Launch the notebook (rocket button at the top of the page) to move every control.</figcaption>"
            f"<script>{_SWAP_FRAMES.replace('DATA', data)}</script></figure>"
        )

    def _render(self, view: View, base: dict, n: int, dpi: int) -> tuple[dict, list]:
        """Pre-render one :class:`View` from the slider values ``base`` (those its settings do not name keep
        their values there). Returns what the page's script needs (the slider's label, its value labels, the
        index the view opens on and the caption's note) and, per frame, the picture and its :class:`_Cut`."""
        name = view.name or self.main or next(iter(self.sliders))
        if name not in self.sliders:
            raise ValueError(f"name={name!r} is not a slider of this explorer: the sliders are "
                             f"{', '.join(self.sliders)}.")
        settings = dict(view.settings or {})
        if name in settings:
            raise ValueError(f"View {view.label!r} both sweeps {name!r} and fixes it in settings: fix the others.")
        self.update(**{**base, **settings})
        slider, values = self.sliders[name], self.values
        if not slider.applies_to(values):
            raise ValueError(f"View {view.label!r} sweeps {name!r}, which does nothing at {values}.")
        start = slider.check(name, slider.value if view.start is None else view.start)
        if view.values is None:
            sweep = slider.sweep(n)
            sweep[_nearest(sweep, slider._replace(value=start))] = start  # open on the live figure
        else:
            sweep = [slider.check(name, value) for value in view.values]
            if start not in sweep:
                sweep = sorted([*sweep, start]) if slider.options is None else [*sweep, start]
        shots = [(_picture_of(figure, dpi), _cut(figure, dpi)) for figure in self.frames(name, sweep)]
        label = slider.description or name
        others = ", ".join(f"{self.sliders[other].description or other} = {_format(value)}"
                           for other, value in values.items()
                           if other != name and self.sliders[other].applies_to(values))
        note = f"{len(sweep)} pre-rendered values of {label}" + (f"; {others}" if others else "")
        return ({"label": view.label or label, "slider": label, "labels": [_format(value) for value in sweep],
                 "start": sweep.index(start), "note": note}, shots)

    def mimebundle(self, continuous_update: bool = True, n: int = 16, views=None) -> dict:
        """Both forms in one display: the ipywidgets view (what a live notebook renders) and
        :meth:`static_html` as ``text/html`` (what the book renders: its ``nb_mime_priority_overrides`` drop
        the widget view)."""
        bundle = self.widget(continuous_update)._repr_mimebundle_()
        return {**bundle, "text/html": self.static_html(n=n, views=views)}

    def show(self, continuous_update: bool = True, n: int = 16, views=None) -> None:
        """Display :meth:`mimebundle`: sliders in a live notebook, pre-rendered frames on a static page
        (works with the inline backend and headless kernels). ``views`` replaces the explorer's own."""
        from IPython.display import display

        display(self.mimebundle(continuous_update, n, views), raw=True)


# Swaps the pictures of its own <figure> (document.currentScript) when the range input moves, and the view
# when the menu (if any) changes.
_SWAP_FRAMES = """(function () {
  var figure = document.currentScript.parentElement, data = DATA, view = data.views[0];
  var images = figure.querySelectorAll("img"), input = figure.querySelector("input"),
      output = figure.querySelector("output"), menu = figure.querySelector("select");
  function show(i) {
    view.frames[i].forEach(function (picture, k) { images[k].src = data.images[picture]; });
    output.textContent = view.labels[i];
    input.setAttribute("aria-valuetext", view.labels[i]);
  }
  input.addEventListener("input", function () { show(Number(input.value)); });
  if (menu) menu.addEventListener("change", function () {
    view = data.views[Number(menu.value)];
    input.max = view.frames.length - 1;
    input.value = view.start;
    figure.querySelector(".descent-explorer-slider").textContent = view.slider;
    figure.querySelector(".descent-explorer-note").textContent = view.note;
    show(view.start);
  });
})();"""


def _background_shows(fig, moving) -> tuple:
    """What the background of ``fig`` (everything but ``moving``) depends on: the size, each axes' limits and
    scales and its other artists. Holding the artists themselves (compared by identity) keeps a removed one
    alive, so a new artist cannot reuse its ``id``."""
    skip = {id(artist) for artist in moving}
    axes = tuple((ax.get_position().bounds, ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
                  tuple(child for child in ax.get_children() if id(child) not in skip)) for ax in fig.axes)
    return tuple(fig.get_size_inches()), fig.dpi, axes


def _draw_order(fig, artists) -> list:
    """``artists`` in the order ``canvas.draw()`` paints them: the figure's children by zorder, each axes' by
    zorder in turn (ties in the order they were added: Python's sort is stable, as matplotlib relies on)."""
    rank = {}
    for i, child in enumerate(_by_zorder(fig.get_children())):
        rank[id(child)] = (i, -1)
        if child in fig.axes:
            for j, grandchild in enumerate(_by_zorder(child.get_children())):
                rank[id(grandchild)] = (i, j)
    return sorted(artists, key=lambda artist: rank[id(artist)])


def _by_zorder(artists) -> list:
    return sorted(artists, key=lambda artist: artist.get_zorder())


@contextmanager
def _animated(artists):
    """Mark ``artists`` animated, which leaves them out of ``canvas.draw()``, for the duration."""
    for artist in artists:
        artist.set_animated(True)
    try:
        yield
    finally:
        for artist in artists:
            artist.set_animated(False)


def _encode_png(canvas) -> bytes:
    """The canvas's pixels as an RGB PNG, written directly: rows unfiltered, deflated at level 1. Twice as fast
    as Pillow's encoder (which tries a filter on every row), for 10 % more bytes."""
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row starts with its filter type, 0: none
    rows[:, 1:] = rgb.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits per channel, RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + b"".join(_png_chunk(kind, data) for kind, data in
                                             ((b"IHDR", header), (b"IDAT", zlib.compress(rows, 1)), (b"IEND", b"")))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _picture_of(fig, dpi: int):
    """The figure as a PIL image (RGB) at ``dpi``; the same figure gives the same pixels."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return Image.open(buffer).convert("RGB")


def _png_data_uri(picture) -> str:
    """A PIL image as a PNG data URI, reduced to 64 colours (a third of the bytes; flat plots lose nothing
    visible). The same pixels give the same bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    picture.quantize(64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class _Cut(NamedTuple):
    """Where a picture of two panels side by side may be cut (pixels, y from the top): the gap between the
    left column's last and the right column's first pixel, the top and bottom of what lies in the columns, and
    the bands that span both columns above and below them (their bottom and top edge, ``None`` for none, and
    their horizontal extent)."""

    left_end: float
    right_start: float
    content_top: float
    content_bottom: float
    above_end: float | None
    below_start: float | None
    band_x: tuple[float, float] | None


def _cut(fig, dpi: int) -> _Cut | None:
    """How ``fig``, saved at ``dpi``, splits into a column per panel, so that a narrow page can stack them:
    ``None`` unless its two largest axes sit side by side with a gap between them that nothing crosses except
    things entirely above or below both (a suptitle, a strip of axes underneath)."""
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    if len(fig.axes) < 2:
        return None
    largest = sorted(fig.axes, key=lambda ax: -ax.get_position().width * ax.get_position().height)[:2]
    left, right = sorted(largest, key=lambda ax: ax.get_position().x0)
    panels = [left.get_tightbbox(renderer), right.get_tightbbox(renderer)]
    if panels[1].x0 <= panels[0].x1:
        return None
    x = (panels[0].x1 + panels[1].x0) / 2
    others = [ax.get_tightbbox(renderer) for ax in fig.axes if ax not in largest]
    for artist in (*fig.texts, *fig.lines, *fig.patches, *fig.legends, *fig.artists):
        if artist.get_visible() and (not hasattr(artist, "get_text") or artist.get_text()):
            others.append(artist.get_window_extent(renderer))
    spanning = [box for box in others if box.x0 < x < box.x1]
    content = Bbox.union(panels + [box for box in others if not box.x0 < x < box.x1])
    above = [box for box in spanning if box.y0 >= content.y1]
    below = [box for box in spanning if box.y1 <= content.y0]
    if len(above) + len(below) < len(spanning):
        return None
    scale, height = dpi / fig.dpi, fig.bbox.height  # display pixels -> saved pixels, y measured from the top
    band = Bbox.union(spanning) if spanning else None
    return _Cut(panels[0].x1 * scale, panels[1].x0 * scale, (height - content.y1) * scale,
                (height - content.y0) * scale,
                (height - min(box.y0 for box in above)) * scale if above else None,
                (height - max(box.y1 for box in below)) * scale if below else None,
                (band.x0 * scale, band.x1 * scale) if band else None)


def _crop_boxes(cuts: list, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """The boxes (left, top, right, bottom) that cut every picture alike: a band above, the left column, the
    right column, a band below (the bands only where something spans both columns), cut in the middle of the
    gaps that all pictures share. The whole picture when some picture cannot be cut so. (The columns are the
    two boxes that share a top edge.)"""
    width, height = size
    if any(cut is None for cut in cuts):
        return [(0, 0, width, height)]
    left_end, right_start = max(cut.left_end for cut in cuts), min(cut.right_start for cut in cuts)
    content_top, content_bottom = min(cut.content_top for cut in cuts), max(cut.content_bottom for cut in cuts)
    above = [cut.above_end for cut in cuts if cut.above_end is not None]
    below = [cut.below_start for cut in cuts if cut.below_start is not None]
    if left_end >= right_start or (above and max(above) > content_top) or (below and min(below) < content_bottom):
        return [(0, 0, width, height)]
    x = round((left_end + right_start) / 2)
    top = round((max(above) + content_top) / 2) if above else 0
    bottom = round((min(below) + content_bottom) / 2) if below else height
    bands = [cut.band_x for cut in cuts if cut.band_x is not None]
    band_left = max(0, math.floor(min(x0 for x0, _ in bands)) - 8) if bands else 0
    band_right = min(width, math.ceil(max(x1 for _, x1 in bands)) + 8) if bands else width
    boxes = [(0, top, x, bottom), (x, top, width, bottom)]
    if top > 0:
        boxes.insert(0, (band_left, 0, band_right, top))
    if bottom < height:
        boxes.append((band_left, bottom, band_right, height))
    return boxes


def _picture(boxes: list, size: tuple[int, int], sources: list[str], alt: str) -> str:
    """The ``<img>`` elements of one frame: the whole figure, or its bands and columns in a wrapping flex box
    that keeps the columns side by side down to 60 % of the figure's width and stacks them below that (so a
    phone shows each panel at a readable size). The alt text describes the figure once."""
    if len(boxes) == 1:
        (_, _, width, height), = boxes
        return (f'<img src="{sources[0]}" alt="{html.escape(alt)}" width="{width}" height="{height}" '
                'style="max-width:100%;height:auto">')
    width, columns = size[0], [box for box in boxes if sum(other[1] == box[1] for other in boxes) == 2]
    parts = []
    for (x0, y0, x1, y1), source in zip(boxes, sources, strict=True):
        w, h = x1 - x0, y1 - y0
        if (x0, y0, x1, y1) in columns:  # grows from 60 % of its width, so two fit side by side down to 60 %
            style = f"flex:{w} 1 {0.6 * w:.0f}px;max-width:{w}px;min-width:0;height:auto"
        else:  # a band: a line of its own, scaled with the figure, not below 80 % of its size on a phone
            style = f"flex:0 0 auto;width:{100 * w / width:.2f}%;min-width:min(100%,{0.8 * w:.0f}px);height:auto"
        parts.append(f'<img src="{source}" alt="" width="{w}" height="{h}" style="{style}">')
    return (f'<div role="img" aria-label="{html.escape(alt)}" style="display:flex;flex-wrap:wrap;'
            f'justify-content:center;align-items:flex-start">{"".join(parts)}</div>')


def _nearest(values: list, slider: Slider) -> int:
    """Index of the value in ``values`` closest to the slider's setting (in decades for a log slider)."""
    if slider.options is not None:
        return values.index(slider.value)
    scale = np.log10 if slider.log else np.asarray
    return int(np.argmin(np.abs(scale(np.asarray(values, dtype=float)) - scale(float(slider.value)))))


def _format(value) -> str:
    return value if isinstance(value, str) else f"{value:.3g}"


def _control(name: str, slider: Slider, continuous_update: bool):
    import ipywidgets as w

    common = {"description": slider.description or name, "continuous_update": continuous_update,
              "style": {"description_width": "initial"}}
    if slider.options is not None:
        return w.Dropdown(options=list(slider.options), value=slider.value, description=common["description"],
                          style=common["style"])
    if slider.log:
        return w.FloatLogSlider(value=slider.value, base=10, min=math.log10(slider.min),
                                max=math.log10(slider.max), step=slider.step, readout_format=".3g", **common)
    if isinstance(slider.step, int):
        return w.IntSlider(value=slider.value, min=slider.min, max=slider.max, step=slider.step, **common)
    return w.FloatSlider(value=slider.value, min=slider.min, max=slider.max, step=slider.step, **common)


def new_figure(height: float, strip: bool = False):
    """Two panels side by side (and a thin full-width strip below them if ``strip``), in a figure that is not
    in pyplot's list of open figures, so that the inline backend does not show it a second time."""
    # Made via pyplot, which loads the backend (inline: PNG display), and outside the style context, whose exit
    # would otherwise turn interactive mode off.
    fig = plt.figure(figsize=(plots.WIDTH, height), dpi=plots.STYLE["figure.dpi"])
    plt.close(fig)
    FigureCanvasAgg(fig)  # closing left a canvas that cannot draw; Agg renders for display and savefig
    with plt.rc_context(plots.STYLE):
        if not strip:
            return fig, fig.subplots(1, 2)
        grid = fig.add_gridspec(2, 2, height_ratios=(1, 0.08))
        return fig, (fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :]))
