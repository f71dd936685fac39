r"""The shape of every optimiser: a pair of pure functions over parameter trees.

A *tree* is an ndarray or a dict (possibly nested) of ndarrays: model parameters, their gradients and the
updates an optimiser proposes all share one structure. An optimiser is a :class:`GradientTransformation`,

.. math:: \text{state}_0 = \operatorname{init}(\theta_0), \qquad
          (u_t, \text{state}_t) = \operatorname{update}(g_t, \text{state}_{t-1}, \theta_{t-1}), \qquad
          \theta_t = \theta_{t-1} + u_t ,

so a whole training step is ``updates, state = opt.update(grads, state, params)`` followed by
``params = apply_updates(params, updates)``. Nothing is modified in place: every call returns new arrays,
which is what lets a learner print, compare and replay the states. The design follows optax
(https://optax.readthedocs.io), the algorithms follow ``torch.optim``.

The one exception is :func:`step_in_place`, PyTorch's memory model for large models: the same transforms,
but the state's arrays and the params are overwritten instead of copied. Keeping the old and the new arrays
alive doubles the memory a step touches, which on a million parameters costs as much as the arithmetic.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import _checks

Tree = Any  # an ndarray or a (nested) dict of ndarrays


class GradientTransformation(NamedTuple):
    """An optimiser, or one small piece of one: ``init(params) -> state`` and
    ``update(grads, state, params) -> (updates, state)``.

    >>> from descent import sgd
    >>> opt = sgd(lr=0.1)
    >>> state = opt.init(np.array([1.0]))
    >>> updates, state = opt.update(np.array([2.0]), state, np.array([1.0]))
    >>> updates
    array([-0.2])
    """

    init: Callable[[Tree], Any]
    update: Callable[[Tree, Any, Tree], tuple[Tree, Any]]


class EmptyState(NamedTuple):
    """The state of a transform that remembers nothing."""


def tree_map(fn: Callable[..., Any], tree: Tree, *rest: Tree) -> Tree:
    """Apply ``fn`` leaf by leaf to one or more trees of the same structure.

    >>> tree_map(lambda a, b: a + b, {"w": np.ones(2)}, {"w": np.ones(2)})
    {'w': array([2., 2.])}
    """
    if isinstance(tree, dict):
        for other in rest:
            if not isinstance(other, dict) or other.keys() != tree.keys():
                raise ValueError(
                    f"tree structures differ: keys {sorted(tree)} vs "
                    f"{sorted(other) if isinstance(other, dict) else type(other).__name__}; "
                    "grads, params and updates must have the same keys."
                )
        return {key: tree_map(fn, tree[key], *(other[key] for other in rest)) for key in tree}
    return fn(tree, *rest)


def tree_leaves(tree: Tree) -> list[np.ndarray]:
    """The arrays of a tree in key order.

    >>> tree_leaves({"b": np.zeros(1), "w": np.ones(2)})
    [array([0.]), array([1., 1.])]
    """
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in tree_leaves(tree[key])]
    return [tree]


def as_tree(tree: Tree, name: str = "params") -> Tree:
    """Return a copy of ``tree`` whose leaves are float ndarrays, checking the structure on the way.

    Integer arrays become float64; float32 stays float32 (as in PyTorch, the dtype is the caller's choice).

    >>> as_tree({"w": [1, 2]})
    {'w': array([1., 2.])}
    """

    def leaf(x):
        array = np.array(x)
        if array.dtype.kind in "biu":
            array = array.astype(float)
        if array.dtype.kind not in "fc":
            raise ValueError(f"{name} must hold numbers, got an array of dtype {array.dtype}.")
        return array

    if tree is None:
        raise ValueError(f"{name} is None: pass an ndarray or a dict of ndarrays.")
    return tree_map(leaf, tree)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    r"""Compose transforms left to right: each one's updates are the next one's input.

    .. math:: u = T_k(\dots T_2(T_1(g)))

    This is how named optimisers are built, e.g. Adam is
    ``chain(scale_by_adam(...), scale_by_learning_rate(lr))`` and clipping goes first:
    ``chain(clip_by_global_norm(1.0), adam(1e-3))``. The state is the tuple of the parts' states.

    >>> from descent import clip_by_value, sgd
    >>> opt = chain(clip_by_value(1.0), sgd(lr=0.5))
    >>> updates, _ = opt.update(np.array([3.0]), opt.init(np.zeros(1)), np.zeros(1))
    >>> updates
    array([-0.5])
    """
    for i, transform in enumerate(transforms):
        if not isinstance(transform, GradientTransformation):
            raise ValueError(
                f"chain argument {i} is a {type(transform).__name__}, not a GradientTransformation: "
                "call the optimiser (e.g. sgd(lr=0.1)) before passing it."
            )

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        new_state = []
        for transform, part in zip(transforms, state, strict=True):
            grads, part = transform.update(grads, part, params)
            new_state.append(part)
        return grads, tuple(new_state)

    return GradientTransformation(init, update)


def find_state(state: Any, kind: type) -> Any:
    r"""The part of an optimiser's ``state`` that is a ``kind``, such as Adam's
    :class:`~descent.optim.ScaleByAdamState`, wherever the optimiser's options or a :func:`chain` put it.

    The state of a chain is the tuple of its parts' states, and a named optimiser leaves out the parts its
    options switch off, so a position such as ``state[0]`` moves when you add weight decay or clipping; this
    lookup does not. It raises ``ValueError`` when ``state`` holds no ``kind``, or more than one.

    >>> from descent import adam, clip_by_global_norm
    >>> from descent.optim import ScaleByAdamState
    >>> opt = chain(clip_by_global_norm(1.0), adam(lr=0.1, weight_decay=0.01))
    >>> state = opt.init(np.zeros(2))
    >>> [type(part).__name__ for part in state[1]]   # Adam's state is no longer state[0]
    ['EmptyState', 'ScaleByAdamState', 'ScaleByLearningRateState']
    >>> find_state(state, ScaleByAdamState).count
    0
    """
    if not isinstance(kind, type):
        raise ValueError(f"kind={kind!r} is invalid: pass a state class such as descent.optim.ScaleByAdamState.")
    found = [part for part in _state_parts(state) if isinstance(part, kind)]
    if len(found) != 1:
        parts = ", ".join(type(part).__name__ for part in _state_parts(state)) or "nothing"
        raise ValueError(f"the state holds {len(found)} {kind.__name__} (its parts: {parts}): find_state needs "
                         "exactly one; look at the state's parts by position instead.")
    return found[0]


def _state_parts(state: Any) -> list:
    """The states of the single transforms in ``state``, depth first (a chain's state is a plain tuple of its
    parts' states; each part's own state is a NamedTuple)."""
    if isinstance(state, tuple) and not hasattr(state, "_fields"):
        return [leaf for part in state for leaf in _state_parts(part)]
    return [state]


def apply_updates(params: Tree, updates: Tree) -> Tree:
    r"""Return new parameters :math:`\theta + u`; neither argument is modified.

    >>> apply_updates({"w": np.array([1.0, 2.0])}, {"w": np.array([-0.5, 0.5])})
    {'w': array([0.5, 2.5])}
    """
    def add(p, u):
        if np.shape(p) != np.shape(u):
            raise ValueError(f"updates of shape {np.shape(u)} do not match params of shape {np.shape(p)}.")
        out = np.empty_like(p, dtype=np.result_type(p, 1.0))  # p's float dtype; 0-d stays an array
        return np.add(p, u, out=out)

    return tree_map(add, params, updates)


def step_in_place(opt: GradientTransformation, grads: Tree, state: Any, params: Tree) -> Any:
    r"""One training step the way ``optimizer.step()`` takes it: :math:`\theta \leftarrow \theta + u` written
    into ``params``, and the optimiser's buffers (Adam's ``mu`` and ``nu``, SGD's momentum) updated in place.

    The numbers are exactly those of ``opt.update`` and :func:`apply_updates`; only the memory differs: the
    arrays of ``params`` and of ``state`` are reused, so the old values are gone (also when the step raises
    part-way, e.g. on a schedule's negative rate). It returns the new state (its counters are new): use that for
    the next step. Prefer the pure pair for learning and debugging; use this when the params are large (1.2-1.7x
    faster than the pure pair on a million parameters, see ``benchmarks/bench_optim.py``).
    Reference: https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.step.html

    >>> from descent import sgd
    >>> params = np.array([1.0, 2.0])
    >>> opt = sgd(lr=0.1, momentum=0.9)
    >>> state = opt.init(params)
    >>> state = step_in_place(opt, np.array([1.0, 1.0]), state, params)
    >>> params
    array([0.9, 1.9])
    """
    for leaf in tree_leaves(params):
        problem = (f"a {type(leaf).__name__}" if not isinstance(leaf, np.ndarray)
                   else f"an ndarray of dtype {leaf.dtype}" if leaf.dtype.kind not in "fc"
                   else "a read-only ndarray" if not leaf.flags.writeable else None)
        if problem:
            raise ValueError(f"step_in_place writes into params, so every leaf must be a writeable float ndarray; "
                             f"got {problem}. Make one with np.array(x, dtype=float) before the first step.")
    token = _IN_PLACE.set(True)
    try:
        updates, state = opt.update(grads, state, params)
    finally:
        _IN_PLACE.reset(token)
    tree_map(lambda p, u: np.add(p, u, out=p), params, updates)
    return state


_IN_PLACE = contextvars.ContextVar("descent_in_place", default=False)


def state_out(old: np.ndarray) -> np.ndarray:
    """The array a transform writes a new state buffer into: ``old`` itself inside :func:`step_in_place`, a
    new array otherwise. Whatever writes into it must read ``old`` before overwriting it, element by element.

    >>> old = np.zeros(2)
    >>> state_out(old) is old
    False
    """
    return old if _IN_PLACE.get() else np.empty_like(old)


def global_norm(tree: Tree, norm_type: float = 2.0) -> float:
    r"""The p-norm of all leaves taken together, as ``torch.nn.utils.get_total_norm`` computes it:

    .. math:: \|g\|_p = \big\|\,(\|g_1\|_p, \dots, \|g_k\|_p)\,\big\|_p ,
              \qquad \|g\|_\infty = \max_i \max_j |g_{ij}| .

    >>> global_norm({"a": np.array([3.0]), "b": np.array([4.0])})
    5.0
    >>> global_norm(np.array([-3.0, 2.0]), norm_type=float("inf"))
    3.0
    """
    p = _checks.number("norm_type", norm_type, low=0.0, low_open=True, hint="Use 1.0, 2.0 or float('inf').")
    norms = np.array([_vector_norm(leaf, p) for leaf in tree_leaves(tree)])
    return float(_vector_norm(norms, p))


def _vector_norm(x: np.ndarray, p: float) -> float:
    x = np.abs(np.ravel(x))
    if x.size == 0:
        return 0.0
    if p == np.inf:
        return float(x.max())
    if p == 2.0:
        return float(np.sqrt(np.dot(x, x)))
    if p == 1.0:
        return float(x.sum())
    return float(np.sum(x**p) ** (1.0 / p))
