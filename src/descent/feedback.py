r"""Checks for the exercise notebooks: each failure is an ``AssertionError`` whose message teaches.

The visible and hidden tests of every exercise use these instead of bare ``assert`` so that a learner reads
*what* was expected, *what* came back and, where a common mistake explains the difference, a hint:

>>> expect_close("mse([1, 2], [0, 0])", 5.0, 2.5, hint="did you divide by n?")
Traceback (most recent call last):
...
AssertionError: mse([1, 2], [0, 0]): expected 2.5 but got 5.0 — did you divide by n?

Answers are converted to float arrays before they are compared, so an object that claims to equal
everything (a custom ``__eq__``) earns nothing, and NaN never matches a number.
"""

from __future__ import annotations

import numpy as np


def expect_close(what: str, actual, expected, hint: str = "", rtol: float = 1e-6, atol: float = 1e-9) -> None:
    r"""Fail unless ``actual`` has ``expected``'s shape and :math:`|a - e| \le \text{atol} + \text{rtol}\,|e|`
    everywhere.

    >>> expect_close("slope", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-12])
    >>> expect_close("slope", [1.0], [1.0, 2.0])
    Traceback (most recent call last):
    ...
    AssertionError: slope: expected shape (2,) but got shape (1,)
    """
    expected = np.asarray(expected, dtype=float)
    try:
        numbers = np.asarray(actual)
        if numbers.dtype.kind not in "biuf":
            raise TypeError
        actual = numbers.astype(float)
    except (TypeError, ValueError):
        _fail(f"{what}: expected a number or an array of numbers but got {type(actual).__name__}", hint)
    if actual.shape != expected.shape:
        _fail(f"{what}: expected shape {expected.shape} but got shape {actual.shape}", hint)
    close = np.isclose(actual, expected, rtol=rtol, atol=atol)
    if not np.all(close):
        if expected.ndim == 0:
            _fail(f"{what}: expected {_show(expected)} but got {_show(actual)}", hint)
        where = tuple(int(i) for i in np.argwhere(~close)[0])
        _fail(f"{what}: at index {where} expected {_show(expected[where])} but got {_show(actual[where])}", hint)


def expect_true(what: str, condition, message: str, hint: str = "") -> None:
    """Fail with ``what: message`` unless ``condition`` is exactly the boolean True (numpy's included).

    >>> expect_true("gradient_descent", False, "the start point must be the first row")
    Traceback (most recent call last):
    ...
    AssertionError: gradient_descent: the start point must be the first row
    """
    if not (isinstance(condition, bool | np.bool_) and bool(condition)):
        _fail(f"{what}: {message}", hint)


def _show(x) -> str:
    return np.format_float_positional(float(x), precision=6, trim="0") if np.ndim(x) == 0 else repr(x)


def _fail(message: str, hint: str) -> None:
    raise AssertionError(f"{message} — {hint}" if hint else message)
