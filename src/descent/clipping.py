r"""Gradient clipping: bound the step before the optimiser sees it.

:func:`clip_grad_norm` is the functional form of ``torch.nn.utils.clip_grad_norm_``;
:func:`clip_by_global_norm` and :func:`clip_by_value` are the same operations as transforms, placed first
in a chain: ``chain(clip_by_global_norm(1.0), adam(1e-3))``. Nothing is modified in place: every call
returns new arrays of the same dtypes.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from .base import EmptyState, GradientTransformation, Tree, as_tree, global_norm, tree_map


def clip_grad_norm(grads: Tree, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> tuple[Tree, float]:
    r"""Rescale ``grads`` so that their global p-norm is at most ``max_norm``; return
    ``(clipped_grads, total_norm)``, where ``total_norm`` is measured *before* clipping.
    As ``torch.nn.utils.clip_grad_norm_``:

    .. math:: \|g\|_p = \big\|(\|g_1\|_p, \dots, \|g_k\|_p)\big\|_p, \qquad
              g_i \leftarrow g_i \cdot \min\!\Big(\frac{c}{\|g\|_p + 10^{-6}},\ 1\Big)

    with :math:`c` = ``max_norm`` and :math:`p` = ``norm_type`` (``float('inf')`` for the largest
    absolute entry). The direction of the gradient never changes, only its length. If the total norm is
    NaN or infinite, ``error_if_nonfinite=True`` raises (a ``ValueError``; PyTorch raises a
    ``RuntimeError``, but here all bad input is a ``ValueError``); otherwise, as in PyTorch, the
    gradients are scaled anyway and become 0 or NaN.

    >>> clipped, total = clip_grad_norm({"a": np.array([3.0]), "b": np.array([4.0])}, max_norm=1.0)
    >>> total, clipped["a"].round(4), clipped["b"].round(4)
    (5.0, array([0.6]), array([0.8]))
    """
    grads = as_tree(grads, "grads")
    max_norm = _checks.number("max_norm", max_norm, low=0.0, hint="It is the largest allowed norm, e.g. 1.0.")
    total = global_norm(grads, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise ValueError(
            f"the total {norm_type}-norm of the gradients is {total}, so they cannot be clipped: look for "
            "NaN or infinity in the grads (often a diverging loss or a too-large lr), or pass "
            "error_if_nonfinite=False to scale them anyway."
        )
    coef = float(np.minimum(max_norm / (total + 1e-6), 1.0))  # NaN stays NaN, as torch.clamp
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, silently, as in PyTorch
        return tree_map(lambda g: np.multiply(g, coef, dtype=g.dtype), grads), total


def clip_by_global_norm(max_norm: float, norm_type: float = 2.0) -> GradientTransformation:
    r"""A transform that clips the incoming gradients to global p-norm ``max_norm`` with
    :func:`clip_grad_norm` (``torch.nn.utils.clip_grad_norm_``); place it first in a ``chain``:

    .. math:: u = g \cdot \min\!\Big(\frac{c}{\|g\|_p + 10^{-6}},\ 1\Big)

    >>> clip = clip_by_global_norm(1.0)
    >>> updates, _ = clip.update(np.array([3.0, 4.0]), clip.init(np.zeros(2)))
    >>> updates.round(4)
    array([0.6, 0.8])
    """
    max_norm = _checks.number("max_norm", max_norm, low=0.0, hint="It is the largest allowed norm, e.g. 1.0.")
    global_norm(np.zeros(1), norm_type)  # validates norm_type now rather than at the first update

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        return clip_grad_norm(grads, max_norm, norm_type)[0], state

    return GradientTransformation(init, update)


def clip_by_value(clip_value: float) -> GradientTransformation:
    r"""A transform that clamps every gradient entry to :math:`[-v, v]`, as ``torch.nn.utils.clip_grad_value_``;
    place it first in a ``chain``:

    .. math:: u_j = \min\big(\max(g_j, -v),\ v\big)

    Unlike norm clipping, this can change the direction of the gradient.

    >>> clip = clip_by_value(1.0)
    >>> updates, _ = clip.update(np.array([-3.0, 0.5, 2.0]), clip.init(np.zeros(3)))
    >>> updates
    array([-1. ,  0.5,  1. ])
    """
    v = _checks.number("clip_value", clip_value, low=0.0, hint="Gradients are clamped to [-clip_value, clip_value].")

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        return tree_map(lambda g: np.clip(g, -v, v).astype(g.dtype, copy=False), as_tree(grads, "grads")), state

    return GradientTransformation(init, update)
