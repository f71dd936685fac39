r"""Learning-rate schedules: the learning rate as a function of the step index.

A schedule is any ``Callable[[int], float]``. Called with the step index :math:`e = 0, 1, 2, \dots` it returns
the learning rate :math:`\alpha_e` that the matching ``torch.optim.lr_scheduler`` class reports through
``get_last_lr()`` after :math:`e` calls of ``scheduler.step()``. PyTorch updates most of its schedulers
recursively (each lr from the previous one); here every schedule is the closed form, so a schedule has no
hidden state and the same call always gives the same number. A schedule is accepted anywhere a learning
rate is: ``sgd(lr=cosine_annealing(0.1, T_max=100))``.

Reference: https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from . import _checks

Schedule = Callable[[int], float]


class _Schedule:
    """A pure function of the step whose ``repr`` is the call that made it."""

    def __init__(self, fn: Callable[[int], float], name: str, last_step: float = math.inf, **args):
        self._fn, self._name, self._last_step, self._args = fn, name, last_step, args

    def __call__(self, step: int) -> float:
        step = _checks.integer("step", step)
        if step > self._last_step:
            raise ValueError(
                f"step={step} is invalid: {self._name} is defined for steps 0..{self._last_step}, "
                "like PyTorch's scheduler, which raises when stepped further. Increase total_steps."
            )
        return float(self._fn(step))

    def __repr__(self) -> str:
        return f"{self._name}({', '.join(f'{k}={v!r}' for k, v in self._args.items())})"


def _lr(lr) -> float:
    return _checks.number("lr", lr, low=0.0, hint="Pass a small positive number such as 0.01.")


def constant(lr: float) -> Schedule:
    r"""The same learning rate at every step, :math:`\alpha_e = \alpha`.

    This is what a plain number means; it is *not* PyTorch's ``ConstantLR``, which multiplies the lr by a
    factor until ``total_iters`` and then restores it (write that as ``join_schedules``).

    >>> [constant(0.1)(e) for e in range(3)]
    [0.1, 0.1, 0.1]
    """
    lr = _lr(lr)
    return _Schedule(lambda e: lr, "constant", lr=lr)


def step_lr(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Decay by :math:`\gamma` every ``step_size`` steps, as ``torch.optim.lr_scheduler.StepLR``:

    .. math:: \alpha_e = \alpha\, \gamma^{\lfloor e / s \rfloor}

    >>> [round(step_lr(0.1, 2)(e), 4) for e in range(5)]
    [0.1, 0.1, 0.01, 0.01, 0.001]
    """
    lr = _lr(lr)
    step_size = _checks.integer("step_size", step_size, low=1)
    gamma = _checks.number("gamma", gamma, low=0.0, low_open=True, hint="Values below 1 decay the lr.")
    return _Schedule(lambda e: lr * gamma ** (e // step_size), "step_lr", lr=lr, step_size=step_size, gamma=gamma)


def exponential_lr(lr: float, gamma: float) -> Schedule:
    r"""Decay by :math:`\gamma` every step, as ``torch.optim.lr_scheduler.ExponentialLR``:

    .. math:: \alpha_e = \alpha\, \gamma^{e}

    >>> [round(exponential_lr(1.0, 0.5)(e), 4) for e in range(4)]
    [1.0, 0.5, 0.25, 0.125]
    """
    lr = _lr(lr)
    gamma = _checks.number("gamma", gamma, low=0.0, low_open=True, hint="Values below 1 decay the lr.")
    return _Schedule(lambda e: lr * gamma**e, "exponential_lr", lr=lr, gamma=gamma)


def linear_lr(lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5) -> Schedule:
    r"""Scale the lr by a factor that moves linearly from ``start_factor`` to ``end_factor`` in ``total_iters``
    steps and then stays, as ``torch.optim.lr_scheduler.LinearLR``:

    .. math:: \alpha_e = \alpha \Big(s_0 + (s_1 - s_0)\,\frac{\min(e, T)}{T}\Big)

    With PyTorch's ranges :math:`0 < s_0 \le 1` and :math:`0 \le s_1 \le 1`.

    >>> [round(linear_lr(0.1, start_factor=0.5, total_iters=2)(e), 4) for e in range(4)]
    [0.05, 0.075, 0.1, 0.1]
    """
    lr = _lr(lr)
    s0 = _checks.number("start_factor", start_factor, low=0.0, high=1.0, low_open=True)
    s1 = _checks.number("end_factor", end_factor, low=0.0, high=1.0)
    total = _checks.integer("total_iters", total_iters, low=1)
    return _Schedule(lambda e: lr * (s0 + (s1 - s0) * min(total, e) / total), "linear_lr",
                     lr=lr, start_factor=s0, end_factor=s1, total_iters=total)


def cosine_annealing(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    r"""Cosine annealing from :math:`\alpha` down to :math:`\eta_{\min}` in ``T_max`` steps, as
    ``torch.optim.lr_scheduler.CosineAnnealingLR`` (Loshchilov & Hutter, SGDR, https://arxiv.org/abs/1608.03983):

    .. math:: \alpha_e = \eta_{\min} + \tfrac12(\alpha - \eta_{\min})\big(1 + \cos(\pi e / T)\big)

    **Not clamped at** :math:`T`: like PyTorch, the cosine continues past ``T_max``, so the lr rises
    again to :math:`\alpha` at :math:`2T` (period :math:`2T`). Stop training at ``T_max`` or use
    :func:`cosine_warm_restarts` for deliberate restarts.

    >>> [round(cosine_annealing(1.0, T_max=2)(e), 4) for e in range(5)]
    [1.0, 0.5, 0.0, 0.5, 1.0]
    """
    lr = _lr(lr)
    T_max = _checks.integer("T_max", T_max, low=1)
    eta_min = _checks.number("eta_min", eta_min, low=0.0)
    return _Schedule(lambda e: eta_min + (lr - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2,
                     "cosine_annealing", lr=lr, T_max=T_max, eta_min=eta_min)


def cosine_warm_restarts(lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> Schedule:
    r"""Cosine annealing restarted from :math:`\alpha` every :math:`T_i` steps, with periods
    :math:`T_i = T_0\,T_{\mathrm{mult}}^{\,i}`, as ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``
    stepped without an epoch argument (SGDR, https://arxiv.org/abs/1608.03983):

    .. math:: \alpha_e = \eta_{\min} + \tfrac12(\alpha - \eta_{\min})\big(1 + \cos(\pi\, T_{cur} / T_i)\big)

    where :math:`T_{cur}` counts the steps since the last restart (exact integers, no logarithms).

    >>> [round(cosine_warm_restarts(1.0, T_0=2)(e), 4) for e in range(5)]
    [1.0, 0.5, 1.0, 0.5, 1.0]
    """
    lr = _lr(lr)
    T_0 = _checks.integer("T_0", T_0, low=1)
    T_mult = _checks.integer("T_mult", T_mult, low=1)
    eta_min = _checks.number("eta_min", eta_min, low=0.0)

    def schedule(e):
        T_cur, T_i = (e % T_0, T_0) if T_mult == 1 else (e, T_0)
        while T_cur >= T_i:
            T_cur, T_i = T_cur - T_i, T_i * T_mult
        return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2

    return _Schedule(schedule, "cosine_warm_restarts", lr=lr, T_0=T_0, T_mult=T_mult, eta_min=eta_min)


def one_cycle(max_lr: float, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
              div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False) -> Schedule:
    r"""The 1cycle policy (Smith & Topin, https://arxiv.org/abs/1708.07120), exactly as
    ``torch.optim.lr_scheduler.OneCycleLR``: from :math:`\alpha_0 = \alpha_{\max}/d` up to
    :math:`\alpha_{\max}` by step :math:`p N - 1`, then down to :math:`\alpha_0 / d_f` at step :math:`N - 1`
    (:math:`N` = ``total_steps``, :math:`p` = ``pct_start``, :math:`d` = ``div_factor``,
    :math:`d_f` = ``final_div_factor``). Within a phase from step :math:`a` to :math:`b`, with
    :math:`t = (e - a)/(b - a)`, the lr goes from :math:`\alpha_s` to :math:`\alpha_f` by

    .. math:: \text{cos: } \alpha_f + \tfrac12(\alpha_s - \alpha_f)\big(1 + \cos \pi t\big), \qquad
              \text{linear: } \alpha_s + (\alpha_f - \alpha_s)\, t .

    With ``three_phase=True`` it goes up until :math:`pN - 1`, back down to :math:`\alpha_0` at
    :math:`2pN - 2`, then to :math:`\alpha_0/d_f` at :math:`N - 1`. The phase boundaries are the same floats
    PyTorch computes. Like PyTorch, steps ``0..total_steps`` are allowed (the last one extrapolates the
    final phase, as ``scheduler.step()`` called ``total_steps`` times does) and later steps raise.
    Only the lr is scheduled: PyTorch's momentum cycling (``cycle_momentum``) is not reproduced.

    >>> s = one_cycle(1.0, total_steps=10)
    >>> [round(s(e), 4) for e in (0, 2, 9)]
    [0.04, 1.0, 0.0]
    """
    max_lr = _checks.number("max_lr", max_lr, low=0.0)
    total_steps = _checks.integer("total_steps", total_steps, low=1)
    pct = _checks.number("pct_start", pct_start, low=0.0, high=1.0)
    _checks.one_of("anneal_strategy", anneal_strategy, ("cos", "linear"))
    div_factor = _checks.number("div_factor", div_factor, low=0.0, low_open=True)
    final_div_factor = _checks.number("final_div_factor", final_div_factor, low=0.0, low_open=True)
    _checks.one_of("three_phase", three_phase, (False, True))

    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [(float(pct * total_steps) - 1, initial_lr, max_lr),
                  (float(2 * pct * total_steps) - 2, max_lr, initial_lr),
                  (total_steps - 1, initial_lr, min_lr)]
    else:
        phases = [(float(pct * total_steps) - 1, initial_lr, max_lr), (total_steps - 1, max_lr, min_lr)]

    def anneal(start, end, t):
        if anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * t) + 1)
        return (end - start) * t + start

    def schedule(e):
        start_step = 0.0
        for i, (end_step, start, end) in enumerate(phases):
            if e <= end_step or i == len(phases) - 1:
                if end_step == start_step:
                    raise ValueError(
                        f"one_cycle(total_steps={total_steps}, pct_start={pct}) has a phase of zero length "
                        f"ending at step {end_step:g}, so the lr at step {e} is undefined (PyTorch divides by "
                        "zero here). Choose pct_start so that pct_start * total_steps is not 1 (nor "
                        "total_steps, or (total_steps + 1) / 2 with three_phase)."
                    )
                return anneal(start, end, (e - start_step) / (end_step - start_step))
            start_step = end_step

    schedule(0)  # fail now, not mid-training, if the warm-up phase has zero length
    return _Schedule(schedule, "one_cycle", last_step=total_steps, max_lr=max_lr, total_steps=total_steps,
                     pct_start=pct, anneal_strategy=anneal_strategy, div_factor=div_factor,
                     final_div_factor=final_div_factor, three_phase=three_phase)


def warmup_cosine(lr: float, warmup_steps: int, total_steps: int, warmup_start_factor: float = 0.01,
                  eta_min: float = 0.0) -> Schedule:
    r"""Linear warm-up from :math:`s_0\alpha` to :math:`\alpha` over ``warmup_steps`` steps, then cosine
    annealing to :math:`\eta_{\min}` at ``total_steps``. With :math:`W` = ``warmup_steps`` and
    :math:`N` = ``total_steps``:

    .. math:: \alpha_e = \begin{cases}
              \alpha\big(s_0 + (1 - s_0)\, e / W\big) & e < W \\
              \eta_{\min} + \tfrac12(\alpha - \eta_{\min})\big(1 + \cos(\pi (e - W) / (N - W))\big) & e \ge W
              \end{cases}

    Defined as ``join_schedules([linear_lr(lr, warmup_start_factor, 1.0, warmup_steps),
    cosine_annealing(lr, total_steps - warmup_steps, eta_min)], [warmup_steps])``, which equals PyTorch's
    ``SequentialLR([LinearLR(...), CosineAnnealingLR(...)], milestones=[warmup_steps])``. The default
    ``warmup_start_factor=0.01`` starts the warm-up at 1% of the lr: close to the common "ramp from zero",
    while keeping PyTorch's ``LinearLR`` rule that the start factor be positive (so step 0 still moves).
    As in :func:`cosine_annealing`, the lr rises again if you go past ``total_steps``. ``warmup_steps=0`` means
    no warm-up: the schedule is then ``cosine_annealing(lr, total_steps, eta_min)``.

    >>> s = warmup_cosine(1.0, warmup_steps=2, total_steps=4, warmup_start_factor=0.5)
    >>> [round(s(e), 4) for e in range(5)]
    [0.5, 0.75, 1.0, 0.5, 0.0]
    >>> warmup_cosine(1.0, warmup_steps=0, total_steps=4)
    cosine_annealing(lr=1.0, T_max=4, eta_min=0.0)
    """
    warmup_steps = _checks.integer("warmup_steps", warmup_steps, low=0)
    total_steps = _checks.integer("total_steps", total_steps, low=warmup_steps + 1)
    _checks.number("warmup_start_factor", warmup_start_factor, low=0.0, high=1.0, low_open=True)
    if warmup_steps == 0:
        return cosine_annealing(lr, total_steps, eta_min)
    return join_schedules([linear_lr(lr, warmup_start_factor, 1.0, warmup_steps),
                           cosine_annealing(lr, total_steps - warmup_steps, eta_min)], [warmup_steps])


def join_schedules(schedules: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    r"""Run schedules one after another, as ``torch.optim.lr_scheduler.SequentialLR``: with milestones
    :math:`0 = m_0 < m_1 < \dots < m_k`, schedule :math:`i` is used from step :math:`m_i` on, restarted
    from its own step 0:

    .. math:: \alpha_e = \alpha^{(i)}_{\,e - m_i} \quad \text{for } m_i \le e < m_{i+1}

    >>> s = join_schedules([constant(0.1), exponential_lr(1.0, 0.5)], milestones=[2])
    >>> [round(s(e), 4) for e in range(5)]
    [0.1, 0.1, 1.0, 0.5, 0.25]
    """
    schedules, milestones = list(schedules), list(milestones)
    if not schedules:
        raise ValueError("schedules=[] is invalid: schedules must hold at least one schedule.")
    for i, schedule in enumerate(schedules):
        if not callable(schedule):
            raise ValueError(
                f"schedules[{i}]={schedule!r} is invalid: each schedule must be a callable step -> lr."
            )
    if len(milestones) != len(schedules) - 1:
        raise ValueError(
            f"milestones={milestones!r} is invalid: {len(schedules)} schedules need exactly "
            f"{len(schedules) - 1} milestones (the steps where the next schedule takes over)."
        )
    previous = 0
    for i, milestone in enumerate(milestones):
        _checks.integer(f"milestones[{i}]", milestone, low=previous + 1)
        previous = milestone
    starts = [0, *milestones]

    def schedule(e):
        i = sum(e >= m for m in milestones)
        return schedules[i](e - starts[i])

    return _Schedule(schedule, "join_schedules", schedules=schedules, milestones=milestones)
