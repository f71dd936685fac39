r"""Chapter 5's explorer: Adam's two decay rates and its learning rate on the Rosenbrock valley.

The computation is :func:`adam_path`, descent's own Adam run by ``descent.train.minimize``; the explorer only
draws it. The reference run without momentum does not depend on the main slider, so it is computed once per
setting of the other two.
"""

from __future__ import annotations

import numpy as np

from .. import plots
from ..landscapes import Landscape, rosenbrock
from ..optim import adam
from ..plots import OKABE_ITO
from ..train import Trajectory, minimize
from .explorer import Explorer, Slider, View, new_figure

START = (-1.2, 1.0)  # Rosenbrock's classic start (Rosenbrock, 1960), on the far side of the curved valley
STEPS = 300
LOSS_LIMITS = (1e-8, 1e3)  # the explorer's loss axis: fixed, so that no slider changes it


def adam_path(landscape: Landscape, x0, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
              steps: int = STEPS) -> Trajectory:
    r"""The path of Adam on a 2-D ``landscape`` from ``x0``: the :class:`~descent.train.Trajectory` of
    ``descent.train.minimize(descent.optim.adam(lr, betas, eps), landscape, x0, steps)``, with
    ``warn=False`` (a divergence is shown, not warned about).

    >>> run = adam_path(rosenbrock(), [-1.2, 1.0], lr=0.1, steps=2)
    >>> np.round(run.params, 4)   # the first step moves each coordinate by lr
    array([[-1.2   ,  1.    ],
           [-1.1   ,  1.1   ],
           [-1.0173,  1.1831]])
    """
    return minimize(adam(lr=lr, betas=betas, eps=eps), landscape, x0, steps, warn=False)


def adam_explorer() -> Explorer:
    r"""Chapter 5's explorer: Adam on the Rosenbrock valley :math:`(1-x)^2 + 100\,(y-x^2)^2` from
    (−1.2, 1), 300 steps.

    Sliders: ``beta1`` (the main one, 0 to 0.99), ``beta2`` (0.9 to 0.9999) and ``lr`` (log scale, 0.001
    to 1). Left: the contours with Adam's path (vermillion) and, for reference, the path of Adam with
    :math:`\beta_1 = 0` at the same ``beta2`` and ``lr`` (blue, dashed): RMSprop with bias correction, i.e.
    Adam without momentum. Right: both losses against the step on a log axis whose limits never change.
    """
    landscape, start = rosenbrock(), np.array(START)
    fig, (left, right) = new_figure(plots.HEIGHT + 0.2)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.15, wspace=0.3)
    plots.contour(landscape, left, lines=False)
    blue, vermillion = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
    reference, = left.plot([], [], "--", color=blue, linewidth=1.3, zorder=3, label="β₁ = 0 (no momentum)")
    path = plots.trajectory(np.zeros((1, 2)), left, color=vermillion, label="Adam")
    left.legend(loc="lower left", fontsize=8).set_zorder(2)  # under the moving lines, as blitting paints them
    reference_curve, = right.plot([], [], "--", color=blue, linewidth=1.3, zorder=3, label="β₁ = 0")
    curve, = right.plot([], [], "-", color=vermillion, linewidth=1.5, zorder=4, label="Adam")
    right.set(xlim=(0, STEPS), ylim=LOSS_LIMITS, yscale="log", xlabel="step $t$",
              ylabel=r"loss $f(\theta_t)$")
    plots.few_ticks(right)
    right.legend(loc="lower left", fontsize=8).set_zorder(2)
    left.set_title(f"Rosenbrock from (-1.2, 1), {STEPS} steps")
    cache = {}  # the reference run depends on beta2 and lr only: moving beta1 reuses it

    def draw(beta1, beta2, lr):
        run = adam_path(landscape, start, lr, (beta1, beta2))
        if (beta2, lr) not in cache:
            cache.clear()
            cache[beta2, lr] = adam_path(landscape, start, lr, (0.0, beta2))
        plain = cache[beta2, lr]
        plots.set_trajectory(path, run.params)
        reference.set_data(*plain.params.T)
        curve.set_data(np.arange(len(run.losses)), run.losses)
        reference_curve.set_data(np.arange(len(plain.losses)), plain.losses)
        right.set_title(f"final loss {run.losses[-1]:.2g} (β₁=0: {plain.losses[-1]:.2g})")

    sliders = {
        "beta1": Slider(0.0, 0.99, 0.01, 0.8, description="β₁ (momentum)"),
        "beta2": Slider(0.9, 0.9999, 0.0001, 0.999, description="β₂ (second moment)"),
        "lr": Slider(1e-3, 1.0, 0.05, 0.3, log=True, description="learning rate α"),
    }
    alt = ("Two panels. Left: filled contour map of the Rosenbrock function, a curved banana-shaped valley "
           "with its minimum at (1, 1) marked by a star, and two paths from the start at (-1.2, 1): Adam with "
           "the chosen beta1 as a vermillion line of dots ending in a cross, and Adam with beta1 = 0 (no "
           "momentum) as a dashed blue line. Right: the loss of both runs against the step, 0 to 300, on a "
           "logarithmic axis from 1e-8 to 1e3, whose title gives the final loss of each run.")
    moving = (*path, reference, curve, reference_curve, right.title)
    views = (  # chapter 5's "Things to try", each pre-rendered for the static page
        View("β₁ at α = 0.3", {"beta2": 0.999, "lr": 0.3}, "beta1", (0.0, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99),
             start=0.9),
        View("β₂ = 0.9: v forgets faster than m", {"beta2": 0.9, "lr": 0.3}, "beta1", (0.9, 0.99), start=0.99),
        View("the learning rate α", {"beta1": 0.9, "beta2": 0.999}, "lr", (0.001, 0.01, 0.1, 0.3), start=0.3),
    )
    explorer = Explorer(fig, sliders, draw, alt, main="beta1", moving=moving, views=views)
    explorer.update()
    return explorer
