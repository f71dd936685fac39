r"""Optimisers with PyTorch's names, defaults and update rules, built as chains of small transforms.

Each named optimiser (:func:`sgd`, :func:`adagrad`, :func:`rmsprop`, :func:`adam`, :func:`adamw`) is a
:class:`~descent.base.GradientTransformation` assembled from the transforms below, read left to right:

=========  ==================================================================================================
optimiser  chain (a part in brackets is present only when its option is on)
=========  ==================================================================================================
sgd        [scale(-1)] → [add_decayed_weights(λ)] → [trace(β, τ, nesterov)] → scale_by_learning_rate(α)
adagrad    [scale(-1)] → [add_decayed_weights(λ)] → scale_by_adagrad(s₀, ε) → scale_by_learning_rate(α/(1+(t-1)η))
rmsprop    [scale(-1)] → [add_decayed_weights(λ)] → scale_by_rms(ρ, ε, centered) → [trace(β)] → scale_by_learning_rate
adam       [scale(-1)] → [add_decayed_weights(λ)] → scale_by_adam(β₁, β₂, ε, amsgrad) → scale_by_learning_rate(α)
adamw      [scale(-1)] → scale_by_adam(β₁, β₂, ε, amsgrad) → [add_decayed_weights(λ)] → scale_by_learning_rate(α)
=========  ==================================================================================================

``scale(-1)`` is ``maximize=True``. The state of a named optimiser is the tuple of its parts' states: a plain
Adam's is ``(ScaleByAdamState, ScaleByLearningRateState)``, and ``weight_decay`` or ``maximize`` put an
``EmptyState`` in front. :func:`~descent.base.find_state` finds a part whatever the options:
``find_state(state, ScaleByAdamState)`` holds Adam's ``count``, ``mu`` and ``nu``.

The only difference between Adam's L2 penalty and AdamW's decoupled weight decay is *where* λθ enters the
chain: before Adam's normalisation (so it is rescaled with the gradient) or after it (so every parameter decays
at the same rate α·λ). Wherever a learning rate is accepted, a schedule (any ``Callable[[int], float]`` taking
the step index from 0) is too: the t-th update (t from 1) uses ``lr(t - 1)``, as PyTorch does in the loop
``optimizer.step(); scheduler.step()``.

Reference: https://pytorch.org/docs/stable/optim.html (the algorithm boxes of each optimiser).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _checks
from .base import EmptyState, GradientTransformation, Tree, as_tree, chain, state_out, tree_map

Schedule = Callable[[int], float]


# --------------------------------------------------------------------------------------------- transforms


def scale(factor: float) -> GradientTransformation:
    r"""Multiply the updates by a constant: :math:`u \leftarrow c\,u`.

    >>> scale(-1.0).update(np.array([1.0, -2.0]), EmptyState())[0]
    array([-1.,  2.])
    """
    factor = _checks.number("factor", factor)

    def update(grads, state, params=None):
        return tree_map(lambda g: g * factor, grads), state

    return GradientTransformation(lambda params: EmptyState(), update)


def add_decayed_weights(weight_decay: float = 0.0) -> GradientTransformation:
    r"""Add the gradient of an L2 penalty :math:`\tfrac{\lambda}{2}\|\theta\|^2`, i.e.
    :math:`u \leftarrow u + \lambda\theta`.

    Placed before a normaliser (Adam) this is PyTorch's ``weight_decay``; placed after it, it is AdamW's
    decoupled weight decay (Loshchilov & Hutter, 2019, https://arxiv.org/abs/1711.05101).

    >>> add_decayed_weights(0.1).update(np.array([1.0]), EmptyState(), np.array([2.0]))[0]
    array([1.2])
    """
    weight_decay = _checks.number("weight_decay", weight_decay, low=0.0)

    def update(grads, state, params=None):
        if weight_decay == 0.0:
            return grads, state
        if params is None:
            raise ValueError("add_decayed_weights needs params: call update(grads, state, params).")
        return tree_map(lambda g, p: g + weight_decay * p, grads, params), state

    return GradientTransformation(lambda params: EmptyState(), update)


class TraceState(NamedTuple):
    """The momentum buffer :math:`b` as ``trace`` (PyTorch's ``momentum_buffer``) and ``count``, how many updates
    have filled it."""

    count: int
    trace: Tree


def trace(momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    r"""Heavy-ball momentum as in ``torch.optim.SGD``:

    .. math:: b_1 = g_1, \qquad b_t = \beta\, b_{t-1} + (1-\tau)\, g_t, \qquad
              u_t = \begin{cases} g_t + \beta\, b_t & \text{nesterov} \\ b_t & \text{otherwise.} \end{cases}

    The first step copies the gradient without dampening, exactly as PyTorch initialises its buffer.
    With ``momentum=0`` this is the identity (and keeps no buffer).

    >>> t = trace(momentum=0.9)
    >>> state = t.init(np.zeros(1))
    >>> u, state = t.update(np.array([1.0]), state)
    >>> u, state = t.update(np.array([1.0]), state)
    >>> u
    array([1.9])
    """
    momentum = _checks.number("momentum", momentum, low=0.0)
    dampening = _checks.number("dampening", dampening, low=0.0, high=1.0)
    if nesterov and (momentum == 0.0 or dampening != 0.0):
        raise ValueError(
            f"nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum!r} and "
            f"dampening={dampening!r}: set a momentum such as 0.9 and leave dampening at 0."
        )

    def init(params):
        return TraceState(0, None if momentum == 0.0 else tree_map(np.zeros_like, params))

    def update(grads, state, params=None):
        if momentum == 0.0:
            return grads, state
        if state.count == 0:
            buf = tree_map(lambda b, g: _copy(g, out=state_out(b)), state.trace, grads)
        else:
            buf = tree_map(lambda b, g: _accumulate(np.multiply(b, momentum, out=state_out(b)), g, 1.0 - dampening),
                           state.trace, grads)
        updates = tree_map(lambda g, b: g + momentum * b, grads, buf) if nesterov else buf
        return updates, TraceState(state.count + 1, buf)

    return GradientTransformation(init, update)


class ScaleByAdagradState(NamedTuple):
    """``sum``, the running sum of squared gradients :math:`s` (PyTorch's ``state_sum``)."""

    sum: Tree


def scale_by_adagrad(initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> GradientTransformation:
    r"""Adagrad's per-parameter scaling (Duchi, Hazan & Singer, 2011):

    .. math:: s_t = s_{t-1} + g_t^2, \qquad u_t = \frac{g_t}{\sqrt{s_t} + \varepsilon} .

    >>> t = scale_by_adagrad()
    >>> u, _ = t.update(np.array([3.0, -4.0]), t.init(np.zeros(2)))
    >>> np.round(u, 6)
    array([ 1., -1.])
    """
    initial_accumulator_value = _checks.number("initial_accumulator_value", initial_accumulator_value, low=0.0)
    eps = _checks.number("eps", eps, low=0.0)

    def init(params):
        return ScaleByAdagradState(tree_map(lambda p: np.full_like(p, initial_accumulator_value), params))

    def update(grads, state, params=None):
        total = tree_map(lambda s, g: np.add(s, g * g, out=state_out(s)), state.sum, grads)
        updates = tree_map(lambda g, s: _normalise(g, s, eps), grads, total)
        return updates, ScaleByAdagradState(total)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    """RMSprop's running means: ``square_avg`` of squared gradients, and ``grad_avg`` of gradients when centered
    (else ``None``)."""

    square_avg: Tree
    grad_avg: Tree | None


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8, centered: bool = False) -> GradientTransformation:
    r"""RMSprop's scaling (Hinton, Lecture 6e of *Neural Networks for Machine Learning*, 2012):

    .. math:: v_t = \rho v_{t-1} + (1-\rho) g_t^2, \qquad u_t = \frac{g_t}{\sqrt{v_t} + \varepsilon} ,

    with ρ = ``alpha``; centered, :math:`\bar g_t = \rho \bar g_{t-1} + (1-\rho) g_t` and
    :math:`v_t - \bar g_t^2` replaces
    :math:`v_t` under the root (an estimate of the variance instead of the second moment). Buffers start at 0.

    >>> t = scale_by_rms(alpha=0.5)
    >>> u, _ = t.update(np.array([2.0]), t.init(np.zeros(1)))
    >>> np.round(u, 6)   # 2 / sqrt(0.5 * 4)
    array([1.414214])
    """
    alpha = _checks.number("alpha", alpha, low=0.0, high=1.0)
    eps = _checks.number("eps", eps, low=0.0)

    def init(params):
        zeros = tree_map(np.zeros_like, params)
        return ScaleByRmsState(zeros, tree_map(np.zeros_like, params) if centered else None)

    def update(grads, state, params=None):
        square_avg = tree_map(lambda v, g: _ema(v, g, alpha, square=True), state.square_avg, grads)
        grad_avg = None
        variance = square_avg
        if centered:
            grad_avg = tree_map(lambda m, g: _ema(m, g, alpha), state.grad_avg, grads)
            variance = tree_map(lambda v, m: v - m * m, square_avg, grad_avg)
        updates = tree_map(lambda g, v: _normalise(g, v, eps), grads, variance)
        return updates, ScaleByRmsState(square_avg, grad_avg)

    return GradientTransformation(init, update)


class ScaleByAdamState(NamedTuple):
    """Adam's step count and moment estimates: ``mu`` (first), ``nu`` (second), ``nu_max`` (amsgrad, else None)."""

    count: int
    mu: Tree
    nu: Tree
    nu_max: Tree | None


def scale_by_adam(betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                  amsgrad: bool = False) -> GradientTransformation:
    r"""Adam's scaling (Kingma & Ba, 2015, https://arxiv.org/abs/1412.6980), with PyTorch's placement of ε:

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

        u_t = \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \varepsilon} .

    With ``amsgrad`` (Reddi, Kale & Kumar, 2018) the running maximum :math:`\hat v_t = \max(\hat v_{t-1}, v_t)`
    replaces :math:`v_t` in the denominator.

    >>> t = scale_by_adam()
    >>> u, state = t.update(np.array([0.5, -3.0]), t.init(np.zeros(2)))
    >>> np.round(u, 6)   # the first step has magnitude ~1 whatever the gradient's scale
    array([ 1., -1.])
    """
    beta1, beta2 = _betas(betas)
    eps = _checks.number("eps", eps, low=0.0)

    def init(params):
        def zeros():
            return tree_map(np.zeros_like, params)

        return ScaleByAdamState(0, zeros(), zeros(), zeros() if amsgrad else None)

    def update(grads, state, params=None):
        count = state.count + 1
        mu = tree_map(lambda m, g: _ema(m, g, beta1), state.mu, grads)
        nu = tree_map(lambda v, g: _ema(v, g, beta2, square=True), state.nu, grads)
        nu_max = tree_map(lambda old, v: np.maximum(old, v, out=state_out(old)), state.nu_max, nu) if amsgrad else None
        bias1 = 1.0 - beta1**count
        bias2_sqrt = (1.0 - beta2**count) ** 0.5

        def direction(m, v):  # m̂ / (√v̂ + ε) = (m / (√v + ε√(1-β₂ᵗ))) · √(1-β₂ᵗ) / (1-β₁ᵗ)
            out = np.sqrt(v, out=np.empty_like(v))
            out += eps * bias2_sqrt
            np.divide(m, out, out=out)
            out *= bias2_sqrt / bias1
            return out

        updates = tree_map(direction, mu, nu_max if amsgrad else nu)
        return updates, ScaleByAdamState(count, mu, nu, nu_max)

    return GradientTransformation(init, update)


class ScaleByLearningRateState(NamedTuple):
    """``count``, how many updates have been made: the step index handed to the schedule."""

    count: int


def scale_by_learning_rate(lr: float | Schedule) -> GradientTransformation:
    r"""Turn a direction into a descent step: :math:`u_t \leftarrow -\alpha_t\, u_t`, where :math:`\alpha_t` is
    ``lr`` or, for a schedule, ``lr(t - 1)``.

    >>> t = scale_by_learning_rate(lambda step: 0.1 / (step + 1))
    >>> state = t.init(np.zeros(1))
    >>> u, state = t.update(np.array([1.0]), state)
    >>> u, state = t.update(np.array([1.0]), state)
    >>> u
    array([-0.05])
    """
    schedule = _as_schedule(_checks.learning_rate("lr", lr))

    def update(grads, state, params=None):
        step_size = -_checks.number("lr", schedule(state.count), low=0.0,
                                    hint=f"The schedule returned it at step {state.count}.")
        return tree_map(lambda u: u * step_size, grads), ScaleByLearningRateState(state.count + 1)

    return GradientTransformation(lambda params: ScaleByLearningRateState(0), update)


# ----------------------------------------------------------------------------------------- the optimisers


def sgd(lr: float | Schedule = 1e-3, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
        nesterov: bool = False, *, maximize: bool = False) -> GradientTransformation:
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``:

    .. math::

        g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad b_t = \beta b_{t-1} + (1-\tau) g_t \;(b_1 = g_1),

        d_t = g_t + \beta b_t \text{ if nesterov else } b_t, \qquad \theta_t = \theta_{t-1} - \alpha\, d_t .

    Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html (momentum after Polyak, 1964;
    Nesterov's variant as in Sutskever et al., 2013).

    >>> from descent.base import apply_updates
    >>> opt = sgd(lr=0.1, momentum=0.9)
    >>> params = np.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> for _ in range(2):
    ...     updates, state = opt.update(2 * params, state, params)   # the gradient of ||θ||²
    ...     params = apply_updates(params, updates)
    >>> params
    array([ 0.46, -0.92])
    """
    return _validated(*_maximize(maximize), *_unless(weight_decay == 0, add_decayed_weights(weight_decay)),
                      *_unless(momentum == 0, trace(momentum, dampening, nesterov)), scale_by_learning_rate(lr))


def adagrad(lr: float | Schedule = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
            initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
            maximize: bool = False) -> GradientTransformation:
    r"""Adagrad, as ``torch.optim.Adagrad``:

    .. math::

        g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad s_t = s_{t-1} + g_t^2 \;(s_0 = \text{initial value}),

        \theta_t = \theta_{t-1} - \frac{\alpha}{1 + (t-1)\eta}\,\frac{g_t}{\sqrt{s_t} + \varepsilon} .

    Reference: Duchi, Hazan & Singer (2011), *Adaptive Subgradient Methods*;
    https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html

    >>> opt = adagrad(lr=0.5)
    >>> updates, state = opt.update(np.array([10.0, 0.1]), opt.init(np.zeros(2)), np.zeros(2))
    >>> np.round(updates, 6)   # every coordinate moves by lr on the first step
    array([-0.5, -0.5])
    """
    lr = _checks.learning_rate("lr", lr)
    lr_decay = _checks.number("lr_decay", lr_decay, low=0.0)
    schedule = _as_schedule(lr)
    decayed = schedule if lr_decay == 0.0 else (lambda step: schedule(step) / (1.0 + step * lr_decay))
    return _validated(*_maximize(maximize), *_unless(weight_decay == 0, add_decayed_weights(weight_decay)),
                      scale_by_adagrad(initial_accumulator_value, eps), scale_by_learning_rate(decayed))


def rmsprop(lr: float | Schedule = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
            momentum: float = 0.0, centered: bool = False, *, maximize: bool = False) -> GradientTransformation:
    r"""RMSprop, as ``torch.optim.RMSprop``:

    .. math::

        v_t = \rho v_{t-1} + (1-\rho) g_t^2, \qquad D_t = \sqrt{v_t} + \varepsilon,

        b_t = \beta b_{t-1} + g_t / D_t \;(b_0 = 0), \qquad \theta_t = \theta_{t-1} - \alpha\, b_t ,

    where ρ is the smoothing constant PyTorch calls ``alpha`` (α stays the learning rate, as everywhere in the
    course). Without momentum :math:`\theta_t = \theta_{t-1} - \alpha\, g_t / D_t`; centered,
    :math:`v_t - \bar g_t^2` replaces :math:`v_t` in :math:`D_t`. PyTorch adds ε *outside* the square root.

    Reference: Hinton, *Neural Networks for Machine Learning*, lecture 6e (2012);
    https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html

    >>> opt = rmsprop(lr=0.01)
    >>> updates, state = opt.update(np.array([1.0]), opt.init(np.zeros(1)), np.zeros(1))
    >>> np.round(updates, 6)   # -0.01 / sqrt(0.01): the first steps are large while v warms up from 0
    array([-0.1])
    """
    return _validated(*_maximize(maximize), *_unless(weight_decay == 0, add_decayed_weights(weight_decay)),
                      scale_by_rms(alpha, eps, centered), *_unless(momentum == 0, trace(momentum)),
                      scale_by_learning_rate(lr))


def adam(lr: float | Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False) -> GradientTransformation:
    r"""Adam, as ``torch.optim.Adam`` (``weight_decay`` is an L2 penalty added to the gradient):

    .. math::

        g_t \leftarrow g_t + \lambda\theta_{t-1}, \qquad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

        \theta_t = \theta_{t-1} - \alpha \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon} .

    Reference: Kingma & Ba (2015), https://arxiv.org/abs/1412.6980;
    https://pytorch.org/docs/stable/generated/torch.optim.Adam.html

    >>> opt = adam(lr=0.1)
    >>> state = opt.init(np.zeros(2))
    >>> updates, state = opt.update(np.array([0.5, -50.0]), state, np.zeros(2))
    >>> np.round(updates, 6)   # a first step of size lr in every coordinate
    array([-0.1,  0.1])
    >>> from descent.base import find_state
    >>> moments = find_state(state, ScaleByAdamState)   # state[0] here; find_state works with any options
    >>> moments.count, moments.mu
    (1, array([ 0.05, -5.  ]))
    """
    return _validated(*_maximize(maximize), *_unless(weight_decay == 0, add_decayed_weights(weight_decay)),
                      scale_by_adam(betas, eps, amsgrad), scale_by_learning_rate(lr))


def adamw(lr: float | Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> GradientTransformation:
    r"""AdamW, as ``torch.optim.AdamW``: Adam with weight decay decoupled from the gradient,

    .. math:: \theta_t = \theta_{t-1}(1 - \alpha\lambda)
              - \alpha \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \varepsilon},

    with :math:`m_t, v_t` computed from the raw gradient. Every weight shrinks by the same factor whatever its
    gradient history, unlike Adam's L2 penalty, which Adam's normalisation weakens for large-gradient weights.

    Reference: Loshchilov & Hutter (2019), https://arxiv.org/abs/1711.05101;
    https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html

    >>> opt = adamw(lr=0.1, weight_decay=0.5)
    >>> params = np.array([2.0])
    >>> updates, _ = opt.update(np.array([1.0]), opt.init(params), params)
    >>> np.round(updates, 6)   # -lr·λ·θ - lr·1 = -0.1 - 0.1
    array([-0.2])
    """
    return _validated(*_maximize(maximize), scale_by_adam(betas, eps, amsgrad),
                      *_unless(weight_decay == 0, add_decayed_weights(weight_decay)), scale_by_learning_rate(lr))


# ---------------------------------------------------------------------------------------------- helpers


def _validated(*transforms: GradientTransformation) -> GradientTransformation:
    """Chain the transforms behind a check that grads match params leaf for leaf (shape and kind)."""
    inner = chain(*transforms)

    def init(params):
        return inner.init(as_tree(params))

    def update(grads, state, params=None):
        if params is not None:
            tree_map(_check_leaf, grads, params)
        return inner.update(grads, state, params)

    return GradientTransformation(init, update)


def _check_leaf(grad, param) -> None:
    if np.shape(grad) != np.shape(param):
        raise ValueError(
            f"grads has shape {np.shape(grad)} where params has shape {np.shape(param)}: "
            "pass one gradient per parameter, of the same shape."
        )


def _normalise(grad: np.ndarray, square: np.ndarray, eps: float) -> np.ndarray:
    """grad / (√square + ε) in a single new array."""
    out = np.sqrt(square, out=np.empty_like(square))
    out += eps
    return np.divide(grad, out, out=out)


def _copy(value: np.ndarray, out: np.ndarray) -> np.ndarray:
    """value, copied into ``out``."""
    np.copyto(out, value)
    return out


def _accumulate(out: np.ndarray, value: np.ndarray, weight: float) -> np.ndarray:
    """out + weight·value, written into ``out``."""
    out += value if weight == 1.0 else weight * value
    return out


def _ema(average: np.ndarray, value: np.ndarray, decay: float, *, square: bool = False) -> np.ndarray:
    """One step of an exponential moving average, decay·average + (1 − decay)·value (of value² if ``square``),
    computed as PyTorch's ``lerp_`` does, average + (1 − decay)·(value − average), into
    :func:`~descent.base.state_out`. (The shorter decay·(average − value) + value cancels: at the first step it
    is value − 0.999·value, which loses three of float32's seven digits.) The step is formed in the new array
    itself, or in a scratch array when the new array is the old one (memory traffic is what costs)."""
    out = state_out(average)
    step = np.empty_like(average) if out is average else out
    if square:
        np.multiply(value, value, out=step)
        step -= average
    else:
        np.subtract(value, average, out=step)
    step *= 1.0 - decay
    return np.add(average, step, out=out)


def _maximize(maximize: bool) -> tuple[GradientTransformation, ...]:
    return (scale(-1.0),) if maximize else ()


def _unless(idle: bool, transform: GradientTransformation) -> tuple[GradientTransformation, ...]:
    """Leave out a transform that would do nothing, so the state shows only what the optimiser keeps."""
    return () if idle else (transform,)


def _as_schedule(lr: float | Schedule) -> Schedule:
    return lr if callable(lr) else (lambda step: lr)


def _betas(betas) -> tuple[float, float]:
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"betas={betas!r} is invalid: betas must be a pair (beta1, beta2) such as (0.9, 0.999).")
    return (_checks.number("betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
            _checks.number("betas[1]", betas[1], low=0.0, high=1.0, high_open=True))
