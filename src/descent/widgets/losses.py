r"""Chapter 1's explorer: the value and slope of every loss at one prediction.

>>> loss_readout(pred=2.0, target=0.0, delta=1.0)["MSE"]
(4.0, 4.0)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.lines import Line2D

from .. import plots
from ..losses import binary_cross_entropy_with_logits, hinge, huber, mae, mse
from .explorer import Explorer, Slider, View, new_figure



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
    fig, (left, right) = new_figure(4.4)
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
    views = (  # chapter 1's "Things to try"; the page opens where the prediction equals the target
        View("the prediction ŷ (target 0)", {"target": 0.0, "delta": 1.0}, "pred",
             (-3.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0), start=0.0),
        View("Huber's δ (ŷ = 1.5, target 0)", {"pred": 1.5, "target": 0.0}, "delta",
             (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0), start=1.0),
    )
    explorer = Explorer(fig, sliders, draw, alt, main="pred", moving=moving, views=views)
    explorer.update()
    return explorer
