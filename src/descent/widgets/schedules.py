r"""Chapter 6's explorer: a learning-rate schedule and the mini-batch run it drives.

The computations are pure and tested against the library: :func:`make_schedule` builds one of a few named
schedules of :mod:`descent.schedules` from the explorer's sliders, and :class:`NoisyLine` is mini-batch SGD on
linear regression, a problem small enough that a run of a few hundred steps takes about a millisecond. It
gives the same parameters as ``descent.train.fit(linear_regression(), sgd(lr=schedule), ...)``, step for
step, and the loss on the whole data set after every step, not only after every epoch.
"""

from __future__ import annotations

import numpy as np

from .. import _checks, plots
from .. import schedules as _schedules
from ..data import make_line, minibatches
from ..models import linear_regression
from ..plots import OKABE_ITO
from .explorer import Explorer, Slider, View, new_figure

SCHEDULES = ("constant", "step_lr", "cosine_annealing", "cosine_warm_restarts", "exponential_lr")


def make_schedule(name: str, lr: float, T: int, gamma: float = 0.1, warmup: int = 0):
    r"""One of :data:`SCHEDULES`, built from descent.schedules with one period ``T`` (in steps), after a
    linear warm-up of ``warmup`` steps from 1 % of ``lr`` when ``warmup > 0``:

    ========================  ====================================================================
    ``constant``              ``constant(lr)``
    ``step_lr``               ``step_lr(lr, step_size=T, gamma=gamma)``
    ``exponential_lr``        ``exponential_lr(lr, gamma ** (1 / T))``: a factor ``gamma`` per ``T`` steps
    ``cosine_annealing``      ``cosine_annealing(lr, T_max=T)``
    ``cosine_warm_restarts``  ``cosine_warm_restarts(lr, T_0=T)``
    ========================  ====================================================================

    The warm-up is ``join_schedules([linear_lr(lr, 0.01, 1.0, warmup), schedule], [warmup])``: the schedule
    starts (from its own step 0) when the warm-up ends, so ``cosine_annealing`` with a warm-up is
    ``warmup_cosine(lr, warmup, warmup + T)``.

    >>> make_schedule("step_lr", 0.1, T=100, gamma=0.5)(250)
    0.025
    """
    _checks.one_of("name", name, SCHEDULES)
    T = _checks.integer("T", T, low=2)
    warmup = _checks.integer("warmup", warmup, low=0)
    schedule = {
        "constant": lambda: _schedules.constant(lr),
        "step_lr": lambda: _schedules.step_lr(lr, step_size=T, gamma=gamma),
        "exponential_lr": lambda: _schedules.exponential_lr(lr, gamma ** (1 / T)),
        "cosine_annealing": lambda: _schedules.cosine_annealing(lr, T_max=T),
        "cosine_warm_restarts": lambda: _schedules.cosine_warm_restarts(lr, T_0=T),
    }[name]()
    if warmup == 0:
        return schedule
    return _schedules.join_schedules([_schedules.linear_lr(lr, 0.01, 1.0, warmup), schedule], [warmup])


def schedule_values(schedule, steps: int) -> np.ndarray:
    r"""The learning rates :math:`\alpha_0, \dots, \alpha_{\text{steps}-1}` of ``schedule``: update
    :math:`t` (from 1) uses :math:`\alpha_{t-1}`.

    >>> schedule_values(_schedules.step_lr(1.0, 2, 0.5), 4).tolist()
    [1.0, 1.0, 0.5, 0.5]
    """
    steps = _checks.integer("steps", steps, low=1)
    return np.array([schedule(e) for e in range(steps)])


class NoisyLine:
    r"""Mini-batch SGD on linear regression :math:`\hat y = w x + b` with the mean squared error, on
    ``make_line(n, noise=noise, seed=seed)``, in batches of ``batch_size`` shuffled exactly as
    :func:`descent.train.fit` shuffles them (same ``seed``), from ``linear_regression().init(1, seed)``.

    The batch gradient is affine in :math:`\theta = (w, b)`: :math:`g_t = A_t\theta - c_t` with
    :math:`A_t = \tfrac2B X_t^\top X_t` and :math:`c_t = \tfrac2B X_t^\top y_t` (:math:`X_t` with a column
    of ones). The batches are fixed once, so :meth:`run` only multiplies 2 x 2 matrices (:math:`A_t` is
    symmetric). The loss on the whole data set is
    :math:`L^\star + (\theta - \theta^\star)^\top H (\theta - \theta^\star)` with
    :math:`H = \tfrac1n X^\top X` and :math:`\theta^\star` the least-squares fit; :meth:`run` returns the
    **excess loss** :math:`L(\theta_t) - L^\star`, which is 0 exactly at the best line.
    """

    def __init__(self, n: int = 200, noise: float = 0.5, batch_size: int = 10, steps: int = 400, seed: int = 0):
        self.steps = _checks.integer("steps", steps, low=1)
        self.X, self.y = make_line(n=n, slope=2.0, intercept=1.0, noise=noise, seed=seed)
        Xb = np.hstack([self.X, np.ones((n, 1))])
        self.theta_star = np.linalg.lstsq(Xb, self.y, rcond=None)[0]
        self.best_loss = float(np.mean((Xb @ self.theta_star - self.y) ** 2))
        self.H = Xb.T @ Xb / n
        init = linear_regression().init(1, seed=seed)
        self.theta0 = np.array([init["w"][0], init["b"][0]])
        rng, A, c = np.random.default_rng(seed), [], []
        while len(A) < self.steps:
            for X_b, y_b in minibatches(self.X, self.y, batch_size, rng):
                Xbb = np.hstack([X_b, np.ones((len(X_b), 1))])
                A.append(2 / len(X_b) * Xbb.T @ Xbb)
                c.append(2 / len(X_b) * Xbb.T @ y_b)
        self.A, self.c = np.array(A[:self.steps]), np.array(c[:self.steps])
        # the loop of run() on Python floats: 20 times faster than on 2-vectors
        self._coefficients = np.column_stack([self.A[:, 0, 0], self.A[:, 0, 1], self.A[:, 1, 1],
                                              self.c[:, 0], self.c[:, 1]]).tolist()

    def run(self, lrs) -> tuple[np.ndarray, np.ndarray]:
        r"""Plain SGD :math:`\theta_t \leftarrow \theta_{t-1} - \alpha_{t-1} g_t` with the learning rates
        ``lrs`` (one per step, at most ``steps``). Returns the parameters :math:`(w, b)` before the first
        and after each step, shape ``(k + 1, 2)``, and the excess losses, shape ``(k + 1,)``. A run whose
        parameters pass :math:`10^{8}` in size stops there (it has diverged): the arrays are then shorter."""
        lrs = np.asarray(lrs, dtype=float)
        if lrs.ndim != 1 or len(lrs) > self.steps:
            raise ValueError(f"lrs has shape {lrs.shape}: pass at most {self.steps} learning rates, one per step.")
        w, b = (float(v) for v in self.theta0)
        path = [(w, b)]
        for lr, (a11, a12, a22, c1, c2) in zip(lrs.tolist(), self._coefficients, strict=False):
            w, b = w - lr * (a11 * w + a12 * b - c1), b - lr * (a12 * w + a22 * b - c2)
            if not (abs(w) < 1e8 and abs(b) < 1e8):  # also stops at nan
                break
            path.append((w, b))
        path = np.array(path)
        error = path - self.theta_star
        return path, np.einsum("ti,ij,tj->t", error, self.H, error)


def _loss_text(excess: np.ndarray, steps: int) -> str:
    if len(excess) <= steps:
        return f"diverged at step {len(excess)}"
    return f"at the end: {excess[-1]:.0e}"


def schedule_explorer() -> Explorer:
    r"""Chapter 6's explorer: a learning-rate schedule (left) and the loss of the run it drives (right).

    Sliders: ``schedule`` (a dropdown over :data:`SCHEDULES`, built by :func:`make_schedule`), ``lr``
    (the base learning rate, log scale, the main slider), ``T`` (the schedule's period in steps: ``T_max``,
    ``step_size``, ``T_0``), ``gamma`` (the factor of ``step_lr`` and ``exponential_lr`` per ``T`` steps)
    and ``warmup`` (steps of linear warm-up before the schedule starts). Left: the lr at each
    of 400 steps on a log axis, with a dot at the last step. Right: the excess loss
    :math:`L(\theta_t) - L^\star` of :class:`NoisyLine` (mini-batch SGD, batches of 10 of 200 points) with
    that schedule, and, dashed, with the constant base lr, on fixed log axes.
    """
    problem = NoisyLine()
    steps = problem.steps
    fig, (left, right) = new_figure(plots.HEIGHT + 0.3)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.15, wspace=0.28)
    blue, orange = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
    left.set(yscale="log", xlim=(0, steps), ylim=(1e-5, 2.0), xlabel="step $e$", ylabel=r"learning rate $\alpha_e$")
    right.set(yscale="log", xlim=(0, steps), ylim=(1e-7, 1e2), xlabel="step $t$",
              ylabel=r"excess loss $L(\theta_t) - L^\star$")
    plots.few_ticks(left)
    plots.few_ticks(right)
    curve, = left.plot([], [], "-", color=blue, drawstyle="steps-post", zorder=3)
    end, = left.plot([], [], "o", color=blue, zorder=4)
    reference, = right.plot([], [], "--", color=OKABE_ITO["black"], linewidth=1, zorder=3, label="constant lr")
    loss, = right.plot([], [], "-", color=orange, linewidth=1.2, zorder=4, label="schedule")
    legend = right.legend(loc="upper right", fontsize=8)  # moving: a curve may pass under it
    x = np.arange(steps)

    def draw(schedule, lr, T, gamma, warmup):
        lrs = schedule_values(make_schedule(schedule, lr, T, gamma, warmup), steps)
        curve.set_data(x, lrs)
        end.set_data([steps - 1], [max(lrs[-1], 1e-12)])
        _, excess = problem.run(lrs)
        loss.set_data(np.arange(len(excess)), excess)
        _, constant = problem.run(np.full(steps, lr))
        reference.set_data(np.arange(len(constant)), constant)
        left.set_title(f"{schedule}, α = {lr:.2g}")
        right.set_title(_loss_text(excess, steps))

    sliders = {
        "schedule": Slider(None, None, None, "step_lr", description="schedule", options=SCHEDULES),
        "lr": Slider(1e-3, 0.3, 0.05, 0.1, log=True, description="base learning rate α"),
        "T": Slider(20, 400, 20, 100, description="period T (steps)",
                    applies=lambda values: values["schedule"] != "constant"),
        "gamma": Slider(0.05, 0.9, 0.05, 0.3, description="gamma (step, exponential)",
                        applies=lambda values: values["schedule"] in ("step_lr", "exponential_lr")),
        "warmup": Slider(0, 100, 10, 0, description="warm-up steps"),
    }
    alt = ("Two panels. Left: the learning rate at each of 400 steps on a logarithmic axis, as set by the "
           "chosen schedule (after an optional linear warm-up), with a dot at the last step. Right: the "
           "excess loss of mini-batch SGD on noisy linear regression at each step on a logarithmic axis, "
           "for the schedule (solid) and for a constant "
           "learning rate equal to the base rate (dashed). The constant rate levels off in a noisy band whose "
           "height grows with the learning rate; a decaying schedule keeps falling below it.")
    cosine = {"schedule": "cosine_annealing", "warmup": 0}
    views = (  # chapter 6's "Things to try", each pre-rendered for the static page
        View("α, with a cosine over half the run", {**cosine, "T": 200}, "lr", (10**-2.5, 0.01, 10**-1.5, 0.1, 0.3),
             start=0.1),
        View("the cosine's T, up to the run's length", {**cosine, "lr": 0.1}, "T", (100, 200, 300, 400), start=400),
        View("warm restarts every T steps", {"schedule": "cosine_warm_restarts", "lr": 0.1, "warmup": 0}, "T",
             (40, 100, 200), start=100),
        View("step_lr with γ = 0.05: decaying too early", {"schedule": "step_lr", "lr": 0.1, "gamma": 0.05,
             "warmup": 0}, "T", (20, 40, 100, 200), start=20),
    )
    explorer = Explorer(fig, sliders, draw, alt, main="lr", views=views,
                        moving=(curve, end, reference, loss, legend, left.title, right.title))
    explorer.update()
    return explorer
