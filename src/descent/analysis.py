r"""The theory the chapters quote, as pure functions: stability limits, rates and optimal parameters of gradient
descent and momentum on a quadratic, and statistics of the gradients a run used.

On a quadratic :math:`f(\theta) = \tfrac12 \theta^\top A \theta` every method of chapters 3 and 4 acts on each
eigendirection of :math:`A` separately. Along a direction of curvature :math:`\lambda` (an eigenvalue of
:math:`A`), the coordinate :math:`c_t` of SGD with momentum :math:`\beta` and learning rate :math:`\alpha`
(PyTorch's form, no dampening) obeys

.. math:: c_t = (1 + \beta - \alpha\lambda)\, c_{t-1} - \beta\, c_{t-2} \qquad
          (\text{Nesterov: } c_t = (1 + \beta - \alpha\lambda(1+\beta))\, c_{t-1} - \beta(1 - \alpha\lambda)\, c_{t-2}),

so :math:`c_t` shrinks (or grows) like :math:`\rho^t`, with :math:`\rho` the larger modulus of the two roots of
:math:`z^2 - (1 + \beta - \alpha\lambda)z + \beta`: the spectral radius of the 2×2 iteration matrix. Plain
gradient descent is :math:`\beta = 0`, where :math:`\rho = |1 - \alpha\lambda|`. Everything below follows from
that: :func:`lr_limit` (where :math:`\rho = 1`), :func:`convergence_rate` (the slowest direction's
:math:`\rho`), :func:`gd_optimum` and :func:`heavy_ball_optimum` (the parameters that minimise it),
:func:`best_momentum` (the best :math:`\beta` for a given :math:`\alpha`), :func:`steps_to_tolerance`,
:func:`loss_by_direction` (the loss as a sum of one decay per direction) and :func:`rate_from_losses` (the rate
a run shows). :func:`run_many` runs an optimiser from many starts at once, with gradient noise if asked, and
:func:`gradient_norms` and :func:`clipped_fraction` summarise the gradients of a run.

References: B. T. Polyak (1964), *Some methods of speeding up the convergence of iteration methods*, USSR
Computational Mathematics and Mathematical Physics 4(5); G. Goh (2017), *Why Momentum Really Works*, Distill,
https://distill.pub/2017/momentum/; Y. Nesterov (2018), *Lectures on Convex Optimization*, §2.1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import _checks
from .base import GradientTransformation, apply_updates
from .landscapes import Landscape

__all__ = [
    "best_momentum",
    "clipped_fraction",
    "convergence_rate",
    "curvatures",
    "gd_optimum",
    "gradient_norms",
    "heavy_ball_optimum",
    "loss_by_direction",
    "lr_limit",
    "rate_from_losses",
    "run_many",
    "steps_to_tolerance",
]


def curvatures(landscape: Landscape) -> np.ndarray:
    r"""The curvatures :math:`\lambda_{\min} \le \dots \le \lambda_{\max}` of a quadratic ``landscape``: the
    eigenvalues of its constant Hessian, in increasing order.

    >>> from descent.landscapes import ill_conditioned, saddle
    >>> curvatures(ill_conditioned(25.0)), curvatures(saddle())
    (array([ 1., 25.]), array([-2.,  2.]))
    """
    if not isinstance(landscape, Landscape) or landscape.hessian is None:
        name = landscape.name if isinstance(landscape, Landscape) else type(landscape).__name__
        raise ValueError(f"landscape={name!r} is invalid: it must be a quadratic Landscape with a constant "
                         "Hessian, such as quadratic(), ill_conditioned() or saddle().")
    return np.linalg.eigvalsh(landscape.hessian)


def lr_limit(curvature: float, momentum: float = 0.0, nesterov: bool = False) -> float:
    r"""The largest stable learning rate of SGD with momentum :math:`\beta` (PyTorch's form, no dampening) on a
    quadratic whose largest curvature is :math:`\lambda_{\max}` = ``curvature``:

    .. math:: \alpha < \frac{2(1+\beta)}{\lambda_{\max}} \text{ (heavy ball)}, \qquad
              \alpha < \frac{2(1+\beta)}{(1+2\beta)\,\lambda_{\max}} \text{ (Nesterov)} .

    The roots of :math:`z^2 - (1 + \beta - \alpha\lambda)z + \beta` lie inside the unit circle exactly when
    :math:`0 \le \beta < 1` and :math:`0 < \alpha\lambda < 2(1+\beta)` (Jury's test); PyTorch's Nesterov step
    puts :math:`\alpha\lambda(1+\beta)` in the first coefficient and :math:`\beta(1 - \alpha\lambda)` in the
    last. With :math:`\beta = 0` both are chapter 3's :math:`2/\lambda_{\max}`. Reference: Polyak (1964); Goh,
    *Why Momentum Really Works*, Distill (2017).

    >>> lr_limit(25.0), lr_limit(25.0, 0.9), round(lr_limit(25.0, 0.9, nesterov=True), 4)
    (0.08, 0.152, 0.0543)
    """
    curvature = _checks.number("curvature", curvature, low=0.0, low_open=True, high=math.inf, high_open=True,
                               hint="It is the largest eigenvalue of the Hessian.")
    momentum = _momentum(momentum)
    scale = 1 + 2 * momentum if nesterov else 1.0
    return 2 * (1 + momentum) / (scale * curvature)


def convergence_rate(curvatures, lr, momentum=0.0, nesterov: bool = False):
    r"""The factor :math:`\rho` by which SGD with learning rate :math:`\alpha` and momentum :math:`\beta`
    shrinks the distance to the minimum per step, in the long run, on a quadratic with the given curvatures
    (eigenvalues of the Hessian): the largest spectral radius of the 2×2 iteration matrices
    :math:`\begin{pmatrix} a & -b \\ 1 & 0 \end{pmatrix}` of the directions,

    .. math:: \rho(\alpha, \beta) = \max_i \max |z|, \quad z^2 - a_i z + b_i = 0, \quad
              a_i = 1 + \beta - \alpha\lambda_i, \quad b_i = \beta

    (PyTorch's Nesterov: :math:`a_i = 1 + \beta - \alpha\lambda_i(1+\beta)`, :math:`b_i = \beta(1 -
    \alpha\lambda_i)`). It converges when :math:`\rho < 1`. For :math:`\beta = 0` this is
    :math:`\max_i |1 - \alpha\lambda_i|`; when the roots of a direction are complex, their modulus is
    :math:`\sqrt{\beta}`. A negative curvature (a saddle) gives :math:`\rho > 1`: the factor by which the run
    leaves it. ``lr`` and ``momentum`` may be arrays: the result has their broadcast shape (a grid of rates for
    a heat map). Reference: Goh, *Why Momentum Really Works*, Distill (2017), "The Dynamics of Momentum".

    >>> round(float(convergence_rate([1.0, 10.0], lr=2 / 11)), 4)   # gradient descent at its best step: 9/11
    0.8182
    >>> convergence_rate([1.0, 25.0], lr=0.02, momentum=[0.0, 0.5, 0.9]).round(4)
    array([0.98  , 0.9582, 0.9487])
    """
    lam = _curvatures(curvatures)
    lr = np.asarray(lr, dtype=float)
    momentum = np.asarray(momentum, dtype=float)
    if not np.all(np.isfinite(lr)) or np.any(lr < 0):
        raise ValueError(f"lr={_first_bad(lr, lr >= 0)!r} is invalid: lr must be in [0, inf).")
    if not np.all((momentum >= 0) & (momentum < 1)):
        raise ValueError(f"momentum={_first_bad(momentum, (momentum >= 0) & (momentum < 1))!r} is invalid: "
                         "momentum must be in [0, 1).")
    lr, momentum = np.broadcast_arrays(lr, momentum)
    step = lr[..., None] * lam  # shape (..., n): αλ_i
    beta = momentum[..., None]
    if nesterov:
        a, b = 1 + beta - step * (1 + beta), beta * (1 - step)
    else:
        a, b = 1 + beta - step, beta + 0 * step
    root = np.sqrt((a * a - 4 * b).astype(complex))
    radius = np.maximum(np.abs(a + root), np.abs(a - root)) / 2
    return radius.max(axis=-1)


def gd_optimum(curvatures) -> tuple[float, float]:
    r"""The best constant learning rate of gradient descent on a quadratic with the given curvatures, and the
    rate it achieves:

    .. math:: \alpha^\star = \frac{2}{\lambda_{\min} + \lambda_{\max}}, \qquad
              \rho^\star = \frac{\lambda_{\max} - \lambda_{\min}}{\lambda_{\max} + \lambda_{\min}}
              = \frac{\kappa - 1}{\kappa + 1}, \qquad \kappa = \frac{\lambda_{\max}}{\lambda_{\min}} .

    :math:`\alpha^\star` balances the two extreme factors, :math:`1 - \alpha\lambda_{\min} =
    -(1 - \alpha\lambda_{\max})`. Reference: Nesterov, *Lectures on Convex Optimization* (2018), §2.1;
    Goh (2017).

    >>> gd_optimum([1.0, 10.0])
    (0.18181818181818182, 0.8181818181818182)
    """
    low, high = _extremes(curvatures)
    return 2 / (low + high), (high - low) / (high + low)


def heavy_ball_optimum(curvatures) -> tuple[float, float, float]:
    r"""The best learning rate and momentum of the heavy ball (SGD with momentum) on a quadratic with the
    given curvatures, and the rate they achieve (Polyak, 1964):

    .. math:: \alpha^\star = \Big(\frac{2}{\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}}}\Big)^2, \qquad
              \beta^\star = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2, \qquad
              \rho^\star = \sqrt{\beta^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} .

    At these values both extreme directions sit exactly on the border between real and complex roots, so
    their error decays like :math:`(a + bt)\,\rho^t` rather than :math:`\rho^t`: slightly slower at first.
    Reference: Polyak (1964); Goh, *Why Momentum Really Works*, Distill (2017).

    >>> [round(v, 4) for v in heavy_ball_optimum([1.0, 10.0])]
    [0.2309, 0.2699, 0.5195]
    """
    low, high = _extremes(curvatures)
    root_kappa = math.sqrt(high / low)
    rate = (root_kappa - 1) / (root_kappa + 1)
    return 4 / (math.sqrt(high) + math.sqrt(low)) ** 2, rate**2, rate


def best_momentum(curvatures, lr: float) -> tuple[float, float]:
    r"""The momentum :math:`\beta` that makes SGD with learning rate :math:`\alpha` = ``lr`` fastest on a
    quadratic with the given curvatures, and its rate:

    .. math:: \beta^\star(\alpha) = \max\Big(\big(1 - \sqrt{\alpha\lambda_{\min}}\big)^2,\
              \big(1 - \sqrt{\alpha\lambda_{\max}}\big)^2\Big), \qquad \rho = \sqrt{\beta^\star(\alpha)} .

    A direction's roots are complex, with modulus :math:`\sqrt\beta`, exactly when
    :math:`(1 - \sqrt\beta)^2 \le \alpha\lambda \le (1 + \sqrt\beta)^2`; below that :math:`\beta` its larger
    real root is slower. So the best :math:`\beta` is the smallest that puts every direction in the complex
    range. It needs :math:`0 < \alpha\lambda_{\max} < 4`. Reference: Goh, *Why Momentum Really Works*, Distill
    (2017), "Optimal parameters".

    >>> [round(v, 4) for v in best_momentum([1.0, 25.0], lr=0.02)]
    [0.7372, 0.8586]
    """
    low, high = _extremes(curvatures)
    lr = _checks.number("lr", lr, low=0.0, high=4 / high, low_open=True, high_open=True,
                        hint="Above 4/λ_max no momentum is stable.")
    beta = max((1 - math.sqrt(lr * low)) ** 2, (1 - math.sqrt(lr * high)) ** 2)
    return beta, math.sqrt(beta)


def steps_to_tolerance(rate: float, tolerance: float) -> int:
    r"""The number of steps :math:`t` after which a factor ``rate`` per step has shrunk an error below
    ``tolerance`` times its start: the smallest :math:`t \ge 0` with :math:`\rho^t \le \text{tol}`,

    .. math:: t = \Big\lceil \frac{\ln(1/\text{tol})}{\ln(1/\rho)} \Big\rceil .

    A loss is quadratic in the error, so it shrinks by :math:`\rho^2` per step: pass ``rate**2`` to count steps
    on the loss. It counts the geometric decay only; a polynomial factor (as at :func:`heavy_ball_optimum`)
    adds steps.

    >>> steps_to_tolerance(0.5, 1e-3), steps_to_tolerance((9 / 11) ** 2, 1e-8)
    (10, 46)
    """
    rate = _checks.number("rate", rate, low=0.0, high=1.0, high_open=True,
                          hint="A rate of 1 or more never reaches the tolerance.")
    tolerance = _checks.number("tolerance", tolerance, low=0.0, high=math.inf, low_open=True, high_open=True)
    if tolerance >= 1:
        return 0
    if rate == 0:
        return 1
    return math.ceil(math.log(tolerance) / math.log(rate) - 1e-12)


def loss_by_direction(curvatures, coords, lr: float, steps: int, momentum: float = 0.0,
                      nesterov: bool = False) -> np.ndarray:
    r"""The loss of SGD on a quadratic, split by eigendirection: row :math:`t` holds
    :math:`\tfrac12 \lambda_i c_{i,t}^2` for each direction :math:`i`, so the loss :math:`f(\theta_t)` is the
    row's sum. ``coords`` are the start's coordinates :math:`c_{i,0}` along the eigenvectors (for a diagonal
    Hessian, the start itself). Each direction follows the recursion of the module docstring from PyTorch's
    first step :math:`b_1 = g_1`, computed exactly (no gradient is evaluated). Returns shape ``(steps + 1, n)``.
    Reference: Goh, *Why Momentum Really Works*, Distill (2017), "Decomposing the error".

    >>> loss_by_direction([1.0, 10.0], [1.0, 1.0], lr=0.1, steps=2).round(3)
    array([[0.5  , 5.   ],
           [0.405, 0.   ],
           [0.328, 0.   ]])
    """
    lam = _curvatures(curvatures)
    c = _checks.finite_array("coords", coords)
    if c.shape != lam.shape:
        raise ValueError(f"coords has shape {c.shape}: pass one coordinate per curvature, shape {lam.shape}.")
    lr = _checks.number("lr", lr, low=0.0)
    steps = _checks.integer("steps", steps)
    beta = _momentum(momentum)
    look = 1 + beta if nesterov else 1.0  # PyTorch's Nesterov takes its first step along (1 + β) g_1
    a = 1 + beta - lr * lam * look
    b = beta * (1 - lr * lam) if nesterov else np.full_like(lam, beta)
    path = np.empty((steps + 1, lam.size))
    path[0] = c
    with np.errstate(all="ignore"):
        if steps:
            path[1] = (1 - lr * lam * look) * c
        for t in range(2, steps + 1):
            path[t] = a * path[t - 1] - b * path[t - 2]
        return 0.5 * lam * path**2


def rate_from_losses(losses, start: int, stop: int) -> float:
    r"""The factor per step by which the distance to the minimum shrank between steps ``start`` and ``stop`` of
    a run on a quadratic, measured from its losses (which are quadratic in the distance):

    .. math:: \hat\rho = \Big(\frac{f(\theta_{\text{stop}})}{f(\theta_{\text{start}})}\Big)^{1/(2(\text{stop}
              - \text{start}))} .

    Compare it with :func:`convergence_rate` over a window late enough for the slowest direction to dominate.

    >>> rate_from_losses([1.0, 0.25, 0.0625], 0, 2)
    0.5
    """
    losses = np.asarray(losses, dtype=float)
    start = _checks.integer("start", start)
    stop = _checks.integer("stop", stop, low=start + 1)
    if stop >= losses.size:
        raise ValueError(f"stop={stop} is invalid: stop must be below len(losses) = {losses.size}.")
    first, last = losses[start], losses[stop]
    if not (first > 0 and last > 0 and np.isfinite(first) and np.isfinite(last)):
        raise ValueError(f"losses[{start}]={first} and losses[{stop}]={last} must be finite and > 0: measure "
                         "a window before the loss reaches 0 or diverges.")
    return float((last / first) ** (1 / (2 * (stop - start))))


def run_many(opt: GradientTransformation, landscape: Landscape, starts, steps: int,
             noise: float | Callable[[int], float] = 0.0, seed: int = 0) -> np.ndarray:
    r"""Run ``opt`` on a 2-D ``landscape`` from every row of ``starts`` (shape ``(n, 2)``) at once, with
    Gaussian noise of standard deviation :math:`\sigma_t` added to every gradient:

    .. math:: \theta_t = \theta_{t-1} + u_t, \qquad u_t = \text{update}\big(\nabla f(\theta_{t-1}) +
              \sigma_{t-1}\,\xi_t\big), \qquad \xi_t \sim \mathcal N(0, I) .

    ``noise`` is :math:`\sigma` or, like a learning rate, a schedule :math:`e \mapsto \sigma_e` (step index
    from 0), e.g. ``linear_lr(30.0, 1.0, 0.0, 2000)`` for noise that fades out, as a decaying learning rate
    makes mini-batch noise fade. The optimisers of :mod:`descent.optim` act coordinate by coordinate, so each
    row is exactly the run ``descent.train.minimize`` would make from that start (with ``noise=0``); a run
    that overflows becomes ``inf`` or ``nan`` silently. Returns the paths, shape ``(steps + 1, n, 2)``. The
    same ``seed`` gives the same noise.

    >>> from descent.landscapes import saddle
    >>> from descent.optim import sgd
    >>> paths = run_many(sgd(lr=0.1), saddle(), [[1.5, 0.0], [1.5, 1e-6]], steps=75)
    >>> paths[-1].round(3)
    array([[0.   , 0.   ],
           [0.   , 0.868]])
    """
    if not isinstance(landscape, Landscape):
        raise ValueError(f"landscape is a {type(landscape).__name__}, not a Landscape: pass e.g. "
                         "descent.landscapes.rastrigin().")
    theta = _checks.finite_array("starts", starts)
    if theta.ndim != 2 or theta.shape[1] != 2:
        raise ValueError(f"starts has shape {theta.shape}: pass start points of shape (n, 2).")
    steps = _checks.integer("steps", steps)
    if not callable(noise):
        level = _checks.number("noise", noise, low=0.0)

        def noise(e: int) -> float:
            return level
    rng = np.random.default_rng(_checks.integer("seed", seed))
    state = opt.init(theta)
    path = [theta]
    with np.errstate(all="ignore"):
        for e in range(steps):
            grads = landscape.grad(theta)
            sigma = noise(e)
            if sigma:
                grads = grads + sigma * rng.standard_normal(theta.shape)
            updates, state = opt.update(grads, state, theta)
            theta = apply_updates(theta, updates)
            path.append(theta)
    return np.stack(path)


def gradient_norms(landscape: Landscape, run, norm_type: float = 2.0) -> np.ndarray:
    r"""The norm :math:`\|g_t\|_p` of the gradient each step of ``run`` (a :class:`~descent.train.Trajectory`)
    used, :math:`t = 1, \dots, k`: the ``total_norm`` that ``clip_grad_norm`` returns (measured before
    clipping), one per step: ``len(run.losses) - 1`` entries, and one more for a run that diverged, whose last
    gradient is the one that threw it away. Reference: ``torch.nn.utils.clip_grad_norm_``.

    >>> from descent.landscapes import rosenbrock
    >>> from descent.optim import sgd
    >>> from descent.train import minimize
    >>> run = minimize(sgd(lr=1e-3), rosenbrock(), [-1.0, 1.0], steps=2)
    >>> gradient_norms(rosenbrock(), run).round(2)
    array([4.  , 1.79])
    """
    norm_type = _checks.number("norm_type", norm_type, low=0.0, low_open=True,
                               hint="Use 1.0, 2.0 or float('inf').")
    points = run.params if run.diverged_at is not None else run.params[:-1]
    with np.errstate(all="ignore"):
        return np.linalg.norm(landscape.grad(points), ord=norm_type, axis=-1)


def clipped_fraction(norms, max_norm: float) -> float:
    r"""The fraction of steps whose gradient clipping shortened: those where PyTorch's coefficient
    :math:`c / (\|g_t\| + 10^{-6})` is below 1. A fraction near 1 means the clipping is always on, and the
    run is normalised gradient descent with step :math:`\alpha c`.

    >>> clipped_fraction([0.5, 2.0, 30.0, 0.9], max_norm=1.0)
    0.5
    """
    max_norm = _checks.number("max_norm", max_norm, low=0.0, hint="It is the largest allowed norm, e.g. 1.0.")
    norms = np.asarray(norms, dtype=float)
    if norms.size == 0:
        return 0.0
    return float(np.mean(max_norm / (norms + 1e-6) < 1.0))


def _momentum(momentum) -> float:
    return _checks.number("momentum", momentum, low=0.0, high=1.0, high_open=True)


def _curvatures(curvatures) -> np.ndarray:
    lam = _checks.finite_array("curvatures", curvatures)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"curvatures has shape {lam.shape}: pass a 1-D list of eigenvalues, e.g. [1.0, 10.0].")
    return lam


def _extremes(curvatures) -> tuple[float, float]:
    """λ_min and λ_max of positive curvatures."""
    lam = _curvatures(curvatures)
    if lam.min() <= 0:
        raise ValueError(f"curvatures={lam.tolist()} is invalid: every curvature must be > 0 (a convex "
                         "quadratic) for an optimal step to exist.")
    return float(lam.min()), float(lam.max())


def _first_bad(values: np.ndarray, ok: np.ndarray):
    """The first value of ``values`` where ``ok`` is false (NaN counts as bad), as a float."""
    return float(values.flat[int(np.argmin(ok & np.isfinite(values)))])
