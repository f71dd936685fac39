r"""Training loops: an optimiser on a 2-D landscape (:func:`minimize`) and on a model and data (:func:`fit`).

Both loops repeat the step every optimiser in :mod:`descent.optim` is built for,

.. math:: g_t = \nabla L(\theta_{t-1}), \qquad (u_t, s_t) = \operatorname{update}(g_t, s_{t-1}, \theta_{t-1}),
          \qquad \theta_t = \theta_{t-1} + u_t ,

and record the loss as they go. **Divergence.** When the loss (or a parameter) becomes NaN or infinite, both
loops stop at that step, keep everything recorded up to the last finite loss (so the blow-up still plots),
store a message naming the step and the last finite loss on the result, and emit it as a
:class:`DivergenceWarning`. They warn rather than raise because a diverging run is a result to look at, not a
bug; to make it an error, use ``warnings.simplefilter("error", DivergenceWarning)``. Overflow inside the loop
does not print NumPy ``RuntimeWarning``\ s. A starting point whose loss is already not finite is a bad
argument and raises ``ValueError``. Reference: the training loop of the PyTorch tutorials,
https://pytorch.org/tutorials/beginner/basics/optimization_tutorial.html.
"""

from __future__ import annotations

import math

import warnings
from typing import NamedTuple

import numpy as np

from . import _checks
from .base import GradientTransformation, Tree, apply_updates, as_tree, tree_leaves
from .data import minibatches
from .landscapes import Landscape
from .models import Model


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


class Trajectory(NamedTuple):
    """The path of :func:`minimize`: ``params`` of shape ``(k + 1, 2)`` (the start, then one row per step) and
    their ``losses`` of shape ``(k + 1,)``; ``k = steps`` unless the run diverged at step ``diverged_at``, in
    which case ``k = diverged_at - 1`` and ``message`` says what happened."""

    params: np.ndarray
    losses: np.ndarray
    diverged_at: int | None = None
    message: str | None = None


class History(NamedTuple):
    """The record of :func:`fit`: the final ``params``; ``losses``, the mini-batch loss before each update
    (one per step); ``epoch_losses``, the loss on the whole data set at the start and after each epoch (one
    more than the epochs completed); and ``diverged_at`` / ``message`` as in :class:`Trajectory`."""

    params: Tree
    losses: np.ndarray
    epoch_losses: np.ndarray
    diverged_at: int | None = None
    message: str | None = None


def _optimizer(opt) -> GradientTransformation:
    if not isinstance(opt, GradientTransformation):
        raise ValueError(f"opt is a {type(opt).__name__}, not a GradientTransformation: pass an optimiser "
                         "such as descent.optim.sgd(lr=0.1) (called, with its arguments).")
    return opt


def _finite(loss: float, params: Tree) -> bool:
    return bool(np.isfinite(loss)) and all(np.all(np.isfinite(leaf)) for leaf in tree_leaves(params))


def _diverged(step: int, loss: float, last_loss: float, advice: str, stacklevel: int = 3) -> str:
    """Build the divergence message and emit it as a :class:`DivergenceWarning`."""
    if loss == -np.inf:
        advice = "The loss is unbounded below here (as on the saddle): there is no minimum to converge to."
    message = (f"Training diverged at step {step}: the loss became {loss} (last finite loss {last_loss:.6g} "
               f"at step {step - 1}), so training stopped there. {advice}")
    warnings.warn(message, DivergenceWarning, stacklevel=stacklevel)
    return message


def minimize(opt: GradientTransformation, landscape: Landscape, x0, steps: int) -> Trajectory:
    r"""Run ``opt`` for ``steps`` steps on a 2-D ``landscape`` from ``x0`` and return the :class:`Trajectory`.

    Each step is :math:`\theta_t = \theta_{t-1} + u_t` with :math:`u_t` the optimiser's update for the
    gradient :math:`\nabla f(\theta_{t-1})`; row :math:`t` of ``params`` is :math:`\theta_t` and
    ``losses[t]`` is :math:`f(\theta_t)`. If the loss becomes NaN or infinite at step :math:`t`, the run
    stops, the trajectory ends at :math:`\theta_{t-1}` and a :class:`DivergenceWarning` says so (see the
    module docstring).

    >>> from descent.landscapes import ill_conditioned
    >>> from descent.optim import sgd
    >>> run = minimize(sgd(lr=0.1), ill_conditioned(kappa=5.0), x0=[1.0, 1.0], steps=100)
    >>> run.params.shape, bool(run.losses[-1] < 1e-8), run.diverged_at
    ((101, 2), True, None)

    With :math:`\kappa = 10` the stability limit is :math:`\alpha < 2/L = 0.2`; above it the run blows up and
    stops (the warning is silenced here to show the message):

    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     run = minimize(sgd(lr=0.3), ill_conditioned(kappa=10.0), x0=[1.0, 1.0], steps=1000)
    >>> run.diverged_at, run.params.shape, bool(np.all(np.isfinite(run.losses)))
    (511, (511, 2), True)
    >>> print(run.message)
    Training diverged at step 511: the loss became inf (last finite loss 5.61779e+307 at step 510), so
    training stopped there. The learning rate is probably too large: try a smaller lr. On this landscape
    plain gradient descent is stable for lr < 2/λ_max = 0.2.
    """
    opt = _optimizer(opt)
    if not isinstance(landscape, Landscape):
        raise ValueError(f"landscape is a {type(landscape).__name__}, not a Landscape: pass e.g. "
                         "descent.landscapes.rosenbrock().")
    theta = _checks.finite_array("x0", x0)
    if theta.shape != (2,):
        raise ValueError(f"x0 has shape {theta.shape}: pass a start point of shape (2,), e.g. [-1.5, 2.0].")
    steps = _checks.integer("steps", steps, low=0)
    advice = "The learning rate is probably too large: try a smaller lr."
    if landscape.hessian is not None and landscape.lipschitz > 0:
        limit = 2 / landscape.lipschitz
        advice += f" On this landscape plain gradient descent is stable for lr < 2/λ_max = {limit:.4g}."
    with np.errstate(all="ignore"):
        loss = float(landscape.f(theta))
        if not np.isfinite(loss):
            raise ValueError(f"x0={theta.tolist()} is invalid: the loss there is {loss}; start inside "
                             f"landscape.bounds={landscape.bounds}.")
        state = opt.init(theta)
        params, losses = [theta], [loss]
        for step in range(1, steps + 1):
            updates, state = opt.update(landscape.grad(theta), state, theta)
            theta = apply_updates(theta, updates)
            loss = float(landscape.f(theta))
            if not (math.isfinite(loss) and np.isfinite(theta).all()):
                message = _diverged(step, loss, losses[-1], advice)
                return Trajectory(np.array(params), np.array(losses), step, message)
            params.append(theta)
            losses.append(loss)
    return Trajectory(np.array(params), np.array(losses))


def fit(model: Model, opt: GradientTransformation, X, y, epochs: int, batch_size: int | None = None,
        seed: int = 0, params: Tree | None = None) -> History:
    r"""Train ``model`` on ``(X, y)`` with ``opt`` for ``epochs`` passes over the data; return the
    :class:`History`.

    With ``batch_size=None`` every step uses the whole data set (full-batch gradient descent, one step per
    epoch); otherwise each epoch takes one step per shuffled mini-batch of :func:`descent.data.minibatches`
    (:math:`\lceil n/B \rceil` steps, the last batch possibly smaller). ``params`` defaults to
    ``model.init(d, seed=seed)``, and the same ``seed`` drives the shuffling, so equal arguments give
    identical runs. Divergence stops training as described in the module docstring; the returned ``params``
    are then the last ones whose loss was finite.

    >>> from descent.data import make_line
    >>> from descent.models import linear_regression
    >>> from descent.optim import sgd
    >>> X, y = make_line(n=100, slope=2.0, intercept=1.0, noise=0.1, seed=0)
    >>> history = fit(linear_regression(), sgd(lr=0.1), X, y, epochs=20, batch_size=10)
    >>> history.losses.shape, history.epoch_losses.shape
    ((200,), (21,))
    >>> {key: value.round(1) for key, value in history.params.items()}
    {'w': array([2.]), 'b': array([1.])}
    """
    opt = _optimizer(opt)
    if not isinstance(model, Model):
        raise ValueError(f"model is a {type(model).__name__}, not a Model: pass e.g. "
                         "descent.models.linear_regression().")
    epochs = _checks.integer("epochs", epochs, low=0)
    if batch_size is not None:
        batch_size = _checks.integer("batch_size", batch_size, low=1)
    X = _checks.finite_array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X has shape {X.shape}: pass a 2-D array of shape (n, d).")
    params = model.init(X.shape[1], seed=seed) if params is None else as_tree(params)
    rng = np.random.default_rng(seed)
    state = opt.init(params)
    advice = ("The learning rate is probably too large: try a smaller lr; standardising the features "
              "(descent.data.standardize) or clipping the gradients also helps.")
    with np.errstate(all="ignore"):
        loss = model.loss_and_grad(params, X, y)[0]
        if not _finite(loss, params):
            raise ValueError(f"the initial loss is {loss}: check params and the scale of X and y.")
        losses, epoch_losses, previous = [], [loss], params

        def stop(loss: float) -> History:
            last_loss = losses[-1] if losses else epoch_losses[0]
            message = _diverged(len(losses), loss, last_loss, advice, stacklevel=4)
            return History(previous, np.array(losses), np.array(epoch_losses), len(losses), message)

        for _ in range(epochs):
            batches = [(X, y)] if batch_size is None else minibatches(X, y, batch_size, rng)
            for X_b, y_b in batches:
                loss, grads = model.loss_and_grad(params, X_b, y_b)
                if not _finite(loss, params):
                    return stop(loss)
                losses.append(loss)
                updates, state = opt.update(grads, state, params)
                previous, params = params, apply_updates(params, updates)
            loss = model.loss_and_grad(params, X, y)[0]
            if not _finite(loss, params):
                return stop(loss)
            epoch_losses.append(loss)
    return History(params, np.array(losses), np.array(epoch_losses))
