r"""Chapter 7's explorer: gradient descent with and without clipping by global norm, on a landscape with
cliffs.

Its runs are :func:`clipped_descent` and :func:`clipping_runs` (the paths, with ``descent.train.minimize``,
``descent.optim.sgd`` and ``descent.clipping.clip_by_global_norm``), tested against the library; the statistics
it quotes are :func:`descent.analysis.gradient_norms` (the norm that ``clip_grad_norm`` measures at each step of
a path) and :func:`descent.analysis.clipped_fraction` (how many of those steps were shortened). The explorer
only draws them.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks, plots
from ..analysis import clipped_fraction, gradient_norms
from ..base import chain
from ..clipping import clip_by_global_norm
from ..landscapes import Landscape, rosenbrock
from ..optim import sgd
from ..train import DivergenceWarning, Trajectory, minimize
from .explorer import Explorer, Slider, new_figure
from .landscapes import RunPair

__all__ = ["clipped_descent", "clipping_explorer", "clipping_runs"]


def clipped_descent(landscape: Landscape, x0, lr: float, max_norm: float | None, steps: int,
                    norm_type: float = 2.0) -> Trajectory:
    r"""Gradient descent with clipping by global norm: the :class:`~descent.train.Trajectory` of
    ``minimize(chain(clip_by_global_norm(max_norm, norm_type), sgd(lr)), ...)``, that is

    .. math:: \theta_t = \theta_{t-1} - \alpha\, g_t \min\!\Big(\frac{c}{\|g_t\|_p + 10^{-6}},\ 1\Big),
              \qquad g_t = \nabla f(\theta_{t-1}),

    with :math:`c` = ``max_norm``; ``max_norm=None`` is plain gradient descent, ``minimize(sgd(lr), ...)``.
    The :class:`~descent.train.DivergenceWarning` is silenced: a divergence is shown through ``diverged_at``.

    >>> run = clipped_descent(rosenbrock(), [-2.0, -0.5], lr=0.002, max_norm=None, steps=200)
    >>> run.diverged_at
    6
    """
    opt = sgd(lr=lr) if max_norm is None else chain(clip_by_global_norm(max_norm, norm_type), sgd(lr=lr))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return minimize(opt, landscape, x0, steps)


def clipping_runs(landscape: Landscape, x0, lr: float, max_norm: float, steps: int,
                  norm_type: float = 2.0) -> tuple[Trajectory, Trajectory]:
    r"""Plain gradient descent and gradient descent clipped to global norm ``max_norm``, same start, same
    ``lr``: ``clipped_descent(..., None, ...)`` and ``clipped_descent(..., max_norm, ...)``
    (:func:`clipped_descent`).

    >>> plain, clipped = clipping_runs(rosenbrock(), [-2.0, -0.5], lr=0.002, max_norm=10.0, steps=200)
    >>> plain.diverged_at, f"{clipped.losses[-1]:.3g}"
    (6, '1.02')
    """
    return (clipped_descent(landscape, x0, lr, None, steps),
            clipped_descent(landscape, x0, lr, max_norm, steps, norm_type))


def clipping_explorer(x0=(-2.0, -0.5), steps: int = 150) -> Explorer:
    r"""Chapter 7's explorer: gradient descent with and without clipping by global norm on Rosenbrock's
    valley, from ``x0`` on its steep wall (default: the window's left edge, where :math:`\|\nabla f\| \approx
    3700`, against about 1 to 10 on the valley floor).

    Sliders: ``max_norm`` :math:`c` (log scale, 0.1 to 10 000, the main slider) and ``lr`` (log scale, 2e-4
    to 3e-3). Left: the contours with the paths of :func:`clipping_runs` (plain gradient descent in blue,
    clipped in vermillion); right: both losses against the step on a log axis whose limits never change. The
    title gives the fraction of the clipped run's steps that clipping shortened (:func:`clipped_fraction`).
    """
    landscape = rosenbrock()
    steps = _checks.integer("steps", steps, low=1)
    start = np.asarray(x0, dtype=float)
    fig, (left, right) = new_figure(plots.HEIGHT + 0.5)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.8, bottom=0.14, wspace=0.3)
    pair = RunPair(left, right, landscape, ("plain", "clipped"), steps, ylim=(1e-6, 1e8))
    title = fig.suptitle("", fontsize=11)
    left.set_title(f"rosenbrock from ({start[0]:g}, {start[1]:g}), {steps} steps", fontsize=10)
    runs = {}  # (lr, max_norm) -> (run, fraction clipped): sliding back and forth costs nothing

    def run(lr, max_norm):
        if (lr, max_norm) not in runs:
            if len(runs) > 500:
                runs.clear()
            path = clipped_descent(landscape, start, lr, max_norm, steps)
            runs[lr, max_norm] = path, (0.0 if max_norm is None else
                                        clipped_fraction(gradient_norms(landscape, path), max_norm))
        return runs[lr, max_norm]

    def draw(max_norm, lr):
        (plain, _), (clipped, fraction) = run(lr, None), run(lr, max_norm)
        pair.set_runs(plain, clipped)
        title.set_text(f"c={max_norm:.3g}, α={lr:.2g}: {fraction:.0%} clipped")

    sliders = {
        "max_norm": Slider(0.1, 1e4, 0.1, 10.0, log=True, description="max_norm c"),
        "lr": Slider(2e-4, 3e-3, 0.05, 2e-3, log=True, description="learning rate α"),
    }
    alt = ("Two panels. Left: contour map of Rosenbrock's curved valley, with two paths from the same start "
           "on the steep wall at the left edge: plain gradient descent in blue and gradient descent with "
           "clipping by global norm in vermillion. Right: the loss of both runs at each step on a "
           "logarithmic axis with fixed limits. The title gives max_norm, the learning rate and the "
           "percentage of steps that clipping shortened; the right panel's title says whether each run "
           "diverged.")
    moving = (*pair.moving, title)
    explorer = Explorer(fig, sliders, draw, alt, main="max_norm", moving=moving)
    explorer.update()
    return explorer
