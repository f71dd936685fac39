r"""Chapters 2 and 3's explorers: gradient descent on a landscape, and the learning rate's cliff at
:math:`2/\lambda_{\max}`.

Their computations are pure functions that return numbers (:func:`gradient_descent`, :func:`stability`,
:func:`window_point`), tested against the library; the explorers only draw them. Two panel layouts are shared
with later chapters: :class:`LandscapePanels` (one run: its path over the contours, its loss against the step)
and :class:`RunPair` (two runs compared, for chapters 4 and 7).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks, plots
from ..landscapes import LANDSCAPES, Landscape, ill_conditioned
from ..optim import sgd
from ..plots import OKABE_ITO
from ..train import Trajectory, minimize
from .explorer import Explorer, Slider, View, new_figure



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
    :class:`~descent.train.Trajectory` of ``descent.train.minimize(descent.optim.sgd(lr), ...)``, with
    ``warn=False`` (a divergence is shown, not warned about: see
    ``diverged_at``).

    >>> run = gradient_descent(ill_conditioned(10.0), [1.0, 1.0], lr=0.3, steps=1000)
    >>> run.diverged_at
    511
    """
    return minimize(sgd(lr=lr), landscape, x0, steps, warn=False)


def stability(landscape: Landscape, lr: float) -> str:
    r"""Whether gradient descent with step ``lr`` converges on a quadratic ``landscape``: it does exactly when
    :math:`\alpha < 2/\lambda_{\max}`, with :math:`\lambda_{\max}` the largest curvature (``landscape.lipschitz``)
    and no direction of negative curvature (Nesterov, *Lectures on Convex Optimization*, 2018, §2.1). The limit is
    :func:`descent.analysis.lr_limit`; this is the explorer's title.

    >>> stability(ill_conditioned(10.0), 0.15)
    'lr = 0.15 < 2/λₘₐₓ = 0.2: converges'
    >>> stability(ill_conditioned(10.0), 0.3)
    'lr = 0.3 > 2/λₘₐₓ = 0.2: diverges'
    """
    limit = 2 / landscape.lipschitz
    if np.linalg.eigvalsh(landscape.hessian)[0] < 0:
        return f"lr = {lr:.3g}: negative curvature, so gradient descent runs away at any lr"
    if math.isclose(lr, limit, rel_tol=1e-12):
        return f"lr = 2/λₘₐₓ = {limit:.3g}: on the edge, the steepest direction oscillates forever"
    relation, verdict = ("<", "converges") if lr < limit else (">", "diverges")
    return f"lr = {lr:.3g} {relation} 2/λₘₐₓ = {limit:.3g}: {verdict}"


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


class LandscapePanels:
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


class RunPair:
    """Two runs from one start on one landscape, side by side for comparison: their paths over the contours on
    the left (the first of ``labels`` in blue, the second in vermillion) and their losses against the step on
    the right, on a log axis with fixed limits ``ylim`` (so that no slider changes it). The right panel's title
    gives where each run ended. What the explorers of chapters 4 and 7 share."""

    def __init__(self, left, right, landscape: Landscape, labels: tuple[str, str], steps: int, ylim):
        plots.contour(landscape, left, lines=False)
        colours = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
        self.paths = [plots.trajectory(np.zeros((1, 2)), left, color=colour, label=label)
                      for colour, label in zip(colours, labels, strict=True)]
        # legends below the moving lines (zorder 2), so that blitting paints what a full redraw paints
        left.legend(handles=[path.path for path in self.paths], loc="lower right", fontsize=8).set_zorder(2)
        self.curves = [right.plot([], [], "-", color=colour, zorder=3, label=label)[0]
                       for colour, label in zip(colours, labels, strict=True)]
        right.set(yscale="log", xlim=(0, steps), ylim=ylim, xlabel="step $t$", ylabel=r"loss $f(\theta_t)$")
        plots.few_ticks(right)
        right.legend(loc="lower left", fontsize=8).set_zorder(2)
        self.right, self.labels = right, labels
        self.moving = (*self.paths[0], *self.paths[1], *self.curves, right.title)

    def set_runs(self, *runs: Trajectory) -> None:
        for path, curve, run in zip(self.paths, self.curves, runs, strict=True):
            plots.set_trajectory(path, run.params)
            curve.set_data(np.arange(len(run.losses)), run.losses)
        ends = [f"diverged at {run.diverged_at}" if run.diverged_at else f"{run.losses[-1]:.2g}" for run in runs]
        self.right.set_title(", ".join(f"{label} {end}" for label, end in zip(self.labels, ends, strict=True)),
                             fontsize=10)


def _notches(*powers: float) -> tuple[float, ...]:
    """The learning rates 10**power: values a log slider stepping in 0.05 decades can take."""
    return tuple(10.0**power for power in powers)


def descent_explorer() -> Explorer:
    """Chapter 2's explorer: plain gradient descent on a landscape of your choice.

    Sliders: ``landscape`` (a dropdown over :data:`descent.landscapes.LANDSCAPES`, each with its default
    arguments), the start ``x0``, ``y0`` as fractions of the plot window (:func:`window_point`: −1 is the
    left/bottom edge, +1 the right/top edge; the title shows the actual start), ``lr`` (log scale, 1e-4 to 1)
    and ``steps`` (1 to 200). Left: the contours with the path of :func:`gradient_descent`; right: the loss
    against the step on a log axis, the same decades for every learning rate. A run that diverges stops there
    and says "diverged at step k".
    """
    fig, (left, right) = new_figure(plots.HEIGHT + 0.3)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.15, wspace=0.3)
    panels = LandscapePanels(left, right)
    landscapes = {name: factory() for name, factory in LANDSCAPES.items()}

    def draw(landscape, x0, y0, lr, steps):
        surface = landscapes[landscape]
        panels.set_landscape(surface)
        start = window_point(surface, x0, y0)
        run = gradient_descent(surface, start, lr, steps)
        panels.set_run(run, steps)
        left.set_title(f"{landscape}: start ({start[0]:.2f}, {start[1]:.2f}), lr = {lr:.3g}", fontsize=9)
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
    # The static page's views: one per "Things to try" of chapter 2, on values the live slider can take (the
    # learning rate moves in steps of 0.05 decades: 10**-2.8 reads 0.00158).
    views = (
        View("quadratic: raise α to 1", {"landscape": "quadratic"}, "lr", _notches(-1, -0.5, -0.3, 0)),
        View("ill_conditioned: near 2/λ_max = 0.2", {"landscape": "ill_conditioned"}, "lr",
             _notches(-1, -0.8, -0.75, -0.7, -0.65, -0.6), start=10**-0.75),
        View("himmelblau at α = 0.01: four starts, four minima",
             {"landscape": "himmelblau", "lr": 0.01, "y0": -0.1}, "x0", (-0.3, -0.1, 0.0, 0.2)),
        View("rastrigin: stuck in a dip", {"landscape": "rastrigin"}, "lr", _notches(-3, -2.5, -2, -1.5, -1),
             start=0.001),
        View("saddle: on the middle line or one notch off", {"landscape": "saddle"}, "y0", (-0.05, 0.0, 0.05),
             start=0.0),
        View("rosenbrock, 200 steps: a narrow band", {"landscape": "rosenbrock", "steps": 200}, "lr",
             _notches(-3, -2.85, -2.8, -2.75, -2.7, -2.65), start=10**-2.8),
    )
    explorer = Explorer(fig, sliders, draw, alt, main="lr", moving=panels.moving, views=views)
    explorer.update()
    return explorer


def learning_rate_explorer(landscape: Landscape | None = None, x0=None, steps: int = 50) -> Explorer:
    """Chapter 3's explorer: one learning-rate slider on a quadratic, with the critical value 2/λ_max marked.

    ``landscape`` must have a constant Hessian (``quadratic``, ``ill_conditioned``, ``saddle``); the default
    is ``ill_conditioned(kappa=10)``, where :math:`2/\\lambda_{\\max} = 0.2`. The log slider ``lr`` runs
    from 1/100 to 2.5 times :math:`2/\\lambda_{\\max}`. Left: contours and the path of ``steps`` steps of
    :func:`gradient_descent` from ``x0`` (default: 3/4 of the way to the window's top-left corner); right: the
    loss (log axis); below: the lr axis with the stable range, the value 2/λ_max and the current lr, and the
    verdict of :func:`stability` in the title.
    """
    landscape = ill_conditioned(kappa=10.0) if landscape is None else landscape
    steps = _checks.integer("steps", steps, low=1)
    limit = 2 / landscape.lipschitz  # raises a clear ValueError for a landscape without a constant Hessian
    start = window_point(landscape, -0.75, 0.75) if x0 is None else np.asarray(x0, dtype=float)
    low, high = limit / 100, limit * 2.5
    fig, (left, right, strip) = new_figure(plots.HEIGHT + 0.9, strip=True)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.12, wspace=0.3, hspace=0.55)
    panels = LandscapePanels(left, right)
    panels.set_landscape(landscape)
    strip.set(xscale="log", xlim=(low, high), ylim=(0, 1), yticks=[])
    strip.axvspan(low, limit, color=OKABE_ITO["bluish_green"], alpha=0.25)
    strip.axvspan(limit, high, color=OKABE_ITO["vermillion"], alpha=0.25)
    strip.axvline(limit, color="black", linewidth=1.2)
    strip.text(limit, 1.15, f"2/λₘₐₓ = {limit:.3g}", ha="center", va="bottom", fontsize=9,
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
    # The static page's frames sit where the story is: around the best step α* = 2/(λ_min + λ_max) and the
    # limit 2/λ_max, on values the slider can take (it moves in 0.02 decades from limit/100).
    powers, label = {-1.0, -0.5, -0.2, -0.1, -0.02, 0.0, 0.02, 0.1, 0.2, 0.38}, f"around 2/λ_max = {limit:.3g}"
    lambdas = np.linalg.eigvalsh(landscape.hessian)
    if lambdas[0] > 0:  # a bowl: gradient descent's best step exists
        best = 2 / (lambdas[0] + lambdas[-1])
        powers.add(round(round(math.log10(best / limit) / 0.02) * 0.02, 2))
        label = f"around α* = {best:.3g} and 2/λ_max = {limit:.3g}"
    views = (View(label, None, "lr", tuple(limit * 10.0**power for power in sorted(powers))),)
    alt = (f"Three parts. Left: contour map of the {landscape.name} landscape with the path of {steps} "
           "steps of gradient descent. Right: the loss at each step on a logarithmic axis, falling when the "
           "learning rate is below 2/λmax and rising when it is above. Bottom: a learning-rate axis on a log "
           f"scale, green below the critical value 2/λmax = {limit:.3g} and red above it, with a triangle at "
           "the current learning rate. The title states whether the current rate converges.")
    explorer = Explorer(fig, sliders, draw, alt, main="lr", moving=(*panels.moving, marker, title), views=views)
    explorer.update()
    return explorer
