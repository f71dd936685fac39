"""descent: the small, exact reference library of the Descent course.

Losses with their gradients, gradient checks, optimisers, learning-rate schedules and gradient clipping with
PyTorch's semantics, 2-D landscapes, tiny models and data sets, training loops, and the theory the chapters
quote (stability limits, rates and optimal parameters on quadratics), and the experiments of chapter 8 on a real
network — NumPy only. Everything
public is importable from the top level, e.g. ``from descent import adam, cosine_annealing, mse``; each
module's docstring says what lives in it.
"""

from . import (
    analysis,
    clipping,
    data,
    experiments,
    feedback,
    landscapes,
    losses,
    models,
    numerics,
    optim,
    schedules,
    train,
)
from .analysis import (
    best_momentum,
    clipped_fraction,
    convergence_rate,
    curvatures,
    gd_optimum,
    gradient_norms,
    heavy_ball_optimum,
    loss_by_direction,
    lr_limit,
    rate_from_losses,
    run_many,
    steps_to_tolerance,
)
from .base import GradientTransformation, apply_updates, chain, find_state, global_norm, step_in_place
from .clipping import clip_by_global_norm, clip_by_value, clip_grad_norm
from .data import (
    load_digits,
    load_penguins,
    make_blobs,
    make_line,
    make_moons,
    minibatch_gradients,
    minibatches,
    standardize,
    train_val_test_split,
)
from .landscapes import Landscape, beale, himmelblau, ill_conditioned, quadratic, rastrigin, rosenbrock, saddle
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    huber,
    log_softmax,
    mae,
    mse,
    sigmoid,
    softmax,
)
from .models import Model, accuracy, linear_regression, logistic_regression, mlp, rnn, softmax_regression
from .numerics import check_grad, numerical_grad
from .optim import adagrad, adam, adamw, rmsprop, sgd
from .schedules import (
    constant,
    cosine_annealing,
    cosine_warm_restarts,
    exponential_lr,
    join_schedules,
    linear_lr,
    one_cycle,
    step_lr,
    warmup_cosine,
)
from .train import DivergenceWarning, History, Trajectory, fit, minimize

__all__ = [name for name in dir() if not name.startswith("_") and name not in {"annotations"}]
