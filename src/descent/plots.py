r"""Figures for the course: landscape contours and surfaces, optimiser trajectories, loss curves, schedules.

Every function draws with matplotlib (imported here only: ``import descent`` does not import it), takes an
optional ``ax`` to draw into (a new figure is made when it is ``None``) and returns what it drew, so a caller
can restyle or update it. Colours come from the Okabe–Ito palette :data:`PALETTE`, which stays distinguishable
under the common colour-vision deficiencies (Okabe & Ito, *Color Universal Design*, 2008,
https://jfly.uni-koeln.de/color/); lines also differ in style or marker, never in colour alone.

The numbers come from :mod:`descent`; this module only draws them:

>>> from descent.landscapes import quadratic
>>> xs, ys, zs = grid(quadratic(), resolution=3)
>>> xs.shape, float(zs.min()), float(zs.max())
((3, 3), 0.0, 4.0)
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from .landscapes import Landscape

# Okabe–Ito, in the order lines take them; yellow is left out (too pale on white) and black is for markers.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
PALETTE = tuple(OKABE_ITO[name] for name in
                ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black"))

# Sizes for a book column: two panels fit in WIDTH x HEIGHT inches with fonts readable at 100 %.
WIDTH, HEIGHT = 8.0, 3.5
STYLE = {
    "axes.prop_cycle": plt.cycler(color=PALETTE),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
}
CMAP = "Blues_r"  # sequential, perceptually ordered and colour-blind safe: dark valleys, pale peaks


class ContourArtists(NamedTuple):
    """What :func:`contour` draws: the filled bands, their outlines (or ``None``) and the markers on the
    global minima."""

    filled: object
    lines: object
    minima: object


class TrajectoryArtists(NamedTuple):
    """What :func:`trajectory` draws: the path (a line through every iterate), its start and its end."""

    path: object
    start: object
    end: object


def subplots(ncols: int = 1, nrows: int = 1, width: float = WIDTH, height: float = HEIGHT, **kwargs):
    """``plt.subplots`` with the course's style (palette, font sizes) and a book-column size.

    >>> fig, (left, right) = subplots(2)
    >>> fig.get_size_inches().tolist()
    [8.0, 3.5]
    >>> plt.close(fig)
    """
    # The figure is made outside the style context: leaving an rc_context in which pyplot first loads its
    # backend would reset interactive mode, and a notebook would silently stop showing figures.
    fig = plt.figure(figsize=(width, height), dpi=STYLE["figure.dpi"])
    with plt.rc_context(STYLE):
        return fig, fig.subplots(nrows, ncols, **kwargs)


def _axes(ax, **kwargs):
    return subplots(width=WIDTH / 2 + 0.5, **kwargs)[1] if ax is None else ax


def few_ticks(ax, n: int = 5):
    """At most ``n`` labelled ticks per axis and no minor ticks: easier to read in a small panel, and a
    slider redraw renders half the text (text is most of the cost of a redraw)."""
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "linear":
            axis.set_major_locator(MaxNLocator(n, steps=[1, 2, 5, 10]))
        elif axis.get_scale() == "log":
            axis.set_major_locator(LogLocator(numticks=n))
        axis.set_minor_locator(NullLocator())
    return ax


def grid(landscape: Landscape, resolution: int = 200):
    r"""The landscape evaluated on a ``resolution`` × ``resolution`` grid over its ``bounds``:
    ``(xs, ys, zs)`` with :math:`z_{ij} = f(x_{ij}, y_{ij})`, ready for ``contourf``.

    >>> from descent.landscapes import quadratic
    >>> xs, ys, zs = grid(quadratic(), resolution=5)
    >>> float(zs[2, 2]), float(zs[0, 0])
    (0.0, 4.0)
    """
    (x_low, x_high), (y_low, y_high) = landscape.bounds
    xs, ys = np.meshgrid(np.linspace(x_low, x_high, resolution), np.linspace(y_low, y_high, resolution))
    return xs, ys, landscape.f(np.stack([xs, ys], axis=-1))


def contour_levels(zs, n: int = 20) -> np.ndarray:
    r"""``n + 1`` increasing contour levels spaced geometrically above the lowest value of ``zs``:

    .. math:: \ell_k = z_{\min} + (z_{\max} - z_{\min})\, 10^{-4 (1 - k/n)}, \quad k = 1..n, \qquad
              \ell_0 = z_{\min}

    so that the valleys, where optimisers spend their time, get as many bands as the walls.

    >>> contour_levels(np.array([0.0, 1.0]), n=4).round(4).tolist()
    [0.0, 0.001, 0.01, 0.1, 1.0]
    """
    low, high = float(np.min(zs)), float(np.max(zs))
    spread = max(high - low, 1e-12)
    return low + spread * np.concatenate([[0.0], 10.0 ** (-4 * (1 - np.arange(1, n + 1) / n))])


def contour(landscape: Landscape, ax=None, levels: int = 20, resolution: int = 200,
            lines: bool = True) -> ContourArtists:
    """Filled contours of ``landscape`` over its ``bounds``, log-spaced (:func:`contour_levels`), outlined in
    white unless ``lines=False`` (then ``lines`` is ``None``; faster to redraw), with the global minima marked
    by black stars.

    >>> from descent.landscapes import himmelblau
    >>> drawn = contour(himmelblau(), levels=5, resolution=20)
    >>> len(drawn.filled.levels), drawn.minima.get_xydata().shape
    (6, (4, 2))
    >>> plt.close("all")
    """
    ax = _axes(ax)
    xs, ys, zs = grid(landscape, resolution)
    bounds = contour_levels(zs, levels)
    cmap = plt.get_cmap(CMAP)
    norm = BoundaryNorm(bounds, cmap.N)
    filled = ax.contourf(xs, ys, zs, levels=bounds, cmap=cmap, norm=norm, extend="max")
    if lines:
        lines = ax.contour(xs, ys, zs, levels=bounds, colors="white", linewidths=0.4, alpha=0.6)
    minima, = ax.plot(*landscape.minimum.T, "*", color="black", markeredgecolor="white", markersize=13,
                      linestyle="none", label="global minimum", zorder=3)
    ax.set(xlim=landscape.bounds[0], ylim=landscape.bounds[1], xlabel="$x$", ylabel="$y$")
    few_ticks(ax)
    return ContourArtists(filled, lines or None, minima)


def surface(landscape: Landscape, ax=None, resolution: int = 80):
    """The landscape as a 3-D surface (``ax`` must be a 3-D axes if given); returns the surface artist.

    >>> from descent.landscapes import saddle
    >>> surf = surface(saddle(), resolution=10)
    >>> surf.axes.name
    '3d'
    >>> plt.close("all")
    """
    if ax is None:
        ax = subplots(width=WIDTH / 2 + 0.5, height=HEIGHT + 0.5, subplot_kw={"projection": "3d"})[1]
    xs, ys, zs = grid(landscape, resolution)
    surf = ax.plot_surface(xs, ys, zs, cmap=CMAP, linewidth=0, antialiased=True, alpha=0.9)
    ax.set(xlabel="$x$", ylabel="$y$", zlabel="$f$")
    return surf


def trajectory(params, ax=None, label: str | None = None, color: str | None = None) -> TrajectoryArtists:
    """The path of an optimiser through the plane: ``params`` of shape ``(k + 1, 2)``, e.g.
    ``descent.train.minimize(...).params``. Dots mark the iterates, a circle the start and a cross the end.

    >>> drawn = trajectory(np.array([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]]), label="SGD")
    >>> drawn.path.get_xydata().tolist()[1], drawn.end.get_xydata().tolist()
    ([0.5, 0.2], [[0.0, 0.0]])
    >>> plt.close("all")
    """
    ax = _axes(ax)
    color = color or OKABE_ITO["vermillion"]
    params = np.asarray(params, dtype=float).reshape(-1, 2)
    path, = ax.plot(*params.T, "-o", color=color, markersize=2.5, linewidth=1.5, label=label, zorder=4)
    start, = ax.plot(*params[:1].T, "o", color=color, markerfacecolor="white", markersize=8, zorder=5)
    end, = ax.plot(*params[-1:].T, "X", color=color, markeredgecolor="white", markersize=9, zorder=5)
    return TrajectoryArtists(path, start, end)


def set_trajectory(drawn: TrajectoryArtists, params) -> TrajectoryArtists:
    """Move the artists of :func:`trajectory` to a new path, without drawing anything new (for sliders)."""
    params = np.asarray(params, dtype=float).reshape(-1, 2)
    drawn.path.set_data(*params.T)
    drawn.start.set_data(*params[:1].T)
    drawn.end.set_data(*params[-1:].T)
    return drawn


def loss_curve(losses, ax=None, label: str | None = None, log: bool = True):
    """The loss against the step ``t = 0, 1, ...``; on a log axis when ``log`` (a ``symlog`` axis if some
    loss is not positive, as on a landscape without a minimum). Returns the line.

    >>> line = loss_curve([4.0, 1.0, 0.25], label="lr = 0.5")
    >>> line.get_xydata().tolist(), line.axes.get_yscale()
    ([[0.0, 4.0], [1.0, 1.0], [2.0, 0.25]], 'log')
    >>> plt.close("all")
    """
    ax = _axes(ax)
    losses = np.asarray(losses, dtype=float)
    line, = ax.plot(np.arange(len(losses)), losses, label=label)
    if log:
        ax.set_yscale("log" if np.all(losses > 0) else "symlog")
    ax.set(xlabel="step $t$", ylabel="loss $L$")
    return line


def schedule_curve(schedule, steps: int, ax=None, label: str | None = None):
    r"""A learning-rate schedule :math:`\alpha_t` for :math:`t = 0 \dots` ``steps - 1`` as a step plot, e.g.
    ``descent.schedules.cosine_annealing(0.1, T_max=100)``. Returns the line.

    >>> from descent.schedules import step_lr
    >>> line = schedule_curve(step_lr(0.1, step_size=2, gamma=0.5), steps=4)
    >>> line.get_ydata().round(3).tolist()
    [0.1, 0.1, 0.05, 0.05]
    >>> plt.close("all")
    """
    ax = _axes(ax)
    steps_ = np.arange(steps)
    line, = ax.step(steps_, [schedule(int(t)) for t in steps_], where="post", label=label)
    ax.set(xlabel="step $t$", ylabel=r"learning rate $\alpha_t$")
    return line
