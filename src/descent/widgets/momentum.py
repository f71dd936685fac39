r"""Chapter 4's explorer: plain gradient descent against momentum on an ill-conditioned valley.

Its runs are :func:`momentum_runs` (the two paths, with ``descent.train.minimize`` and ``descent.optim.sgd``),
tested against the library; the theory it quotes (momentum's stability limit) is :func:`descent.analysis.lr_limit`.
The explorer only draws them.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks, plots
from ..analysis import lr_limit
from ..landscapes import Landscape, ill_conditioned
from ..optim import sgd
from ..train import DivergenceWarning, Trajectory, minimize
from .explorer import Explorer, Slider, new_figure
from .landscapes import RunPair

__all__ = ["momentum_explorer", "momentum_runs"]


def momentum_runs(landscape: Landscape, x0, lr: float, momentum: float, steps: int,
                  nesterov: bool = False) -> tuple[Trajectory, Trajectory]:
    r"""Plain gradient descent and SGD with momentum from the same start with the same ``lr``: the pair of
    :class:`~descent.train.Trajectory` of ``minimize(sgd(lr), ...)`` and
    ``minimize(sgd(lr, momentum=momentum, nesterov=nesterov), ...)``, with PyTorch's momentum

    .. math:: b_1 = g_1, \qquad b_t = \beta b_{t-1} + g_t, \qquad
              \theta_t = \theta_{t-1} - \alpha\,(g_t + \beta b_t \text{ if nesterov else } b_t),

    and their :class:`~descent.train.DivergenceWarning` silenced (a divergence is shown through
    ``diverged_at``, not warned about). With ``momentum=0`` the two runs are the same.

    >>> plain, heavy = momentum_runs(ill_conditioned(25.0), [-1.8, 1.5], lr=0.02, momentum=0.7, steps=100)
    >>> f"{plain.losses[-1]:.3g} {heavy.losses[-1]:.3g}"
    '0.0285 6.19e-08'
    """
    return _run(landscape, x0, lr, 0.0, False, steps), _run(landscape, x0, lr, momentum, nesterov, steps)


def _run(landscape: Landscape, x0, lr: float, momentum: float, nesterov: bool, steps: int) -> Trajectory:
    """``minimize(sgd(lr, momentum, nesterov=...), ...)`` without its DivergenceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return minimize(sgd(lr=lr, momentum=momentum, nesterov=nesterov and momentum > 0), landscape, x0, steps)


VARIANTS = ("heavy ball", "Nesterov")


def momentum_explorer(kappa: float = 25.0, x0=(-1.8, 1.5), steps: int = 100) -> Explorer:
    r"""Chapter 4's explorer: the same learning rate with and without momentum on ``ill_conditioned(kappa)``.

    Sliders: ``momentum`` :math:`\beta` (0 to 0.99, the main slider), ``lr`` (log scale, 0.001 to 0.3) and
    ``variant`` (heavy ball or Nesterov, PyTorch's forms). Left: the contours with the paths of
    :func:`momentum_runs` from ``x0`` (plain gradient descent in blue, momentum in vermillion); right: both
    losses against the step on a log axis whose limits never change. The title gives momentum's stability limit
    :func:`~descent.analysis.lr_limit` and whether the current ``lr`` is below it.
    """
    landscape = ill_conditioned(kappa)
    steps = _checks.integer("steps", steps, low=1)
    start = np.asarray(x0, dtype=float)
    L = landscape.lipschitz
    fig, (left, right) = new_figure(plots.HEIGHT + 0.5)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.8, bottom=0.14, wspace=0.3)
    start_loss = float(landscape.f(start))
    decade = np.floor(np.log10(start_loss))
    pair = RunPair(left, right, landscape, ("gradient descent", "momentum"), steps,
                   ylim=(10.0 ** (decade - 14), 10.0 ** (decade + 5)))
    title = fig.suptitle("", fontsize=11)
    plain_runs = {}
    left.set_title(f"κ = {kappa:g}: {steps} steps")

    def draw(momentum, lr, variant):
        nesterov = variant == "Nesterov" and momentum > 0
        if lr not in plain_runs:  # gradient descent does not depend on the main slider: run it once per lr
            plain_runs.clear()
            plain_runs[lr] = _run(landscape, start, lr, 0.0, False, steps)
        plain, heavy = plain_runs[lr], _run(landscape, start, lr, momentum, nesterov, steps)
        pair.set_runs(plain, heavy)
        limit = lr_limit(L, momentum, nesterov)
        verdict = "stable" if lr < limit else "unstable"
        title.set_text(f"β = {momentum:.2f}, lr = {lr:.3g}: {verdict} (limit {limit:.3g})")

    sliders = {
        "momentum": Slider(0.0, 0.99, 0.01, 0.7, description="momentum β"),
        "lr": Slider(1e-3, 0.3, 0.05, 0.02, log=True, description="learning rate α"),
        "variant": Slider(None, None, None, "heavy ball", description="momentum", options=VARIANTS),
    }
    alt = (f"Two panels. Left: contour map of the valley one half of x squared plus {kappa:g} y squared, long "
           "along x and narrow along y, with two paths from the same start: plain gradient descent in blue and "
           "gradient descent with momentum in vermillion. Right: the loss of both runs at each step on a "
           "logarithmic axis with fixed limits. The title gives the momentum, the learning rate and whether it "
           "is below momentum's stability limit 2(1 + beta)/L.")
    moving = (*pair.moving, title)
    explorer = Explorer(fig, sliders, draw, alt, main="momentum", moving=moving)
    explorer.update()
    return explorer
