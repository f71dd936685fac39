"""Argument checks shared by the library: every failure is a ``ValueError`` that names the argument,
the value it got and the range it accepts, so a learner can fix the call from the message alone."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

import numpy as np


def _fail(name: str, value, valid: str, hint: str = "") -> None:
    message = f"{name}={value!r} is invalid: {name} must be {valid}."
    raise ValueError(f"{message} {hint}".strip())


def number(name: str, value, *, low: float = -math.inf, high: float = math.inf,
           low_open: bool = False, high_open: bool = False, hint: str = "") -> float:
    """Return ``value`` as a float after checking it is a real number inside the given interval."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        _fail(name, value, "a real number", hint)
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if math.isnan(value) or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        _fail(name, value, f"in {left}{low:g}, {high:g}{right}", hint)
    return value


def integer(name: str, value, *, low: int = 0) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        _fail(name, value, f"an integer >= {low}")
    return int(value)


def learning_rate(name: str, value) -> float | Callable[[int], float]:
    """A learning rate is a number >= 0 or a schedule (any callable taking the step index)."""
    if callable(value):
        return value
    return number(name, value, low=0.0, hint="Pass a small positive number such as 0.01, or a schedule.")


def one_of(name: str, value, options) -> None:
    if value not in options:
        _fail(name, value, "one of " + ", ".join(repr(o) for o in options))


def finite_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a float ndarray, refusing NaN and infinity."""
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity; check the values you passed for {name}.")
    return array
