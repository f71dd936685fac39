r"""Explorers: figures with sliders whose callback is a pure, testable function of the slider values.

:mod:`~descent.widgets.explorer` holds the machinery (:class:`Explorer`, :class:`Slider`: the pure ``update``,
the blitted live widget, the static HTML form for the book); each other module holds the explorers of one
topic, and the pure computations they draw, tested against the library:

=====================================  ===================================================================
module                                 explorer (chapter) and what it computes
=====================================  ===================================================================
:mod:`~descent.widgets.losses`         :func:`loss_explorer` (1): :func:`loss_readout`
:mod:`~descent.widgets.landscapes`     :func:`descent_explorer` (2), :func:`learning_rate_explorer` (3):
                                       :func:`gradient_descent`, :func:`stability`, :func:`window_point`
:mod:`~descent.widgets.momentum`       :func:`momentum_explorer` (4): plain and momentum runs
:mod:`~descent.widgets.adam`           :func:`adam_explorer` (5): Adam's path for any betas
:mod:`~descent.widgets.schedules`      :func:`schedule_explorer` (6): a schedule and the run it drives
:mod:`~descent.widgets.clipping`       :func:`clipping_explorer` (7): runs with and without clipping
:mod:`~descent.widgets.training`       :func:`training_explorer` (8): the stored runs of the digits network
=====================================  ===================================================================

The theory the explorers quote (stability limits, rates, gradient statistics) lives in :mod:`descent.analysis`;
widgets only draw. matplotlib is imported by this package (and by :mod:`descent.plots`) only, and ipywidgets
only inside ``show()``, so ``import descent`` stays NumPy-only.
"""

from .adam import adam_explorer
from .clipping import clipping_explorer
from .explorer import Explorer, Slider, View
from .landscapes import descent_explorer, gradient_descent, learning_rate_explorer, stability, window_point
from .losses import loss_explorer, loss_readout
from .momentum import momentum_explorer
from .schedules import schedule_explorer
from .training import training_explorer

__all__ = [
    "Explorer",
    "Slider",
    "View",
    "adam_explorer",
    "clipping_explorer",
    "descent_explorer",
    "gradient_descent",
    "learning_rate_explorer",
    "loss_explorer",
    "loss_readout",
    "momentum_explorer",
    "schedule_explorer",
    "stability",
    "training_explorer",
    "window_point",
]
