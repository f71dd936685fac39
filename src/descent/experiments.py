r"""Experiments on a real network: training with a validation set, early stopping, learning-rate searches and
the seeded sweeps behind chapter 8; and the noisy line of chapter 6, on which a learning-rate schedule is judged.

Chapter 8 trains :func:`digits_model` (a multi-layer perceptron) on :func:`digits_split` (the UCI handwritten
digits, pixels scaled to [0, 1], cut 60 / 20 / 20 into training, validation and test sets). The pieces:

- :func:`make_optimizer` builds an optimiser from plain names and numbers (``"adam"``, ``3e-3``,
  ``"cosine"``, ...), and :func:`check_recipe` / :func:`run_recipe` do the same for a whole *recipe*, a dict
  such as ``{"optimizer": "adam", "lr": 3e-3, "schedule": "cosine", "epochs": 10}``;
- :func:`train_epoch` is one pass of mini-batch training, and :func:`fit_early_stopping` the loop around it
  that measures the training and validation loss after every epoch and keeps the parameters of the best one;
- :func:`lr_range_test` is the learning-rate range test (chapter 3) and :func:`random_search` a coarse-to-fine random
  search of the learning rate;
- :func:`compare_optimizers`, :func:`compare_schedules`, :func:`compare_weight_decay`,
  :func:`compare_clipping` and :func:`explorer_curves` are the chapter's sweeps (about 1000 training runs,
  20 minutes of one core). Their results ship with the package in ``descent/cache/``, and :func:`cached`
  reads them; ``OPENBLAS_NUM_THREADS=1 python -m descent.experiments [name ...]`` recomputes them (one BLAS
  thread is faster for matrices this small). Every run is seeded, so a recomputation gives the same numbers
  (tests/test_experiments.py recomputes samples of each and compares).

:func:`noisy_line_excess` runs chapter 6's problem, mini-batch SGD fitting a line to noisy points, with any learning
rate or schedule, and returns the excess loss after each epoch; exercise 6 grades a schedule with it.

A run that diverges (a loss or a parameter becomes NaN or infinite) is recorded, not warned about: in a sweep
over learning rates it is an ordinary outcome. Its :class:`Run` says at which epoch it happened.

References: Karpathy, *A Recipe for Training Neural Networks* (2019), http://karpathy.github.io/2019/04/25/recipe/;
Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017 (the range test); Bergstra & Bengio,
*Random Search for Hyper-Parameter Optimization*, JMLR 13 (2012); Prechelt, *Early Stopping — But When?*, in
*Neural Networks: Tricks of the Trade* (1998).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from importlib import resources
from typing import NamedTuple

import numpy as np

from . import _checks
from . import schedules as _schedules
from .base import GradientTransformation, Tree, apply_updates, as_tree, chain, tree_leaves
from .clipping import clip_by_global_norm
from .data import Split, load_digits, make_line, minibatches, train_val_test_split
from .models import Model, accuracy, linear_regression, mlp
from .optim import adam, adamw, rmsprop, sgd
from .train import fit

Schedule = Callable[[int], float]

#: The optimisers of the comparison, by name: PyTorch's defaults, momentum 0.9 where there is momentum.
OPTIMIZERS: dict[str, Callable[..., GradientTransformation]] = {
    "sgd": lambda lr, weight_decay: sgd(lr=lr, weight_decay=weight_decay),
    "momentum": lambda lr, weight_decay: sgd(lr=lr, momentum=0.9, weight_decay=weight_decay),
    "nesterov": lambda lr, weight_decay: sgd(lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay),
    "rmsprop": lambda lr, weight_decay: rmsprop(lr=lr, weight_decay=weight_decay),
    "adam": lambda lr, weight_decay: adam(lr=lr, weight_decay=weight_decay),
    "adamw": lambda lr, weight_decay: adamw(lr=lr, weight_decay=weight_decay),
}
DEFAULT_WEIGHT_DECAY = {"adamw": 1e-2}  # PyTorch's default; 0 for the others
#: The schedules of :func:`make_optimizer` and of the chapter's comparisons, by name.
SCHEDULES = ("constant", "cosine", "warmup_cosine")
WARMUP_FRACTION = 0.05  # warmup_cosine warms up over the first 5 % of the steps
BATCH_SIZE = 32
EPOCHS = 30
HIDDEN = (64, 64)


# ------------------------------------------------------------------------------------------- data and model


def digits_split(seed: int = 0) -> Split:
    r"""The chapter's data: :func:`descent.data.load_digits` with every pixel divided by 16 (so in [0, 1]), cut
    by :func:`descent.data.train_val_test_split` with ``seed`` into 1079 training, 359 validation and 359 test
    images.

    >>> data = digits_split()
    >>> data.X_train.shape, data.X_val.shape, data.X_test.shape, float(data.X_train.max())
    ((1079, 64), (359, 64), (359, 64), 1.0)
    """
    digits = load_digits()
    return train_val_test_split(digits.X / 16.0, digits.y, val_fraction=0.2, test_fraction=0.2, seed=seed)


def digits_model(hidden: int | Sequence[int] = HIDDEN) -> Model:
    r"""The chapter's network: :func:`descent.models.mlp` with ReLU hidden layers of widths ``hidden`` (two of
    64 units by default) and 10 outputs, trained with the cross-entropy: 64 → 64 → 64 → 10, 8970 parameters.

    >>> model = digits_model()
    >>> sum(p.size for p in model.init(64).values())
    8970
    """
    return mlp(hidden=hidden, activation="relu", task="multiclass", n_classes=10)


# ------------------------------------------------------------------------------------------------ optimisers


def make_optimizer(name: str, lr: float | Schedule, schedule: str = "constant", total_steps: int | None = None,
                   weight_decay: float | None = None, max_norm: float | None = None) -> GradientTransformation:
    r"""The optimiser ``name`` (a key of :data:`OPTIMIZERS`) with learning rate ``lr`` following ``schedule``:

    =================  ===========================================================================
    ``constant``       :math:`\alpha_e = \alpha` (``lr`` may also be any schedule, used as it is)
    ``cosine``         ``cosine_annealing(lr, T_max=total_steps)``: from α down to 0 at the last step
    ``warmup_cosine``  ``warmup_cosine(lr, W, total_steps)``: a linear warm-up over the first
                       W = max(1, round(0.05 · total_steps)) steps, then the cosine
    =================  ===========================================================================

    ``weight_decay`` λ defaults to PyTorch's (0, and 1e-2 for AdamW): an L2 term λθ added to the gradient,
    except for AdamW, which decays the weights decoupled from it. With ``max_norm`` the gradients are first
    clipped to that global norm: ``chain(clip_by_global_norm(max_norm), optimiser)``.

    >>> opt = make_optimizer("adam", 1e-3, schedule="cosine", total_steps=100)
    >>> updates, state = opt.update(np.array([4.0]), opt.init(np.zeros(1)), np.zeros(1))
    >>> updates
    array([-0.001])
    """
    _checks.one_of("name", name, tuple(OPTIMIZERS))
    _checks.one_of("schedule", schedule, SCHEDULES)
    lr = _checks.learning_rate("lr", lr)
    if schedule != "constant":
        if callable(lr):
            raise ValueError(f"lr={lr!r} is invalid with schedule={schedule!r}: pass the base learning rate as "
                             "a number, or pass your own schedule as lr with schedule='constant'.")
        if total_steps is None:
            raise ValueError(f"total_steps=None is invalid with schedule={schedule!r}: pass the number of "
                             "training steps, epochs * ceil(n_train / batch_size).")
        total_steps = _checks.integer("total_steps", total_steps, low=2)
        if schedule == "cosine":
            lr = _schedules.cosine_annealing(lr, T_max=total_steps)
        else:
            lr = _schedules.warmup_cosine(lr, max(1, round(WARMUP_FRACTION * total_steps)), total_steps)
    if weight_decay is None:
        weight_decay = DEFAULT_WEIGHT_DECAY.get(name, 0.0)
    opt = OPTIMIZERS[name](lr, weight_decay)
    if max_norm is None:
        return opt
    return chain(clip_by_global_norm(max_norm), opt)


# ---------------------------------------------------------------------------------------------------- training


class Epoch(NamedTuple):
    """What :func:`train_epoch` returns: the new ``params`` and optimiser ``state``, and the mini-batch
    ``losses`` measured before each update (one per step; the epoch stopped early if the last is not finite)."""

    params: Tree
    state: object
    losses: np.ndarray


def train_epoch(model: Model, opt: GradientTransformation, params: Tree, state, X, y, batch_size: int,
                rng) -> Epoch:
    r"""One epoch of mini-batch training: for each shuffled batch :math:`(X_b, y_b)` of
    :func:`descent.data.minibatches`,

    .. math::

        \ell_t = L(\theta_{t-1}; X_b, y_b), \qquad g_t = \nabla L(\theta_{t-1}; X_b, y_b),

        (u_t, s_t) = \operatorname{update}(g_t, s_{t-1}, \theta_{t-1}), \qquad \theta_t = \theta_{t-1} + u_t .

    ``rng`` is a ``np.random.Generator`` (advanced, so the next epoch gets a new order) or a seed. If a batch
    loss or the parameters stop being finite, the epoch stops there: the returned ``params`` are the last
    finite ones and the last loss is the non-finite one. Inputs are not modified. Reference: the training loop
    of the PyTorch tutorials, https://pytorch.org/tutorials/beginner/basics/optimization_tutorial.html.

    >>> from descent.data import make_blobs
    >>> X, y = make_blobs(n=40, seed=0)
    >>> model, opt = mlp(hidden=4, task="multiclass", n_classes=2), sgd(lr=0.1)
    >>> params = model.init(2, seed=0)
    >>> epoch = train_epoch(model, opt, params, opt.init(params), X, y, batch_size=16, rng=0)
    >>> epoch.losses.shape   # ceil(40 / 16) steps
    (3,)
    """
    losses = []
    with np.errstate(all="ignore"):
        for X_b, y_b in minibatches(X, y, batch_size, rng):
            loss, grads = model.loss_and_grad(params, X_b, y_b)
            losses.append(loss)
            if not math.isfinite(loss):
                break
            updates, new_state = opt.update(grads, state, params)
            new_params = apply_updates(params, updates)
            if not _finite(new_params):
                losses.append(math.nan)
                break
            params, state = new_params, new_state
    return Epoch(params, state, np.array(losses))


class Run(NamedTuple):
    """The record of :func:`fit_early_stopping`. ``params`` are those of epoch ``best_epoch``, the epoch of the
    lowest validation loss (0: the start). ``train_losses`` and ``val_losses`` are the losses on the whole
    training and validation sets, and ``val_accuracies`` the validation accuracy (NaN for a regression model),
    at the start and after each epoch run (one more entry than ``epochs_run``). ``diverged_at`` is the epoch in
    which training diverged (its entries are then NaN), else None."""

    params: Tree
    train_losses: np.ndarray
    val_losses: np.ndarray
    val_accuracies: np.ndarray
    best_epoch: int
    epochs_run: int
    diverged_at: int | None = None


def fit_early_stopping(model: Model, opt: GradientTransformation, data: Split, epochs: int,
                       batch_size: int = BATCH_SIZE, patience: int | None = None, seed: int = 0,
                       params: Tree | None = None) -> Run:
    r"""Train for at most ``epochs`` epochs of :func:`train_epoch`, measure the loss on the training and
    validation sets of ``data`` after each, and return the parameters of the epoch with the lowest validation
    loss (a :class:`Run`).

    **Early stopping.** With a ``patience`` :math:`P`, training stops after the first epoch :math:`e` with
    :math:`e - e^\star \ge P`, where :math:`e^\star` is the best epoch so far (the lowest validation loss; a
    tie keeps the earlier epoch): :math:`P` epochs in a row without a new best. With ``patience=None`` all
    ``epochs`` run, and the best epoch is still the one returned. ``params`` default to
    ``model.init(d, seed=seed)``; the same ``seed`` shuffles the batches (one generator for all epochs, as in
    :func:`descent.train.fit`, whose ``epoch_losses`` equal ``train_losses`` here). Reference: Prechelt (1998),
    *Early Stopping — But When?*; Keras ``EarlyStopping(patience=P, restore_best_weights=True)``.

    >>> data = digits_split()
    >>> run = fit_early_stopping(digits_model(), adam(lr=3e-3), data, epochs=3, seed=0)
    >>> run.epochs_run, run.val_losses.shape, run.best_epoch
    (3, (4,), 3)
    >>> run.val_losses.round(2)   # ln 10 = 2.30 at the start
    array([2.31, 1.26, 0.6 , 0.4 ])
    >>> run.val_accuracies.round(2)
    array([0.1 , 0.71, 0.78, 0.87])
    """
    if not isinstance(data, Split):
        raise ValueError(f"data is a {type(data).__name__}, not a Split: pass descent.data.train_val_test_split"
                         "(X, y) or descent.experiments.digits_split().")
    epochs = _checks.integer("epochs", epochs, low=0)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    if patience is not None:
        patience = _checks.integer("patience", patience, low=1)
    params = model.init(data.X_train.shape[1], seed=seed) if params is None else as_tree(params)
    rng, state = np.random.default_rng(seed), opt.init(params)

    def measure(params) -> tuple[float, float, float]:
        with np.errstate(all="ignore"):
            train = model.loss_and_grad(params, data.X_train, data.y_train)[0]
            val = model.loss_and_grad(params, data.X_val, data.y_val)[0]
            if model.task == "regression":
                return train, val, math.nan
            return train, val, accuracy(model, params, data.X_val, data.y_val)

    records, best, best_params = [measure(params)], 0, params
    for epoch in range(1, epochs + 1):
        params, state, losses = train_epoch(model, opt, params, state, data.X_train, data.y_train, batch_size, rng)
        if len(losses) and not math.isfinite(losses[-1]):
            records.append((math.nan, math.nan, math.nan))
            return _run(best_params, records, best, epoch, diverged_at=epoch)
        records.append(measure(params))
        if records[-1][1] < records[best][1]:
            best, best_params = epoch, params
        elif not math.isfinite(records[-1][1]):
            return _run(best_params, records, best, epoch, diverged_at=epoch)
        if patience is not None and epoch - best >= patience:
            return _run(best_params, records, best, epoch)
    return _run(best_params, records, best, epochs)


def _run(params, records, best, epochs_run, diverged_at=None) -> Run:
    train, val, acc = (np.array(column, dtype=float) for column in zip(*records, strict=True))
    return Run(params, train, val, acc, best, epochs_run, diverged_at)


def _finite(params: Tree) -> bool:
    return all(np.all(np.isfinite(leaf)) for leaf in tree_leaves(params))


def steps_per_epoch(n: int, batch_size: int) -> int:
    """The number of mini-batches in one epoch of ``n`` samples, :math:`\\lceil n / B \\rceil`.

    >>> steps_per_epoch(1079, 32)
    34
    """
    return -(-_checks.integer("n", n, low=1) // _checks.integer("batch_size", batch_size, low=1))


# ------------------------------------------------------------------------------------------------- recipes

RECIPE_KEYS = ("optimizer", "lr", "schedule", "epochs", "batch_size", "weight_decay", "max_norm")


def check_recipe(recipe: dict, max_epochs: int | None = None) -> dict:
    r"""A training *recipe* checked and completed: a dict with the keys ``optimizer`` (a name of
    :data:`OPTIMIZERS`), ``lr`` (a number > 0), ``schedule`` (one of :data:`SCHEDULES`, default
    ``"constant"``), ``epochs`` (an integer >= 1, at most ``max_epochs`` if given), and optionally
    ``batch_size`` (default 32), ``weight_decay`` (default: PyTorch's) and ``max_norm`` (default: no
    clipping). Plain names and numbers only, so a recipe can be written down, sent and graded. Raises
    ``ValueError`` naming the key that is wrong.

    >>> recipe = check_recipe({"optimizer": "adam", "lr": 0.003, "epochs": 10})
    >>> recipe["schedule"], recipe["batch_size"], recipe["weight_decay"], recipe["max_norm"]
    ('constant', 32, None, None)
    """
    if not isinstance(recipe, dict):
        raise ValueError(f"recipe={recipe!r} is invalid: recipe must be a dict such as "
                         "{'optimizer': 'adam', 'lr': 0.003, 'schedule': 'cosine', 'epochs': 10}.")
    unknown = sorted(set(recipe) - set(RECIPE_KEYS), key=str)
    if unknown:
        raise ValueError(f"recipe has the unknown key {unknown[0]!r}: the keys are {', '.join(RECIPE_KEYS)}.")
    for key in ("optimizer", "lr", "epochs"):
        if key not in recipe:
            raise ValueError(f"recipe has no {key!r}: a recipe needs at least 'optimizer', 'lr' and 'epochs'.")
    checked = {"optimizer": recipe["optimizer"], "lr": recipe["lr"], "schedule": recipe.get("schedule", "constant"),
               "epochs": recipe["epochs"], "batch_size": recipe.get("batch_size", BATCH_SIZE),
               "weight_decay": recipe.get("weight_decay"), "max_norm": recipe.get("max_norm")}
    _checks.one_of("recipe['optimizer']", checked["optimizer"], tuple(OPTIMIZERS))
    _checks.one_of("recipe['schedule']", checked["schedule"], SCHEDULES)
    checked["lr"] = _checks.number("recipe['lr']", checked["lr"], low=0.0, high=10.0, low_open=True)
    checked["epochs"] = _checks.integer("recipe['epochs']", checked["epochs"], low=1)
    if max_epochs is not None and checked["epochs"] > max_epochs:
        raise ValueError(f"recipe['epochs']={checked['epochs']} is invalid: the budget is at most {max_epochs} "
                         "epochs.")
    checked["batch_size"] = _checks.integer("recipe['batch_size']", checked["batch_size"], low=1)
    for key in ("weight_decay", "max_norm"):
        if checked[key] is not None:
            checked[key] = _checks.number(f"recipe[{key!r}]", checked[key], low=0.0, high=math.inf, high_open=True)
    return checked


def run_recipe(recipe: dict, seed: int = 0, data: Split | None = None, model: Model | None = None,
               patience: int | None = None, max_epochs: int | None = None) -> Run:
    r"""Train ``model`` (default :func:`digits_model`) on ``data`` (default :func:`digits_split`) as
    ``recipe`` says (see :func:`check_recipe`), from the initialisation and shuffling of ``seed``: the
    optimiser of :func:`make_optimizer` with its schedule spread over all the recipe's steps, then
    :func:`fit_early_stopping`.

    >>> run = run_recipe({"optimizer": "adam", "lr": 3e-3, "schedule": "cosine", "epochs": 2})
    >>> run.epochs_run, run.best_epoch, run.val_accuracies.round(2)
    (2, 2, array([0.1 , 0.66, 0.74]))
    """
    recipe = check_recipe(recipe, max_epochs)
    data = digits_split() if data is None else data
    model = digits_model() if model is None else model
    total = recipe["epochs"] * steps_per_epoch(len(data.y_train), recipe["batch_size"])
    opt = make_optimizer(recipe["optimizer"], recipe["lr"], recipe["schedule"], total, recipe["weight_decay"],
                         recipe["max_norm"])
    return fit_early_stopping(model, opt, data, recipe["epochs"], recipe["batch_size"], patience, seed)


# ------------------------------------------------------------------------------------- learning-rate searches


class RangeTest(NamedTuple):
    """What :func:`lr_range_test` measured: the learning rate of each step and the mini-batch loss before it."""

    lrs: np.ndarray
    losses: np.ndarray


def lr_range_test(model: Model, name: str, X, y, lr_min: float = 1e-5, lr_max: float = 10.0, steps: int = 100,
                  batch_size: int = BATCH_SIZE, seed: int = 0) -> RangeTest:
    r"""The learning-rate range test: train with optimiser ``name`` while the learning rate grows
    geometrically from ``lr_min`` to ``lr_max`` over ``steps`` steps,

    .. math:: \alpha_e = \alpha_{\min} \, (\alpha_{\max} / \alpha_{\min})^{e / (\text{steps} - 1)},

    recording the mini-batch loss at every step, until the loss passes 4 times its lowest value or stops being
    finite. The loss falls once α is large enough to make progress and shoots up once α is too large; a good
    learning rate sits a little below the bottom of the curve (often a factor 3 to 10). Smith proposed the test
    with a learning rate growing linearly over a few epochs (*Cyclical Learning Rates for Training Neural
    Networks*, WACV 2017, §3.3); this exponential form, stopped at 4 times the lowest loss, is fast.ai's
    ``lr_find``, as in chapter 3.

    >>> test = lr_range_test(digits_model(), "adam", digits_split().X_train, digits_split().y_train)
    >>> bool(test.losses.min() < 1.0 < test.losses[-1]), bool(test.lrs[-1] < 10.0)
    (True, True)
    """
    lr_min = _checks.number("lr_min", lr_min, low=0.0, low_open=True)
    lr_max = _checks.number("lr_max", lr_max, low=lr_min, low_open=True)
    steps = _checks.integer("steps", steps, low=2)
    schedule = _schedules.exponential_lr(lr_min, (lr_max / lr_min) ** (1 / (steps - 1)))
    opt = make_optimizer(name, schedule)
    X = np.asarray(X)
    params = model.init(X.shape[1], seed=seed)
    state, rng, lrs, losses = opt.init(params), np.random.default_rng(seed), [], []
    while len(losses) < steps:
        epoch = train_epoch(model, opt, params, state, X, y, batch_size, rng)
        for loss in epoch.losses[:steps - len(losses)]:
            lrs.append(schedule(len(losses)))
            losses.append(loss)
            if not math.isfinite(loss) or loss > 4 * min(losses):
                return RangeTest(np.array(lrs), np.array(losses))
        params, state = epoch.params, epoch.state
    return RangeTest(np.array(lrs), np.array(losses))


class Search(NamedTuple):
    """The trials of :func:`random_search`, in the order they ran: each learning rate ``lrs[i]`` and its
    ``scores[i]`` (the lowest validation loss of the run; infinite if it diverged), and the ``best_lr``."""

    lrs: np.ndarray
    scores: np.ndarray
    best_lr: float


def random_search(name: str, data: Split | None = None, model: Model | None = None,
                  lr_range: tuple[float, float] = (1e-4, 1.0), trials: tuple[int, int] = (8, 8),
                  epochs: int = EPOCHS, batch_size: int = BATCH_SIZE, seed: int = 0) -> Search:
    r"""A coarse-to-fine random search of the learning rate of optimiser ``name``, scored on the validation
    set: ``trials[0]`` learning rates drawn log-uniformly from ``lr_range``, then ``trials[1]`` drawn
    log-uniformly within half a decade of the best so far,

    .. math::

        \text{coarse: } \log_{10}\alpha \sim \mathcal U(\log_{10}\alpha_{\text{lo}}, \log_{10}\alpha_{\text{hi}}),

        \text{fine: } \log_{10}\alpha \sim \mathcal U(\log_{10}\alpha^\star - 0.5, \log_{10}\alpha^\star + 0.5),

    each trained for ``epochs`` epochs (constant learning rate) from the same initialisation ``seed`` and
    scored by its lowest validation loss. The draws come from ``np.random.default_rng(seed)``. Random points
    cover each hyper-parameter more finely than a grid of the same size does. Reference: Bergstra & Bengio
    (2012), *Random Search for Hyper-Parameter Optimization*, JMLR 13; Karpathy (2019), "Tune".

    >>> search = random_search("adam", trials=(2, 1), epochs=1)
    >>> search.lrs.shape, bool(search.best_lr == search.lrs[np.argmin(search.scores)])
    ((3,), True)
    """
    _checks.one_of("name", name, tuple(OPTIMIZERS))
    low, high = (_checks.number("lr_range", value, low=0.0, low_open=True) for value in lr_range)
    if low >= high:
        raise ValueError(f"lr_range={lr_range!r} is invalid: pass (low, high) with 0 < low < high.")
    coarse, fine = (_checks.integer("trials", count, low=1) for count in trials)
    data = digits_split() if data is None else data
    model = digits_model() if model is None else model
    rng = np.random.default_rng(seed)
    exponents = list(rng.uniform(np.log10(low), np.log10(high), size=coarse))
    scores = [_score(model, name, 10.0**e, data, epochs, batch_size, seed) for e in exponents]
    centre = exponents[int(np.argmin(scores))]
    for e in rng.uniform(centre - 0.5, centre + 0.5, size=fine):
        exponents.append(float(e))
        scores.append(_score(model, name, 10.0**e, data, epochs, batch_size, seed))
    lrs, scores = 10.0 ** np.array(exponents), np.array(scores)
    return Search(lrs, scores, float(lrs[np.argmin(scores)]))


def _score(model, name, lr, data, epochs, batch_size, seed) -> float:
    run = fit_early_stopping(model, make_optimizer(name, lr), data, epochs, batch_size, seed=seed)
    return float(np.nanmin(run.val_losses)) if run.diverged_at is None else math.inf


# ------------------------------------------------------------------------------------- chapter 6's noisy line

LINE_POINTS, LINE_BATCH, LINE_EPOCHS = 200, 10, 50  # 20 steps per epoch, 1000 steps in all


def noisy_line_excess(lr: float | Schedule | Sequence[float], seed: int = 0, epochs: int = LINE_EPOCHS) -> np.ndarray:
    r"""Chapter 6's noisy line: 200 points around :math:`y = 2x + 1` with noise of standard deviation 0.5
    (:func:`descent.data.make_line` with ``seed``), fitted by mini-batch SGD (:math:`B = 10`, 20 steps an epoch,
    shuffled with ``seed``) from the line :math:`y = 0`. Returns the **excess loss** :math:`L(\theta) - L^\star` on
    the whole data set at the start and after each of the ``epochs`` epochs (``epochs + 1`` values), where
    :math:`L^\star` is the loss of the least-squares line; from a divergence on it is ``inf``.

    ``lr`` is a learning rate, a schedule, or the rates themselves, one per step (``20 * epochs`` numbers):
    ``rates[e]`` is :math:`\alpha_e`, the rate of update :math:`e + 1`.

    >>> excess = noisy_line_excess(0.1)
    >>> excess.shape, f"{excess[-10:].mean():.1e}"
    ((51,), '3.9e-03')
    """
    epochs = _checks.integer("epochs", epochs, low=1)
    if not callable(lr) and np.ndim(lr) == 1:
        lr = _rates(lr, epochs * steps_per_epoch(LINE_POINTS, LINE_BATCH))
    X, y = make_line(n=LINE_POINTS, slope=2.0, intercept=1.0, noise=0.5, seed=seed)
    Xb = np.hstack([X, np.ones((len(X), 1))])
    best = np.mean((Xb @ np.linalg.lstsq(Xb, y)[0] - y) ** 2)
    history = fit(linear_regression(), sgd(lr=lr), X, y, epochs=epochs, batch_size=LINE_BATCH, seed=seed,
                  warn=False)
    excess = np.full(epochs + 1, np.inf)
    finite = history.epoch_losses[np.isfinite(history.epoch_losses)]
    excess[:len(finite)] = finite - best
    return excess


def _rates(rates, steps: int) -> Schedule:
    """The schedule that reads its rates from a list, after checking the list has ``steps`` rates >= 0."""
    rates = np.asarray(rates, dtype=float)
    if len(rates) != steps:
        raise ValueError(f"lr has {len(rates)} rates, which is invalid: give one rate per step, {steps} in all.")
    bad = np.flatnonzero(~(np.isfinite(rates) & (rates >= 0)))
    if len(bad):
        raise ValueError(f"lr[{bad[0]}]={float(rates[bad[0]])!r} is invalid: every rate must be a finite number >= 0.")
    return lambda e: float(rates[e])


# ------------------------------------------------------------------------------------------ the chapter's sweeps

SEEDS = tuple(range(1, 9))  # the seeds of the final runs; the searches use seed 0


def _summary(runs: list[Run], data: Split, model: Model) -> dict:
    """Per seed: the best validation loss and its epoch, the training loss then, the test accuracy of those
    parameters, and the curves."""
    def at_best(run, values):
        return float(values[run.best_epoch])

    return {
        "val_loss": [at_best(run, run.val_losses) for run in runs],
        "val_accuracy": [at_best(run, run.val_accuracies) for run in runs],
        "train_loss": [at_best(run, run.train_losses) for run in runs],
        "best_epoch": [run.best_epoch for run in runs],
        "test_accuracy": [accuracy(model, run.params, data.X_test, data.y_test) for run in runs],
        "diverged": [run.diverged_at is not None for run in runs],
        "val_curves": [run.val_losses.tolist() for run in runs],
        "train_curves": [run.train_losses.tolist() for run in runs],
    }


def compare_optimizers(names: Sequence[str] = tuple(OPTIMIZERS), seeds: Sequence[int] = SEEDS,
                       epochs: int = EPOCHS, trials: tuple[int, int] = (8, 8)) -> dict:
    r"""The chapter's optimiser comparison. For each optimiser: :func:`random_search` of its learning rate
    (seed 0, ``trials`` runs), then ``epochs`` epochs at the best learning rate from each of ``seeds`` (other
    initialisations and batch orders than the search saw), keeping the epoch of the lowest validation loss.
    Returns, per optimiser, the search (``lrs``, ``scores``), the chosen ``lr`` and the per-seed results of
    the final runs (validation loss and accuracy, training loss, best epoch, test accuracy, curves). About 4
    minutes of one core; :func:`cached` ``("optimizers")`` holds the result.
    """
    data, model = digits_split(), digits_model()
    result = {}
    for name in names:
        search = random_search(name, data, model, trials=trials, epochs=epochs, seed=0)
        runs = [fit_early_stopping(model, make_optimizer(name, search.best_lr), data, epochs, seed=seed)
                for seed in seeds]
        result[name] = {"lr": search.best_lr, "lrs": search.lrs.tolist(), "scores": search.scores.tolist(),
                        **_summary(runs, data, model)}
    return result


def compare_schedules(name: str = "adam", lr: float = 3e-3, factors: Sequence[float] = (1.0, 3.0, 10.0),
                      seeds: Sequence[int] = SEEDS, epochs: int = EPOCHS) -> dict:
    r"""Each schedule of :data:`SCHEDULES` for optimiser ``name`` at the base learning rates ``lr * factor``,
    from each of ``seeds``. Returns ``{f"{schedule} x{factor:g}": per-seed results}``."""
    data, model = digits_split(), digits_model()
    steps = epochs * steps_per_epoch(len(data.y_train), BATCH_SIZE)
    result = {}
    for factor in factors:
        for schedule in SCHEDULES:
            runs = [fit_early_stopping(model, make_optimizer(name, lr * factor, schedule, steps), data, epochs,
                                       seed=seed) for seed in seeds]
            result[f"{schedule} x{factor:g}"] = {"lr": lr * factor, **_summary(runs, data, model)}
    return result


def compare_weight_decay(lr: float = 3e-3, adam_decays: Sequence[float] = (0.0, 1e-4, 1e-3, 1e-2),
                         adamw_decays: Sequence[float] = (0.0, 0.1, 1.0, 10.0), seeds: Sequence[int] = SEEDS,
                         epochs: int = EPOCHS) -> dict:
    r"""Adam with an L2 penalty (``weight_decay`` λ added to the gradient) against AdamW (λ decoupled), at
    learning rate ``lr``, for each λ, from each of ``seeds``. Returns ``{f"{optimiser} {λ:g}": results}``."""
    data, model = digits_split(), digits_model()
    result = {}
    for name, decays in (("adam", adam_decays), ("adamw", adamw_decays)):
        for decay in decays:
            runs = [fit_early_stopping(model, make_optimizer(name, lr, weight_decay=decay), data, epochs,
                                       seed=seed) for seed in seeds]
            result[f"{name} {decay:g}"] = {"weight_decay": decay, **_summary(runs, data, model)}
    return result


def compare_clipping(name: str = "momentum", lrs: Sequence[float] = (0.03, 0.1, 0.3, 1.0),
                     max_norms: Sequence[float | None] = (None, 1.0), seeds: Sequence[int] = SEEDS,
                     epochs: int = EPOCHS) -> dict:
    r"""Optimiser ``name`` at each learning rate of ``lrs``, without clipping (``None``) and with the gradients
    clipped to each global norm of ``max_norms``, from each of ``seeds``. Returns
    ``{f"lr {lr:g}, max_norm {max_norm}": results}``."""
    data, model = digits_split(), digits_model()
    result = {}
    for lr in lrs:
        for max_norm in max_norms:
            runs = [fit_early_stopping(model, make_optimizer(name, lr, max_norm=max_norm), data, epochs,
                                       seed=seed) for seed in seeds]
            result[f"lr {lr:g}, max_norm {max_norm}"] = {"lr": lr, "max_norm": max_norm,
                                                         **_summary(runs, data, model)}
    return result


# ---------------------------------------------------------------------------------------- the explorer's curves

EXPLORER_LRS = tuple(float(10.0 ** (k / 3)) for k in range(-12, 1))  # 1e-4 ... 1, three per decade
EXPLORER_BATCH_SIZES = (16, 32, 128)


def explorer_curves(names: Sequence[str] = tuple(OPTIMIZERS), lrs: Sequence[float] = EXPLORER_LRS,
                    schedules: Sequence[str] = SCHEDULES, batch_sizes: Sequence[int] = EXPLORER_BATCH_SIZES,
                    epochs: int = EPOCHS, seed: int = 0) -> dict[str, np.ndarray]:
    r"""The training and validation loss after every epoch of one run (``seed``) for every combination of
    optimiser, learning rate, schedule and batch size: arrays ``train`` and ``val`` of shape
    ``(len(names), len(lrs), len(schedules), len(batch_sizes), epochs + 1)`` (NaN after a divergence), and
    ``val_accuracy`` of the best epoch, shape ``(len(names), len(lrs), len(schedules), len(batch_sizes))``.
    Chapter 8's explorer draws them; about 12 minutes of one core; :func:`cached` ``("explorer")`` holds them.
    """
    data, model = digits_split(), digits_model()
    shape = (len(names), len(lrs), len(schedules), len(batch_sizes))
    train, val = np.full((*shape, epochs + 1), np.nan), np.full((*shape, epochs + 1), np.nan)
    best = np.full(shape, np.nan)
    for index in np.ndindex(*shape):
        i, j, k, m = index
        steps = epochs * steps_per_epoch(len(data.y_train), batch_sizes[m])
        opt = make_optimizer(names[i], lrs[j], schedules[k], steps)
        run = fit_early_stopping(model, opt, data, epochs, batch_sizes[m], seed=seed)
        train[index][:len(run.train_losses)] = run.train_losses
        val[index][:len(run.val_losses)] = run.val_losses
        best[index] = run.val_accuracies[run.best_epoch]
    return {"train": train, "val": val, "val_accuracy": best}


# ------------------------------------------------------------------------------------------------------- cache

#: The sweeps whose results :func:`cached` reads and ``python -m descent.experiments`` recomputes, by name.
SWEEPS = {"optimizers": compare_optimizers, "schedules": compare_schedules, "weight_decay": compare_weight_decay,
          "clipping": compare_clipping}


def cached(name: str):
    """The stored result of a sweep: ``"optimizers"``, ``"schedules"``, ``"weight_decay"`` or ``"clipping"``
    (a dict, as the function of :data:`SWEEPS` returns it) or ``"explorer"`` (the arrays of
    :func:`explorer_curves`, as float32)."""
    _checks.one_of("name", name, (*SWEEPS, "explorer"))
    folder = resources.files("descent") / "cache"
    if name == "explorer":
        with (folder / "explorer.npz").open("rb") as handle, np.load(handle) as stored:
            return {key: stored[key] for key in stored.files}
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def write_cache(folder=None, names: Sequence[str] = (*SWEEPS, "explorer")) -> None:
    """Recompute the sweeps ``names`` and store them in ``folder`` (default: the package's ``cache/``)."""
    from pathlib import Path

    folder = Path(__file__).with_name("cache") if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == "explorer":
            curves = explorer_curves()
            np.savez_compressed(folder / "explorer.npz", **{k: v.astype(np.float32) for k, v in curves.items()})
        else:
            text = json.dumps(SWEEPS[name](), indent=None, separators=(",", ":"))
            (folder / f"{name}.json").write_text(text + "\n", encoding="utf-8")
        print(f"wrote {name}", flush=True)


if __name__ == "__main__":
    import sys

    write_cache(names=sys.argv[1:] or (*SWEEPS, "explorer"))
