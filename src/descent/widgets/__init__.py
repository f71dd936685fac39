r"""Explorers: figures with sliders whose callback is a pure, testable function of the slider values.

:mod:`~descent.widgets.explorer` holds the machinery (:class:`Explorer`, :class:`Slider`: the pure ``update``,
the blitted live widget, the static HTML form for the book); each other module holds the explorers of one
topic, and the pure computations they draw (tested against the library):

==============================================  ============================================================
module                                          explorers
==============================================  ============================================================
:mod:`~descent.widgets.losses` (chapter 1)      :func:`loss_explorer`; :func:`loss_readout`
:mod:`~descent.widgets.landscapes` (ch. 2, 3)   :func:`descent_explorer`, :func:`learning_rate_explorer`;
                                                :func:`gradient_descent`, :func:`stability`, :func:`window_point`
==============================================  ============================================================

matplotlib is imported by this package (and by :mod:`descent.plots`) only, and ipywidgets only inside
``show()``, so ``import descent`` stays NumPy-only.
"""

from .explorer import Explorer, Slider
from .landscapes import descent_explorer, gradient_descent, learning_rate_explorer, stability, window_point
from .losses import loss_explorer, loss_readout

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
