"""descent: the small, exact reference library of the Descent course."""

from .base import GradientTransformation, apply_updates, chain, global_norm
from .optim import adagrad, adam, adamw, rmsprop, sgd

__all__ = [
    "GradientTransformation", "apply_updates", "chain", "global_norm",
    "adagrad", "adam", "adamw", "rmsprop", "sgd",
]
