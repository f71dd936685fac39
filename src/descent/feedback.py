r"""Checks for the exercise notebooks: each failure is an ``AssertionError`` whose message teaches.

The visible and hidden tests of every exercise use these instead of bare ``assert`` so that a learner reads
*what* was expected, *what* came back and, where a common mistake explains the difference, which mistake:

>>> expect_close("mse([1, 2], [0, 0])", 5.0, 2.5, n=2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
AssertionError: mse([1, 2], [0, 0]): expected 2.5 but got 5.0 — it is exactly n = 2 times too large: did you ...

A test names the typical wrong answers it knows (``mistakes``, a dict from hint to wrong answer); a wrong answer
that is a constant multiple of the right one (a sign, a missing 1/n, a logarithm in another base, a lost factor 2)
is recognised without being listed. Answers are converted to float arrays before they are compared, so an object
that claims to equal everything (a custom ``__eq__``) earns nothing, and NaN never matches a number. Numbers in
messages are short: scientific notation past 10⁶ or below 10⁻⁴.

The helpers for optimiser steps replay a learner's step function over a list of gradients (:func:`replay`) and the
reference optimiser over the same list (:func:`reference_replay`, whose states :func:`state_field` reads), so that
tests compare the two step by step.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_NAMED_RATIOS = (
    (-1.0, "it has the right size but the wrong sign: check the sign of the difference (ŷ − y, or θ − α g)"),
    (1 / math.log(10), "it is ln 10 ≈ 2.303 times too small: did you use np.log10? Use the natural logarithm np.log"),
    (1 / math.log(2), "it is 1/ln 2 ≈ 1.443 times too large: did you use np.log2? Use the natural logarithm np.log"),
    (0.5, "it is exactly half the right answer: did you drop a factor 2?"),
    (2.0, "it is exactly twice the right answer: is a factor 2 there twice?"),
)


def expect_close(what: str, actual, expected, hint: str = "", rtol: float = 1e-6, atol: float = 1e-9,
                 mistakes: dict[str, Any] | None = None, n: int | None = None, explain: bool = True) -> None:
    r"""Fail unless ``actual`` has ``expected``'s shape and :math:`|a - e| \le \text{atol} + \text{rtol}\,|e|`
    everywhere.

    On failure the hint is the one of the first wrong answer in ``mistakes`` that ``actual`` matches, else the
    mistake :func:`diagnose` recognises (``n``, the number of elements averaged, names a missing 1/n; ``explain=False``
    turns this off), else ``hint``.

    >>> expect_close("slope", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-12])
    >>> expect_close("slope", [1.0], [1.0, 2.0])
    Traceback (most recent call last):
    ...
    AssertionError: slope: expected shape (2,) but got shape (1,)
    >>> expect_close("grad", [-1.0, 2.0], [1.0, -2.0], hint="∂L/∂ŷ = 2 (ŷ − y) / n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: grad: at index (0,) expected 1.0 but got -1.0 — it has the right size but the wrong sign: ...
    """
    expected = np.asarray(expected, dtype=float)
    numbers = _numbers(actual)
    if numbers is None:
        _fail(f"{what}: expected a number or an array of numbers but got {type(actual).__name__}", hint)
    if numbers.shape != expected.shape:
        _fail(f"{what}: expected shape {expected.shape} but got shape {numbers.shape}", hint)
    close = np.isclose(numbers, expected, rtol=rtol, atol=atol)
    if np.all(close):
        return
    hint = diagnose(numbers, expected, mistakes, n, explain) or hint
    if expected.ndim == 0:
        _fail(f"{what}: expected {short(expected)} but got {short(numbers)}", hint)
    where = tuple(int(i) for i in np.argwhere(~close)[0])
    _fail(f"{what}: at index {where} expected {short(expected[where])} but got {short(numbers[where])}", hint)


def diagnose(actual, expected, mistakes: dict[str, Any] | None = None, n: int | None = None,
             ratios: bool = True) -> str | None:
    """The hint naming the typical mistake that turns ``expected`` into ``actual``, or None if none fits.

    ``mistakes`` maps a hint to the wrong answer that mistake gives; failing those, a wrong answer that is a constant
    multiple ``k`` of the right one is named: ``k = n`` (a sum instead of a mean), ``1/n``, ``-1``, ``1/ln 10``,
    ``1/ln 2``, ``2``, ``1/2``, or any other ``k`` by its value when more than one entry shows it (unless
    ``ratios`` is False).

    >>> diagnose([4.0, 8.0], [1.0, 2.0], n=4)
    'it is exactly n = 4 times too large: did you forget to divide by n?'
    >>> diagnose([0.3, 0.6], [1.0, 2.0], mistakes={"you used p instead of 1 − p": [0.3, 0.6]})
    'you used p instead of 1 − p'
    >>> diagnose([1.0, 3.0], [1.0, 2.0]) is None
    True
    """
    numbers = _numbers(actual)
    expected = np.asarray(expected, dtype=float)
    if numbers is None:
        return None
    for text, wrong in (mistakes or {}).items():
        wrong = _numbers(wrong)
        if wrong is not None and wrong.shape == numbers.shape and _matches(numbers, wrong):
            return text
    if not ratios or numbers.shape != expected.shape or not np.all(np.isfinite(numbers)):
        return None
    ratio = _ratio(numbers, expected)
    if ratio is None:
        return None
    if n is not None and n > 1 and math.isclose(ratio, n, rel_tol=1e-6):
        return f"it is exactly n = {n} times too large: did you forget to divide by n?"
    if n is not None and n > 1 and math.isclose(ratio, 1 / n, rel_tol=1e-6):
        return f"it is exactly n = {n} times too small: did you divide by n twice?"
    for k, text in _NAMED_RATIOS:
        if math.isclose(ratio, k, rel_tol=1e-6):
            return text
    if np.count_nonzero(expected) < 2:
        return None  # one number is always some multiple of another
    return f"it is exactly {short(ratio)} times the right answer: look for a wrong constant factor"


def expect_true(what: str, condition, message: str, hint: str = "") -> None:
    """Fail with ``what: message`` unless ``condition`` is exactly the boolean True (numpy's included).

    >>> expect_true("gradient_descent", False, "the start point must be the first row")
    Traceback (most recent call last):
    ...
    AssertionError: gradient_descent: the start point must be the first row
    """
    if not (isinstance(condition, bool | np.bool_) and bool(condition)):
        _fail(f"{what}: {message}", hint)


def expect_false(what: str, value, message: str, hint: str = "") -> None:
    """Fail unless ``value`` is exactly the boolean False (numpy's included); the message shows what came back.

    >>> expect_false("has_diverged([3, 2, 1])", True, "a falling loss has not diverged")
    Traceback (most recent call last):
    ...
    AssertionError: has_diverged([3, 2, 1]): a falling loss has not diverged (got True)
    """
    expect_true(what, isinstance(value, bool | np.bool_) and not value, f"{message} (got {_brief(value)})", hint)


def expect_raises(what: str, call: Callable[[], Any], reason: str, error: type[Exception] = ValueError) -> None:
    """Fail unless ``call()`` raises ``error`` (``ValueError`` by default); ``reason`` says why it should.

    >>> expect_raises("sqrt(-1)", lambda: math.sqrt(-1), "the argument is negative")
    >>> expect_raises("abs(-1)", lambda: abs(-1), "the argument is negative")
    Traceback (most recent call last):
    ...
    AssertionError: abs(-1) should raise ValueError: the argument is negative
    """
    try:
        call()
    except error:
        return
    except Exception as other:
        raise AssertionError(f"{what} raised {type(other).__name__}; raise {error.__name__}: {reason}") from None
    raise AssertionError(f"{what} should raise {error.__name__}: {reason}")


def expect_untouched(what: str, function: Callable, *args, **kwargs):
    """Call ``function(*args, **kwargs)`` and fail if it changed any of its arguments in place; return its result.

    >>> expect_untouched("sorted", sorted, [3, 1, 2])
    [1, 2, 3]
    >>> expect_untouched("list.sort", list.sort, [3, 1, 2])
    Traceback (most recent call last):
    ...
    AssertionError: list.sort: changed its argument 1 in place: compute new arrays instead of assigning into it
    """
    before = copy.deepcopy((args, kwargs))
    result = function(*args, **kwargs)
    for position, (now, then) in enumerate(zip(args, before[0], strict=True), start=1):
        if not _same(now, then):
            _fail(f"{what}: changed its argument {position} in place: compute new arrays instead of assigning "
                  "into it", "")
    for name, now in kwargs.items():
        if not _same(now, before[1][name]):
            _fail(f"{what}: changed its argument {name} in place: compute new arrays instead of assigning into it",
                  "")
    return result


def expect_loss(what: str, loss: Callable, reference: Callable | None, pred, target, check: str,
                mistakes: dict[str, Callable] | None = None, n: int | None = None, like: tuple | None = None,
                hint: str = "") -> None:
    r"""Check one idea of a learner's loss ``loss(pred, target) -> (value, grad)`` against ``reference``.

    ``check`` is ``"value"`` (the mean loss), ``"gradient"`` (:math:`\partial L / \partial \hat y`), ``"types"``
    (a Python float and a float array of ``pred``'s shape) or ``"edge"``: an extreme but valid input gives a finite
    value and gradient that agree with the reference up to the constant factor the learner's loss shows on the
    ordinary input ``like = (pred, target)`` of the same shapes (not compared where the ordinary input is already
    wrong), so that a mistake in the formula costs the value or gradient test, not this one.
    ``mistakes`` maps a hint to a function ``(pred, target) -> (value, grad)``
    computing a typical wrong loss; a missing 1/n (``n`` defaults to ``pred.size``), a mean over the rows
    ``len(pred)`` of a 2-D ``pred`` instead of its ``n`` elements, a wrong sign or log base is recognised without
    being listed. The ``"types"`` check needs no reference (pass None).

    >>> from descent.losses import mse
    >>> def summed(p, t): return float(np.sum((p - t) ** 2)), 2 * (p - t)
    >>> expect_loss("mse", summed, mse, np.array([1.0, 2.0]), np.zeros(2), "gradient")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: mse gradient: at index (0,) expected 1.0 but got 2.0 — it is exactly n = 2 times too large: ...
    """
    pred, target = np.asarray(pred), np.asarray(target)
    value, grad = _pair(what, loss(pred.copy(), target.copy()))  # whether it changes them is another test
    n = pred.size if n is None else n
    if check == "types":
        expect_true(f"{what} value", isinstance(value, float), f"must be a Python float, got {type(value).__name__}",
                    hint="return float(...)")
        expect_true(f"{what} gradient", isinstance(grad, np.ndarray) and grad.dtype.kind == "f",
                    f"must be a float NumPy array, got {_kind(grad)}", hint="build it from float arrays")
        expect_true(f"{what} gradient", np.shape(grad) == pred.shape,
                    f"must have pred's shape {pred.shape}, got {np.shape(grad)}")
        return
    if check not in ("value", "gradient", "edge"):
        raise ValueError(f"check={check!r}: use 'value', 'gradient', 'types' or 'edge'")
    with np.errstate(under="ignore"):  # e^-1000 rounds to 0, as it should: not worth a warning
        right_value, right_grad = reference(pred, target)
    if check == "edge":
        if like is None or np.shape(like[0]) != pred.shape:
            raise ValueError(f"like: an ordinary input of pred's shape {pred.shape} is needed for check='edge'")
        finite = all(x is not None and bool(np.all(np.isfinite(x))) for x in (_numbers(value), _numbers(grad)))
        expect_true(what, finite, f"must be finite, got value {_brief(value)} and gradient {_brief(grad)}", hint)
        mine, right = _pair(what, loss(*(np.copy(x) for x in like))), reference(*like)  # ordinary: no underflow
        for name, got, want, ordinary_got, ordinary_want in [("value", value, right_value, mine[0], right[0]),
                                                             ("gradient", grad, right_grad, mine[1], right[1])]:
            k = _factor(ordinary_got, ordinary_want)
            if k is not None:  # else the ordinary input is already wrong: the value or gradient test says how
                expect_close(f"{what} {name}", got, k * np.asarray(want), hint=hint, explain=False)
        return
    with np.errstate(under="ignore"):
        wrong = {text: wrong_loss(pred, target) for text, wrong_loss in (mistakes or {}).items()}
    if pred.ndim >= 2 and n == pred.size:  # len(pred) counts the rows only: a mean over them is too large
        k = n / len(pred)
        wrong[f"it is {short(k)} times too large: you divided by len(pred) = {len(pred)}, the number of rows; the "
              f"mean runs over all n = {n} elements (pred.size, or np.mean)"] = (k * right_value, k * right_grad)
    if check == "value":
        expect_close(f"{what} value", value, right_value, n=n,
                     mistakes={text: pair[0] for text, pair in wrong.items()})
    else:
        expect_close(f"{what} gradient", grad, right_grad, n=n,
                     mistakes={text: pair[1] for text, pair in wrong.items()},
                     hint="each entry is ∂L/∂ŷ_i of the mean loss")


def replay(step: Callable, params, grads: Sequence, state: Sequence, *, counted: bool = False, start: int = 1,
           **options) -> list[tuple]:
    """Call a learner's step function once per gradient, feeding back what it returns.

    ``step(params, g, *state, **options)`` (with the step number ``t`` after the state when ``counted``, from
    ``start``: a run resumed at step 61 has ``start=61``) returns ``(new_params, *new_state)``; the result is a
    copy of that tuple after each step. Each call gets copies of its arguments, so a step that changes them in
    place (a test of its own catches that) can rewrite neither the record nor the caller's start and gradients,
    which the reference replays next.

    >>> def halve(params, g, count): return params - 0.5 * g, count + 1
    >>> [float(p) for p, _ in replay(halve, 1.0, [1.0, 1.0], (0,))]
    [0.5, 0.0]
    >>> def scale_in_place(params, g, t): params *= t; return (params,)
    >>> [p.tolist() for p, in replay(scale_in_place, np.ones(1), [0.0, 0.0], (), counted=True, start=2)]
    [[2.0], [6.0]]
    """
    path = []
    for t, g in enumerate(grads, start=start):
        args = copy.deepcopy((params, g, *state))
        out = step(*args, t, **options) if counted else step(*args, **options)
        expect_true(step.__name__, isinstance(out, tuple | list) and len(out) == len(state) + 1,
                    f"must return a tuple of {len(state) + 1} values, got {_brief(out)}")
        params, *state = out
        path.append(copy.deepcopy(tuple(out)))
    return path


def reference_replay(opt, params, grads: Sequence) -> list[tuple]:
    """The reference optimiser ``opt`` (a ``descent.optim`` transformation) over the same gradients: the pair
    ``(params, state)`` after each step.

    >>> from descent.optim import sgd
    >>> [float(p) for p, _ in reference_replay(sgd(lr=0.5), np.array(1.0), [1.0, 1.0])]
    [0.5, 0.0]
    """
    from .base import apply_updates

    state, path = opt.init(params), []
    for g in grads:
        updates, state = opt.update(np.asarray(g, dtype=float), state, params)
        params = apply_updates(params, updates)
        path.append((params, state))
    return path


def state_field(state, name: str):
    """The field ``name`` of an optimiser's state, found through a chain of states: the momentum buffer ``trace``,
    RMSprop's ``square_avg``, Adam's ``mu`` and ``nu``, ...

    >>> from descent.optim import sgd
    >>> [float(state_field(s, "trace")) for _, s in reference_replay(sgd(lr=0.1, momentum=0.9), 0.0, [1.0, 1.0])]
    [1.0, 1.9]
    """
    if name in getattr(state, "_fields", ()):
        return getattr(state, name)
    for part in state if isinstance(state, tuple) else ():
        try:
            return state_field(part, name)
        except ValueError:
            continue
    raise ValueError(f"name = {name!r}: the state {type(state).__name__} has no such field")


def expect_same_steps(what: str, mine: Sequence, theirs: Sequence, rtol: float = 1e-10, atol: float = 1e-14,
                      hint: str = "", mistakes: dict[str, Sequence] | None = None) -> None:
    """Compare two sequences of arrays step by step (steps count from 1) and name the first step that differs.

    ``mistakes`` maps a hint to the sequence a typical wrong step function gives.

    >>> expect_same_steps("sgd", [[0.5], [0.0]], [[0.5], [0.25]])
    Traceback (most recent call last):
    ...
    AssertionError: sgd, step 2: at index (0,) expected 0.25 but got 0.0
    """
    expect_true(what, len(mine) == len(theirs), f"expected {len(theirs)} steps, got {len(mine)}")
    for t, (got, want) in enumerate(zip(mine, theirs, strict=True), start=1):
        wrong = {text: path[t - 1] for text, path in (mistakes or {}).items()}
        expect_close(f"{what}, step {t}", got, want, rtol=rtol, atol=atol, hint=hint, mistakes=wrong)


def short(x) -> str:
    """A number as a learner reads it: positional between 1e-4 and 1e6, scientific outside.

    >>> short(12.5), short(5e299), short(-1e-10), short(0.0), short(float("nan"))
    ('12.5', '5e+299', '-1e-10', '0.0', 'nan')
    """
    x = float(x)
    if x != 0 and math.isfinite(x) and not 1e-4 <= abs(x) < 1e6:
        return f"{x:.6g}"
    return np.format_float_positional(x, precision=6, fractional=False, trim="0") if math.isfinite(x) else str(x)


def _numbers(x) -> np.ndarray | None:
    try:
        numbers = np.asarray(x)
    except (TypeError, ValueError):
        return None
    return numbers.astype(float) if numbers.dtype.kind in "biuf" else None


def _matches(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.isclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True)))


def _ratio(actual: np.ndarray, expected: np.ndarray) -> float | None:
    """The constant k with actual = k·expected (where expected is not 0, and actual is 0 where it is), if any."""
    big = np.abs(expected) > 1e-300
    if not np.any(big) or not np.all(np.abs(actual[~big]) <= 1e-300):
        return None
    ratios = actual[big] / expected[big]
    k = float(np.median(ratios))
    return k if k != 0 and np.allclose(ratios, k, rtol=1e-6, atol=0) and not math.isclose(k, 1, rel_tol=1e-6) else None


def _factor(actual, expected) -> float | None:
    """The constant factor between a learner's answer and the right one: 1 if they agree, None if no constant
    factor turns one into the other."""
    actual, expected = _numbers(actual), np.asarray(expected, dtype=float)
    if actual is None or actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return None
    if _matches(actual, expected):
        return 1.0
    return _ratio(actual, expected)


def _same(a, b) -> bool:
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    if isinstance(b, list | tuple) and not np.isscalar(b):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=b.dtype.kind
                                                                                       in "fc"))
    try:
        return bool(a == b or (a != a and b != b))
    except (TypeError, ValueError):
        return a is b


def _pair(what: str, out) -> tuple:
    expect_true(what, isinstance(out, tuple | list) and len(out) == 2,
                f"must return a pair (value, grad), got {_brief(out)}", hint="return value, grad")
    return out[0], out[1]


def _kind(x) -> str:
    return f"{type(x).__name__} of dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__


def _brief(x) -> str:
    if isinstance(x, bool | np.bool_ | type(None)):
        return repr(x)
    if isinstance(x, int | float | np.number):
        return short(x)
    numbers = _numbers(x) if isinstance(x, np.ndarray) else None
    text = repr(x) if numbers is None else np.array2string(numbers, max_line_width=10**6, separator=", ",
                                                            threshold=8, formatter={"float_kind": short})
    text = " ".join(text.split())  # one line
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(message: str, hint: str) -> None:
    raise AssertionError(f"{message} — {hint}" if hint else message)
