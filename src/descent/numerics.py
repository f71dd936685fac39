r"""Finite-difference gradients: the independent check every hand-written gradient in the course must pass.

A derivative is a limit of slopes, so a slope over a tiny step approximates it. The central difference

.. math:: \frac{\partial f}{\partial x_i}
          \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2 \varepsilon}

has error :math:`O(\varepsilon^2)` (the one-sided slope has :math:`O(\varepsilon)`), and with
:math:`\varepsilon = 10^{-6}` in float64 it agrees with the exact gradient of a smooth function to about
:math:`10^{-9}`. It costs two evaluations of :math:`f` per parameter, which is why training uses
backpropagation and tests use this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _checks
from .base import Tree, global_norm, tree_leaves, tree_map

__all__ = ["check_grad", "numerical_grad"]


def _float64_copy(x: Tree) -> Tree:
    if x is None:
        raise ValueError("x is None: pass an ndarray or a dict of ndarrays.")
    return tree_map(lambda leaf: np.array(leaf, dtype=np.float64), x)


def _scalar(out: Any) -> float:
    if isinstance(out, tuple):  # a loss's (value, grad): use the value
        out = out[0]
    if np.ndim(out) != 0:
        raise ValueError(f"f must return a scalar or a (value, grad) tuple, got shape {np.shape(out)}.")
    return float(out)


def numerical_grad(f: Callable[[Tree], Any], x: Tree, eps: float = 1e-6) -> Tree:
    r"""The central-difference gradient of a scalar function ``f`` at ``x``, element by element:

    .. math:: \big(\nabla f(x)\big)_i
              \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2 \varepsilon}

    ``x`` is an ndarray of any shape or a dict of ndarrays; the result has the same structure. ``f``
    returns a scalar, or a ``(value, grad)`` tuple as the losses of :mod:`descent.losses` do, in which case
    only the value is used. ``f`` is called on a float64 copy of ``x``, so ``x`` itself is never modified.
    Reference: ``torch.autograd.gradcheck`` uses the same central differences.

    >>> numerical_grad(lambda x: np.sum(x**2), np.array([1.0, -2.0])).round(6)
    array([ 2., -4.])
    >>> from descent.losses import mse
    >>> y = np.array([0.0, 0.0])
    >>> numerical_grad(lambda p: mse(p["w"] * 2.0, y), {"w": np.array([1.0, 3.0])})["w"].round(6)
    array([ 4., 12.])
    """
    eps = _checks.number("eps", eps, low=0.0, low_open=True, hint="Use a small step such as 1e-6.")
    x = _float64_copy(x)
    grads = tree_map(np.zeros_like, x)
    for leaf, grad in zip(tree_leaves(x), tree_leaves(grads), strict=True):
        for i in np.ndindex(leaf.shape):
            original = leaf[i]
            leaf[i] = original + eps
            f_plus = _scalar(f(x))
            leaf[i] = original - eps
            f_minus = _scalar(f(x))
            leaf[i] = original
            grad[i] = (f_plus - f_minus) / (2.0 * eps)
    return grads


def check_grad(f: Callable[[Tree], Any], grad_f: Callable[[Tree], Any], x: Tree, eps: float = 1e-6) -> float:
    r"""Relative error between ``grad_f(x)`` and the finite-difference gradient of ``f`` at ``x``:

    .. math:: \frac{\|g_\text{analytic} - g_\text{numeric}\|_2}
                   {\max(\|g_\text{analytic}\|_2 + \|g_\text{numeric}\|_2,\ \text{tiny})}

    with norms over all leaves of the tree (:func:`descent.base.global_norm`). The value is 0 for a perfect
    match and at most 1. For a smooth function in float64, a correct gradient gives less than about
    :math:`10^{-6}` (typically :math:`10^{-9}`); a value above :math:`10^{-3}` means a bug, e.g. a
    gradient off by a factor 2 gives :math:`1/3`. Near a kink (``abs``, ``relu``, ``max``) a correct
    gradient can fail, so check away from kinks. ``grad_f`` may also return a ``(value, grad)`` tuple, as
    the losses do.
    Reference: CS231n, "Gradient checks"; ``torch.autograd.gradcheck``.

    >>> f = lambda x: np.sum(x**3)
    >>> check_grad(f, lambda x: 3 * x**2, np.array([1.0, 2.0])) < 1e-6
    True
    >>> round(check_grad(f, lambda x: 6 * x**2, np.array([1.0, 2.0])), 3)
    0.333
    """
    eps = _checks.number("eps", eps, low=0.0, low_open=True, hint="Use a small step such as 1e-6.")
    analytic = grad_f(_float64_copy(x))
    if isinstance(analytic, tuple):  # a loss's (value, grad): use the grad
        analytic = analytic[1]
    numeric = numerical_grad(f, x, eps)

    def difference(a, n):
        if np.shape(a) != np.shape(n):
            raise ValueError(f"grad_f returned shape {np.shape(a)} but x has shape {np.shape(n)}.")
        return np.asarray(a, dtype=np.float64) - n

    error = global_norm(tree_map(difference, analytic, numeric))
    scale = global_norm(analytic) + global_norm(numeric)
    return float(error / max(scale, np.finfo(np.float64).tiny))
