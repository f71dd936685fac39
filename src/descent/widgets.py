r"""Explorers: figures with sliders whose callback is a pure, testable function of the slider values.

An :class:`Explorer` holds a matplotlib figure ``fig``, its ``sliders`` (name → :class:`Slider`) and
``update(**values)``, which redraws the figure for those values and returns it. ``update`` moves the existing
artists (``set_data``, ``set_text``) and rebuilds only what really changes (the contours when the landscape
changes). Values not passed keep their current setting; a value outside its slider's range raises
``ValueError``. ``frames(name, values)`` yields the figure for each value of one slider.

The live widget's callback is :meth:`Explorer.png`: ``update``, then only the artists that move are drawn
over a cached picture of the rest (blitting), and the pixels are sent as a PNG: 20-40 ms a call here, against
250-450 ms for ``display(fig)`` (``benchmarks/bench_widgets.py``). The axes are chosen so that the main
sliders never change them (the loss axis of a run spans fixed decades around its starting loss), because a
change of axis means rendering everything again.

``show()`` displays both forms of an explorer in one output: the ipywidgets version (sliders above the figure),
which a live notebook renders, and :meth:`Explorer.static_html`, which a static page (the book) renders: the
figure pre-rendered at ``n`` values of the explorer's ``main`` slider, switched by an HTML range input and a
few lines of inline JavaScript, with no kernel and no network.

The numbers drawn come from :mod:`descent` (losses, landscapes, optim, train): each explorer's computation is
a pure function that returns numbers (:func:`loss_readout`, :func:`gradient_descent`, :func:`stability`),
tested against the library, and the explorer only draws them.

>>> loss_readout(pred=2.0, target=0.0, delta=1.0)["MSE"]
(4.0, 4.0)

matplotlib is imported by this module (and by :mod:`descent.plots`) only, and ipywidgets only inside
``show()``, so ``import descent`` stays NumPy-only.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D

from . import _checks, plots
from .landscapes import LANDSCAPES, Landscape, ill_conditioned
from .losses import binary_cross_entropy_with_logits, hinge, huber, mae, mse
from .optim import sgd
from .plots import OKABE_ITO
from .train import DivergenceWarning, Trajectory, minimize

__all__ = [
    "Explorer",
    "Slider",
    "descent_explorer",
    "gradient_descent",
    "learning_rate_explorer",
    "loss_explorer",
    "loss_readout",
    "stability",
    "window_point",
]


class Slider(NamedTuple):
    """One control of an explorer: a number between ``min`` and ``max`` in steps of ``step`` (in decades,
    i.e. powers of 10, when ``log``), or, when ``options`` is given, a dropdown over ``options`` (then
    ``min``, ``max`` and ``step`` are ``None``). ``value`` is the current setting. An integer ``step`` makes
    an integer slider."""

    min: float | None
    max: float | None
    step: float | None
    value: object
    log: bool = False
    description: str = ""
    options: tuple | None = None

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


@dataclass(eq=False)
class Explorer:
    """A figure with sliders. ``update(**values)`` is the slider callback: it redraws ``fig`` for the given
    values (the others keep their current setting) and returns it. ``alt`` describes the figure in words,
    for alt text; ``main`` names the slider that :meth:`static_html` sweeps (default: the first). Made by
    :func:`loss_explorer`, :func:`descent_explorer` and :func:`learning_rate_explorer`.
    """

    fig: object
    sliders: dict[str, Slider]
    draw: Callable[..., None] = field(repr=False)
    alt: str = ""
    main: str | None = None
    moving: tuple = field(default=(), repr=False)  # the artists ``draw`` changes: blitted by :meth:`png`
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

        for control in controls.values():
            control.observe(render, names="value")
        render()
        return w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), image])

    def static_html(self, name: str | None = None, n: int = 16, dpi: int = 100) -> str:
        """The explorer for a page without a kernel: the figure pre-rendered at ``n`` values of slider ``name``
        (default ``main``) across its range, the other sliders as they are, and an HTML range input that swaps
        the image. Self-contained (PNG data URIs and a few lines of inline JavaScript scoped to its own
        ``<figure>``), deterministic, and the explorer's values are restored afterwards."""
        name = (self.main or next(iter(self.sliders))) if name is None else name
        if name not in self.sliders:
            raise ValueError(f"name={name!r} is not a slider of this explorer: the sliders are "
                             f"{', '.join(self.sliders)}.")
        _checks.integer("n", n, low=2)
        _checks.integer("dpi", dpi, low=10)
        slider, before = self.sliders[name], self.values
        values = slider.sweep(n)
        start = _nearest(values, slider)
        values[start] = slider.value  # the page opens on the same figure as the live notebook
        try:
            frames = [_png_uri(fig, dpi) for fig in self.frames(name, values)]
        finally:
            self.update(**before)
        labels = [_format(value) for value in values]
        others = ", ".join(f"{self.sliders[other].description or other} = {_format(value)}"
                           for other, value in before.items() if other != name)
        label = html.escape(slider.description or name)
        width, height = (self.fig.get_size_inches() * dpi).round().astype(int)
        data = json.dumps({"frames": frames, "labels": labels}).replace("</", "<\\/")
        note = f"{len(values)} pre-rendered values of {label}" + (f"; {html.escape(others)}" if others else "")
        return (
            '<figure class="descent-explorer" style="margin:1em 0">'
            f'<img src="{frames[start]}" alt="{html.escape(self.alt)}" width="{width}" height="{height}" '
            'style="max-width:100%;height:auto">'
            '<div style="display:flex;gap:0.75em;align-items:center;flex-wrap:wrap">'
            f'<label>{label} <input type="range" min="0" max="{len(values) - 1}" step="1" value="{start}" '
            f'aria-valuetext="{html.escape(labels[start])}" style="vertical-align:middle;width:16em"></label>'
            f'<output aria-live="polite">{html.escape(labels[start])}</output></div>'
            f"<figcaption>Static view: {note}. Launch the notebook (rocket button at the top of the page) to "
            "move every control.</figcaption>"
            f"<script>{_SWAP_FRAMES.replace('DATA', data)}</script></figure>"
        )

    def mimebundle(self, continuous_update: bool = True, n: int = 16) -> dict:
        """Both forms in one display: the ipywidgets view (what a live notebook renders) and
        :meth:`static_html` as ``text/html`` (what the book renders: its ``nb_mime_priority_overrides`` drop
        the widget view)."""
        bundle = self.widget(continuous_update)._repr_mimebundle_()
        return {**bundle, "text/html": self.static_html(n=n)}

    def show(self, continuous_update: bool = True, n: int = 16) -> None:
        """Display :meth:`mimebundle`: sliders in a live notebook, pre-rendered frames on a static page
        (works with the inline backend and headless kernels)."""
        from IPython.display import display

        display(self.mimebundle(continuous_update, n), raw=True)


# Swaps the image of its own <figure> (document.currentScript) when the range input moves.
_SWAP_FRAMES = """(function () {
  var figure = document.currentScript.parentElement, data = DATA;
  var image = figure.querySelector("img"), input = figure.querySelector("input"),
      output = figure.querySelector("output");
  input.addEventListener("input", function () {
    var i = Number(input.value);
    image.src = data.frames[i];
    output.textContent = data.labels[i];
    input.setAttribute("aria-valuetext", data.labels[i]);
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


def _png_uri(fig, dpi: int) -> str:
    """The figure as a PNG data URI, reduced to 64 colours (a third of the bytes; flat plots lose nothing
    visible). The same figure gives the same bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    image = Image.open(buffer).convert("RGB").quantize(64, method=Image.Quantize.MEDIANCUT,
                                                       dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


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


def _figure(height: float, strip: bool = False):
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


# ----------------------------------------------------------------------------------------------------------
# Chapter 1: loss functions


def loss_readout(pred: float, target: float, delta: float = 1.0) -> dict[str, tuple[float, float]]:
    r"""Value and slope :math:`(L, \partial L / \partial \hat y)` of every loss at one prediction, from
    :mod:`descent.losses`: MSE, MAE and Huber (with ``delta``) of ``pred`` against ``target``, and the
    classification losses of the logit :math:`z =` ``pred`` for a positive example (BCE with logits with
    :math:`y = 1`, hinge with :math:`y = +1`).

    >>> readout = loss_readout(pred=0.5, target=2.0, delta=1.0)
    >>> readout["MSE"], readout["MAE"], readout["Huber"]
    ((2.25, -3.0), (1.5, -1.0), (1.0, -1.0))
    >>> readout["hinge"]
    (0.5, -1.0)
    """
    p, y = np.array([pred], dtype=float), np.array([target], dtype=float)
    return {name: _value_and_slope(loss(p, y, delta)) for name, loss in _LOSSES.items()}


def _value_and_slope(loss: tuple[float, np.ndarray]) -> tuple[float, float]:
    return float(loss[0]), float(loss[1][0])


_LOSSES = {  # name: loss of (pred, target, delta), all from descent.losses
    "MSE": lambda p, y, delta: mse(p, y),
    "MAE": lambda p, y, delta: mae(p, y),
    "Huber": huber,
    "BCE with logits": lambda p, y, delta: binary_cross_entropy_with_logits(p, np.ones_like(p)),
    "hinge": lambda p, y, delta: hinge(p, np.ones_like(p)),
}
REGRESSION, CLASSIFICATION = ("MSE", "MAE", "Huber"), ("BCE with logits", "hinge")
_ERRORS = np.linspace(-6.0, 6.0, 161)  # prediction - target: covers every pred and target of the sliders


@lru_cache(maxsize=64)
def _curve(name: str, delta: float) -> np.ndarray:
    """The loss ``name`` at each error in ``_ERRORS`` (regression) or logit (classification), from
    :func:`loss_readout`; regression losses depend on the prediction only through the error, so one curve
    serves every target."""
    loss, zero = _LOSSES[name], np.zeros(1)
    return np.array([loss(np.array([e]), zero, delta)[0] for e in _ERRORS])


_STYLES = {"MSE": "-", "MAE": "--", "Huber": "-.", "BCE with logits": "-", "hinge": "--"}


def _readout_table(fig, x: float, lines: dict) -> dict:
    """A table under a panel whose left edge is at ``x``: for each loss (name → its curve in ``lines``) a
    sample of its line, its name, and two number cells for its value and slope, which are returned
    (name → (value cell, slope cell)) for ``draw`` to fill; the rest is drawn once. The table is also the
    legend. The cells are separate texts on shared baselines, without padding, because matplotlib renders
    every glyph, spaces too, on each draw."""
    font, columns = {"family": "monospace", "fontsize": 9, "va": "baseline"}, {"loss": 0.31, "slope": 0.41}
    for heading, offset in columns.items():
        fig.text(x + offset, 0.18, heading, ha="right", **font)
    cells = {}
    for row, (name, line) in enumerate(lines.items(), start=1):
        y = 0.18 - 0.042 * row
        fig.add_artist(Line2D([x, x + 0.04], [y + 0.01] * 2, linestyle=line.get_linestyle(),
                              color=line.get_color(), transform=fig.transFigure))
        fig.text(x + 0.05, y, name, **font)
        cells[name] = tuple(fig.text(x + offset, y, "", ha="right", **font) for offset in columns.values())
    return cells


def loss_explorer() -> Explorer:
    """Chapter 1's explorer: every loss's value and slope at once.

    Sliders ``pred`` (the prediction :math:`\\hat y`), ``target`` (:math:`y`) and ``delta`` (Huber's
    :math:`\\delta`). Left: MSE, MAE and Huber against the prediction for the current target, each with a dot
    at the current prediction and its tangent, whose slope is the gradient. Right: BCE with logits and hinge
    against the logit :math:`z` of a positive example, with a dot at :math:`z =` ``pred``. Below each panel,
    the value and slope of every loss (:func:`loss_readout`).
    """
    fig, (left, right) = _figure(4.4)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.33, wspace=0.25)
    colors = dict(zip(REGRESSION + CLASSIFICATION, plots.PALETTE, strict=False))
    artists, cells = {}, {}
    for ax, names, x in ((left, REGRESSION, 0.08), (right, CLASSIFICATION, 0.57)):
        for name in names:  # the moving lines lie above the axes' frame (zorder 2.5), as Explorer.moving asks
            curve, = ax.plot([], [], _STYLES[name], color=colors[name], label=name, zorder=3)
            tangent, = ax.plot([], [], ":", color=colors[name], linewidth=1.5, zorder=3)
            dot, = ax.plot([], [], "o", color=colors[name], markeredgecolor="black", zorder=4)
            artists[name] = (curve, tangent, dot)
        cells |= _readout_table(fig, x, {name: artists[name][0] for name in names})
    target_line = left.axvline(0.0, color="black", linewidth=0.8, zorder=3)
    left.set(xlim=(-3.5, 3.5), ylim=(-0.5, 6.5), xlabel=r"prediction $\hat y$", ylabel="loss",
             title="regression: loss of one prediction")
    right.set(xlim=(-3.5, 3.5), ylim=(-0.5, 4.5), xlabel=r"logit $z$ (positive example, $y = 1$)",
              title="classification: loss of one logit")
    for name in CLASSIFICATION:  # these curves do not depend on any slider
        artists[name][0].set(data=(_ERRORS, _curve(name, 1.0)), zorder=2)

    def draw(pred, target, delta):
        for name in REGRESSION:
            artists[name][0].set_data(_ERRORS + target, _curve(name, delta if name == "Huber" else 1.0))
        target_line.set_xdata([target, target])
        span = np.array([pred - 0.75, pred + 0.75])
        for name, (value, slope) in loss_readout(pred, target, delta).items():
            _, tangent, dot = artists[name]
            tangent.set_data(span, value + slope * (span - pred))
            dot.set_data([pred], [value])
            for cell, number in zip(cells[name], (value, slope), strict=True):
                cell.set_text(f"{number:.3f}")

    sliders = {
        "pred": Slider(-3.0, 3.0, 0.05, 1.5, description="prediction ŷ"),
        "target": Slider(-2.0, 2.0, 0.05, 0.0, description="target y"),
        "delta": Slider(0.1, 3.0, 0.05, 1.0, description="Huber δ"),
    }
    alt = ("Two panels. Left: mean squared error (a parabola), mean absolute error (a V) and the Huber loss "
           "(a parabola near the target that turns into straight lines beyond delta) plotted against the "
           "prediction, with a vertical line at the target; on each curve a dot marks the current prediction "
           "and a dotted tangent shows the slope there. Right: binary cross-entropy with logits (a smooth "
           "curve falling towards zero) and the hinge loss (a line reaching zero at z = 1) against the logit "
           "of a positive example, with dots at the same value. Below, a table lists each loss's value and "
           "slope.")
    moving = (target_line, *(cell for pair in cells.values() for cell in pair),
              *(artist for name in REGRESSION for artist in artists[name]),
              *(artist for name in CLASSIFICATION for artist in artists[name][1:]))  # not their curves
    explorer = Explorer(fig, sliders, draw, alt, main="pred", moving=moving)
    explorer.update()
    return explorer


# ----------------------------------------------------------------------------------------------------------
# Chapters 2 and 3: gradient descent on a landscape


def window_point(landscape: Landscape, u: float, v: float) -> np.ndarray:
    r"""The point at fractions :math:`(u, v) \in [-1, 1]^2` of the landscape's plot window: :math:`-1` is the
    left (bottom) edge, 0 the centre and :math:`+1` the right (top) edge.

    >>> from descent.landscapes import rosenbrock
    >>> rosenbrock().bounds, window_point(rosenbrock(), -1.0, 0.5)
    (((-2.0, 2.0), (-1.0, 3.0)), array([-2.,  2.]))
    """
    (x_low, x_high), (y_low, y_high) = landscape.bounds
    return np.array([x_low + x_high + u * (x_high - x_low), y_low + y_high + v * (y_high - y_low)]) / 2


def gradient_descent(landscape: Landscape, x0, lr: float, steps: int) -> Trajectory:
    r"""Plain gradient descent :math:`\theta_t = \theta_{t-1} - \alpha \nabla f(\theta_{t-1})`: the
    :class:`~descent.train.Trajectory` of ``descent.train.minimize(descent.optim.sgd(lr), ...)``, with its
    :class:`~descent.train.DivergenceWarning` silenced (a divergence is shown, not warned about: see
    ``diverged_at``).

    >>> run = gradient_descent(ill_conditioned(10.0), [1.0, 1.0], lr=0.3, steps=1000)
    >>> run.diverged_at
    511
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return minimize(sgd(lr=lr), landscape, x0, steps)


def stability(landscape: Landscape, lr: float) -> str:
    r"""Whether gradient descent with step ``lr`` converges on a quadratic ``landscape``: it does exactly when
    :math:`\alpha < 2/L`, with :math:`L` the largest curvature (``landscape.lipschitz``) and no direction of
    negative curvature (Nesterov, *Lectures on Convex Optimization*, 2018, §2.1).

    >>> stability(ill_conditioned(10.0), 0.15)
    'lr = 0.15 < 2/L = 0.2: converges'
    >>> stability(ill_conditioned(10.0), 0.3)
    'lr = 0.3 > 2/L = 0.2: diverges'
    """
    limit = 2 / landscape.lipschitz
    if np.linalg.eigvalsh(landscape.hessian)[0] < 0:
        return f"lr = {lr:.3g}: negative curvature, so gradient descent runs away at any lr"
    if math.isclose(lr, limit, rel_tol=1e-12):
        return f"lr = 2/L = {limit:.3g}: on the edge, the steepest direction oscillates forever"
    relation, verdict = ("<", "converges") if lr < limit else (">", "diverges")
    return f"lr = {lr:.3g} {relation} 2/L = {limit:.3g}: {verdict}"


def _loss_limits(start: float, scale: str) -> tuple[float, float]:
    """y-limits for the losses of runs that start at loss ``start``, whatever their learning rate or length:
    on a log axis from 10 decades below the start's decade to 7 above it, on the saddle's symlog axis from
    -1e6 to +10 times its size. Runs with different rates thus share one axis, which lets you compare them
    and lets :meth:`Explorer.png` redraw only the curve. A run that goes further leaves the axis; the panel's
    title gives its last loss."""
    if scale == "log":
        decade = np.floor(np.log10(start)) if start > 0 else 0.0
        return 10.0 ** (decade - 10), 10.0 ** (decade + 7)
    size = 10.0 ** np.ceil(np.log10(max(abs(start), 1.0)))
    return -1e6 * size, 10.0 * size


def _round_up(n: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, 100, ... that is at least ``n``.

    >>> [_round_up(n) for n in (1, 3, 10, 11, 150)]
    [1, 5, 10, 20, 200]
    """
    decade = 10 ** math.floor(math.log10(n))
    return next(m * decade for m in (1, 2, 5, 10) if m * decade >= n)


class _LandscapePanels:
    """Contours and trajectory on the left, loss against step on the right: what chapters 2 and 3 share.
    The contours are rebuilt only when the landscape changes."""

    def __init__(self, contour_ax, loss_ax):
        self.contour_ax, self.loss_ax, self.name, self.contours = contour_ax, loss_ax, None, None
        color = OKABE_ITO["vermillion"]
        self.path = plots.trajectory(np.zeros((1, 2)), contour_ax, color=color)
        self.curve, = loss_ax.plot([], [], "-", color=color, zorder=3)  # above the frame, as moving artists
        self.alarm = contour_ax.text(0.5, 0.5, "", transform=contour_ax.transAxes, ha="center", va="center",
                                     color="white", fontsize=11, zorder=6,
                                     bbox={"facecolor": color, "edgecolor": "none", "alpha": 0.9})
        loss_ax.set(xlabel="step $t$", ylabel=r"loss $f(\theta_t)$")
        self.moving = (*self.path, self.curve, self.alarm, contour_ax.title, loss_ax.title)

    def set_landscape(self, landscape: Landscape) -> None:
        if landscape.name == self.name:
            return
        if self.contours is not None:
            for artist in filter(None, self.contours):
                artist.remove()
        self.name, self.contours = landscape.name, plots.contour(landscape, self.contour_ax, lines=False)
        unbounded = len(landscape.minimum) == 0  # the saddle: losses go negative
        self.loss_ax.set_ylim(1e-3, 1.0)  # limits that suit either scale, until set_run sets the real ones
        self.loss_ax.set_yscale("symlog" if unbounded else "log")
        plots.few_ticks(self.loss_ax)  # set_yscale reset the locators

    def set_run(self, run: Trajectory, steps: int) -> None:
        plots.set_trajectory(self.path, run.params)
        self.curve.set_data(np.arange(len(run.losses)), run.losses)
        self.loss_ax.set_xlim(0, _round_up(steps))  # 1, 2, 5, 10, 20, ...: most changes of steps keep the axis
        self.loss_ax.set_ylim(*_loss_limits(run.losses[0], self.loss_ax.get_yscale()))
        self.alarm.set_text("" if run.diverged_at is None else f"diverged at step {run.diverged_at}")
        self.alarm.set_visible(run.diverged_at is not None)


def descent_explorer() -> Explorer:
    """Chapter 2's explorer: plain gradient descent on a landscape of your choice.

    Sliders: ``landscape`` (a dropdown over :data:`descent.landscapes.LANDSCAPES`, each with its default
    arguments), the start ``x0``, ``y0`` as fractions of the plot window (:func:`window_point`: −1 is the
    left/bottom edge, +1 the right/top edge; the title shows the actual start), ``lr`` (log scale, 1e-4 to 1)
    and ``steps`` (1 to 200). Left: the contours with the path of :func:`gradient_descent`; right: the loss
    against the step on a log axis, the same decades for every learning rate. A run that diverges stops there
    and says "diverged at step k".
    """
    fig, (left, right) = _figure(plots.HEIGHT + 0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.15, wspace=0.3)
    panels = _LandscapePanels(left, right)
    landscapes = {name: factory() for name, factory in LANDSCAPES.items()}

    def draw(landscape, x0, y0, lr, steps):
        surface = landscapes[landscape]
        panels.set_landscape(surface)
        start = window_point(surface, x0, y0)
        run = gradient_descent(surface, start, lr, steps)
        panels.set_run(run, steps)
        left.set_title(f"{landscape}: start ({start[0]:.2f}, {start[1]:.2f}), lr = {lr:.3g}")
        done = len(run.losses) - 1
        right.set_title(f"diverged at step {run.diverged_at}" if run.diverged_at else
                        f"loss after {done} steps: {run.losses[-1]:.3g}")

    sliders = {
        "landscape": Slider(None, None, None, "quadratic", description="landscape",
                            options=tuple(LANDSCAPES)),
        "x0": Slider(-1.0, 1.0, 0.05, -0.8, description="start x (window fraction)"),
        "y0": Slider(-1.0, 1.0, 0.05, 0.8, description="start y (window fraction)"),
        "lr": Slider(1e-4, 1.0, 0.05, 0.1, log=True, description="learning rate α"),
        "steps": Slider(1, 200, 1, 50, description="steps"),
    }
    alt = ("Two panels. Left: filled contour map of the chosen landscape, darker where the loss is "
           "lower, with stars on its global minima and the path of gradient descent drawn as a line of dots "
           "from an open circle at the start to a cross at the last step. Right: the loss at each step on a "
           "logarithmic axis. When the run diverges, a label reads 'diverged at step k'.")
    explorer = Explorer(fig, sliders, draw, alt, main="lr", moving=panels.moving)
    explorer.update()
    return explorer


def learning_rate_explorer(landscape: Landscape | None = None, x0=None, steps: int = 50) -> Explorer:
    """Chapter 3's explorer: one learning-rate slider on a quadratic, with the critical value 2/L marked.

    ``landscape`` must have a constant Hessian (``quadratic``, ``ill_conditioned``, ``saddle``); the default
    is ``ill_conditioned(kappa=10)``, where :math:`2/L = 0.2`. The log slider ``lr`` runs from
    :math:`0.01 \\cdot 2/L` to :math:`2.5 \\cdot 2/L`. Left: contours and the path of ``steps`` steps of
    :func:`gradient_descent` from ``x0`` (default: 3/4 of the way to the window's top-left corner); right: the
    loss (log axis); below: the lr axis with the stable range, the value 2/L and the current lr, and the
    verdict of :func:`stability` in the title.
    """
    landscape = ill_conditioned(kappa=10.0) if landscape is None else landscape
    steps = _checks.integer("steps", steps, low=1)
    limit = 2 / landscape.lipschitz  # raises a clear ValueError for a landscape without a constant Hessian
    start = window_point(landscape, -0.75, 0.75) if x0 is None else np.asarray(x0, dtype=float)
    low, high = limit / 100, limit * 2.5
    fig, (left, right, strip) = _figure(plots.HEIGHT + 0.9, strip=True)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.12, wspace=0.3, hspace=0.55)
    panels = _LandscapePanels(left, right)
    panels.set_landscape(landscape)
    strip.set(xscale="log", xlim=(low, high), ylim=(0, 1), yticks=[])
    strip.axvspan(low, limit, color=OKABE_ITO["bluish_green"], alpha=0.25)
    strip.axvspan(limit, high, color=OKABE_ITO["vermillion"], alpha=0.25)
    strip.axvline(limit, color="black", linewidth=1.2)
    strip.text(limit, 1.15, f"2/L = {limit:.3g}", ha="center", va="bottom", fontsize=9,
               transform=strip.get_xaxis_transform())
    strip.set_xlabel("learning rate α (log scale): green converges, red diverges")
    strip.spines[["left"]].set_visible(False)
    plots.few_ticks(strip).set_yticks([])
    marker, = strip.plot([], [], "v", color="black", markersize=10, clip_on=False, zorder=3)
    title = fig.suptitle("", fontsize=11)

    def draw(lr):
        run = gradient_descent(landscape, start, lr, steps)
        panels.set_run(run, steps)
        marker.set_data([lr], [0.5])
        title.set_text(stability(landscape, lr))
        left.set_title(f"{landscape.name}: {steps} steps")
        right.set_title(f"diverged at step {run.diverged_at}" if run.diverged_at else
                        f"loss after {steps} steps: {run.losses[-1]:.3g}")

    value = float(round(0.75 * limit, 12))
    sliders = {"lr": Slider(low, high, 0.02, value, log=True, description="learning rate α")}
    alt = (f"Three parts. Left: contour map of the {landscape.name} landscape with the path of {steps} "
           "steps of gradient descent. Right: the loss at each step on a logarithmic axis, falling when the "
           "learning rate is below 2/L and rising when it is above. Bottom: a learning-rate axis on a log "
           f"scale, green below the critical value 2/L = {limit:.3g} and red above it, with a triangle at "
           "the current learning rate. The title states whether the current rate converges.")
    explorer = Explorer(fig, sliders, draw, alt, main="lr", moving=(*panels.moving, marker, title))
    explorer.update()
    return explorer
