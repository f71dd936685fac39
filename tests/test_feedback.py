"""The exercise checks: they pass right answers, and fail wrong or cheating ones with a message that teaches."""

import copy
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descent import losses
from descent.feedback import (
    diagnose,
    expect_close,
    expect_false,
    expect_loss,
    expect_raises,
    expect_same_steps,
    expect_true,
    expect_untouched,
    reference_replay,
    replay,
    short,
    state_field,
)
from descent.optim import adam, rmsprop, sgd


class EqualsEverything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


@given(x=st.floats(-1e6, 1e6))
def test_a_right_answer_passes(x):
    expect_close("f(x)", x, x)
    expect_close("f(x)", [x, 2 * x], np.array([x, 2 * x]))


def test_a_wrong_scalar_shows_both_numbers_and_the_hint():
    with pytest.raises(AssertionError, match=r"^mse: expected 12\.5 but got 26\.0 — did you divide by n\?$"):
        expect_close("mse", 26.0, 12.5, hint="did you divide by n?")


def test_a_wrong_array_points_at_the_first_wrong_entry():
    with pytest.raises(AssertionError, match=r"at index \(1, 0\) expected 3\.0 but got 4\.0"):
        expect_close("grad", [[1.0, 2.0], [4.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]])


def test_a_wrong_shape_is_reported_before_any_value():
    with pytest.raises(AssertionError, match=r"expected shape \(3,\) but got shape \(3, 1\)"):
        expect_close("grad", np.zeros((3, 1)), np.zeros(3))


@pytest.mark.parametrize("cheat", [EqualsEverything(0.0), "12.5", None, object()])
def test_objects_that_pretend_to_be_right_earn_nothing(cheat):
    with pytest.raises(AssertionError):
        expect_close("mse", cheat, 12.5)


def test_nan_never_matches():
    with pytest.raises(AssertionError, match=r"expected 1\.0 but got nan"):
        expect_close("loss", float("nan"), 1.0)


@pytest.mark.parametrize("condition", [False, None, 1, "yes", np.array([True, True])])
def test_expect_true_accepts_only_a_real_true(condition):
    with pytest.raises(AssertionError, match=r"^part: must hold$"):
        expect_true("part", condition, "must hold")
    expect_true("part", np.bool_(True), "must hold")


# Diagnosis: a wrong answer that a typical mistake explains is named, whatever the test's generic hint.

arrays = st.lists(st.floats(0.1, 1e3), min_size=1, max_size=6).map(np.array)


@given(expected=arrays, n=st.integers(2, 1000))
def test_a_sum_instead_of_a_mean_is_named_for_every_n(expected, n):
    with pytest.raises(AssertionError, match=rf"exactly n = {n} times too large: did you forget to divide by n\?"):
        expect_close("grad", n * expected, expected, hint="generic", n=n)


@given(expected=arrays, n=st.integers(2, 1000))
def test_dividing_by_n_twice_is_named(expected, n):
    assert diagnose(expected / n, expected, n=n) == f"it is exactly n = {n} times too small: did you divide by n twice?"


@given(expected=arrays)
def test_log10_log2_sign_and_factor_two_are_named(expected):
    assert "np.log10" in diagnose(expected / math.log(10), expected)
    assert "np.log2" in diagnose(expected / math.log(2), expected)
    assert "wrong sign" in diagnose(-expected, expected)
    assert "factor 2" in diagnose(expected / 2, expected)
    assert "exactly 3.0 times" in diagnose(3 * np.append(expected, 1.0), np.append(expected, 1.0))


def test_a_listed_mistake_wins_and_an_unexplained_difference_keeps_the_hint():
    with pytest.raises(AssertionError, match=r"— you used p instead of 1 − p$"):
        expect_close("bce", [0.3, 0.6], [1.0, 2.0], hint="generic",
                     mistakes={"you used p instead of 1 − p": [0.3, 0.6]})
    with pytest.raises(AssertionError, match=r"— generic$"):
        expect_close("bce", [1.0, 3.0], [1.0, 2.0], hint="generic", mistakes={"other": [0.0, 0.0]})
    assert diagnose([1.0, 0.0], [1.0, 2.0]) is None  # no constant ratio
    assert diagnose([np.nan, 1.0], [1.0, 2.0]) is None
    assert diagnose(26.0, 12.5) is None  # one number is always some multiple of another


@given(x=st.floats(allow_nan=True, allow_infinity=True))
def test_numbers_in_messages_are_short_and_exact_enough(x):
    text = short(x)
    assert len(text) <= 13
    if math.isfinite(x):
        assert math.isclose(float(text), x, rel_tol=1e-5, abs_tol=1e-300) or abs(x) < 1e-300
        assert ("e" in text) == (x != 0 and not 1e-4 <= abs(x) < 1e6)


def test_a_huge_expected_value_is_printed_in_scientific_notation():
    with pytest.raises(AssertionError, match=r"^mse: expected 5e\+299 but got 0\.0$"):
        expect_close("mse", 0.0, 5e299)


@pytest.mark.parametrize("value", [True, np.bool_(True), None, 0, "False"])
def test_expect_false_accepts_only_a_real_false(value):
    with pytest.raises(AssertionError, match=r"^has_diverged: expected False \(got "):
        expect_false("has_diverged", value, "expected False")
    expect_false("has_diverged", np.bool_(False), "expected False")


def test_expect_raises_names_the_wrong_exception_and_the_missing_one():
    expect_raises("f", lambda: int("x"), "not a number")
    with pytest.raises(AssertionError, match=r"^f raised KeyError; raise ValueError: bad key$"):
        expect_raises("f", lambda: {}["k"], "bad key")
    with pytest.raises(AssertionError, match=r"^f should raise ValueError: bad key$"):
        expect_raises("f", lambda: None, "bad key")


def test_expect_untouched_sees_changes_in_arrays_lists_and_dicts():
    def scale(grads, factor):
        for g in grads.values():
            g *= factor
        return grads

    assert expect_untouched("neg", np.negative, np.ones(2)).tolist() == [-1.0, -1.0]
    with pytest.raises(AssertionError, match=r"^scale: changed its argument 1 in place"):
        expect_untouched("scale", scale, {"w": np.ones(2)}, 2.0)
    with pytest.raises(AssertionError, match=r"changed its argument values in place"):
        expect_untouched("append", lambda values: values.append(1), values=[0])
    expect_untouched("nan is nan", lambda x: x + 1, np.array([np.nan]))


def mse_summed(p, t):
    return float(np.sum((p - t) ** 2)), 2.0 * (p - t)


def bce_log10(z, y):
    value, grad = losses.binary_cross_entropy_with_logits(z, y)
    return value / math.log(10), grad


def mse_integer_grad(p, t):
    return losses.mse(p, t)[0], np.round(2 * (p - t) / p.size).astype(int)


@pytest.mark.parametrize(("wrong", "reference", "check", "message"), [
    (mse_summed, losses.mse, "value", "exactly n = 6 times too large"),
    (mse_summed, losses.mse, "gradient", "exactly n = 6 times too large"),
    (bce_log10, losses.binary_cross_entropy_with_logits, "value", "np.log10"),
    (mse_integer_grad, losses.mse, "types", "must be a float NumPy array"),
    (lambda p, t: losses.mse(p, t)[0], losses.mse, "value", "must return a pair"),
])
def test_expect_loss_fails_each_mistake_on_its_own_idea_with_its_hint(wrong, reference, check, message):
    pred, target = np.random.default_rng(0).normal(size=(2, 3)), np.random.default_rng(1).integers(0, 2, (2, 3))
    with pytest.raises(AssertionError, match=re.escape(message)):
        expect_loss("loss", wrong, reference, pred, target, check)


@pytest.mark.parametrize("check", ["value", "gradient", "types"])
@pytest.mark.parametrize("name", ["mse", "mae", "hinge", "binary_cross_entropy_with_logits"])
def test_expect_loss_passes_the_reference_itself(name, check):
    rng = np.random.default_rng(2)
    pred, target = rng.normal(size=(3, 4)), rng.choice([-1.0, 1.0], size=(3, 4))
    if name == "binary_cross_entropy_with_logits":
        target = (target + 1) / 2
    loss = getattr(losses, name)
    expect_loss(name, loss, loss, pred, target, check)


def test_a_mistake_in_the_value_costs_the_value_check_only():
    z, y = np.array([[40.0, -1.0], [0.5, 1000.0]]), np.array([[1.0, 0.0], [0.0, 0.0]])
    reference = losses.binary_cross_entropy_with_logits
    for check in ("gradient", "types"):
        expect_loss("bce", bce_log10, reference, z, y, check)
    expect_loss("bce", bce_log10, reference, 100 * z, y, "edge", like=(z, y))  # up to the factor 1/ln 10


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
def test_an_edge_case_fails_on_overflow_and_on_a_wrong_kink_only():
    def naive(z, y):
        p = 1 / (1 + np.exp(-z))
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))), (p - y) / z.size

    def kink(p, t):
        return losses.hinge(p, t)[0], np.where(1 - t * p >= 0, -t, 0.0) / p.size

    ordinary = (np.array([1.0, -1.0]), np.array([1.0, 0.0]))
    expect_loss("bce", naive, losses.binary_cross_entropy_with_logits, *ordinary, "edge", like=ordinary)
    with pytest.raises(AssertionError, match=r"^bce: must be finite, got value inf .* — overflow$"):
        expect_loss("bce", naive, losses.binary_cross_entropy_with_logits, np.array([40.0, -1000.0]),
                    np.array([0.0, 1.0]), "edge", like=ordinary, hint="overflow")
    with pytest.raises(AssertionError, match=r"^hinge gradient: at index \(0,\) expected 0\.0 but got -0\.5"):
        expect_loss("hinge", kink, losses.hinge, np.array([1.0, 3.0]), np.array([1.0, 1.0]), "edge",
                    like=(np.array([0.5, 3.0]), np.array([1.0, -1.0])))


def test_expect_loss_names_a_listed_mistake():
    def without_y(p, t):
        value, _ = losses.hinge(p, t)
        return value, np.where(1 - t * p > 0, -1.0, 0.0) / p.size

    pred, target = np.array([0.5, -0.2, 3.0]), np.array([-1.0, 1.0, 1.0])
    with pytest.raises(AssertionError, match="forgot y"):
        expect_loss("hinge", without_y, losses.hinge, pred, target, "gradient", mistakes={"forgot y": without_y})


def mae_over_rows(p, t):
    error = p - t
    return float(np.sum(np.abs(error)) / len(error)), np.sign(error) / len(error)


@pytest.mark.parametrize("check", ["value", "gradient"])
def test_expect_loss_names_a_mean_over_the_rows_of_a_2d_input(check):
    pred, target = np.random.default_rng(3).normal(size=(4, 3)), np.zeros((4, 3))
    with pytest.raises(AssertionError, match=re.escape("it is 3.0 times too large: you divided by len(pred) = 4")):
        expect_loss("mae", mae_over_rows, losses.mae, pred, target, check)
    expect_loss("mae", mae_over_rows, losses.mae, pred[0], target[0], check)  # one row: len is the size


def test_replay_leaves_the_start_and_the_gradients_alone_when_a_step_works_in_place():
    def in_place(params, g, buf, lr, momentum):
        g += 0.0 * params  # the learner's `grads += weight_decay * params`, with weight_decay 0
        buf = g.copy() if buf is None else buf.__imul__(momentum).__iadd__(g)
        params -= lr * buf
        return params, buf

    start, grads = np.array([1.0, -2.0]), [np.array([0.5, 1.0]), np.array([-1.0, 0.25])]
    before = copy.deepcopy((start, grads))
    mine = replay(in_place, start, grads, (None,), lr=0.1, momentum=0.9)
    np.testing.assert_array_equal(start, before[0])
    for g, then in zip(grads, before[1], strict=True):
        np.testing.assert_array_equal(g, then)
    theirs = reference_replay(sgd(lr=0.1, momentum=0.9), start, grads)
    expect_same_steps("in place", [p for p, _ in mine], [p for p, _ in theirs])


def test_replay_matches_the_reference_optimiser_and_names_the_first_wrong_step():
    def momentum_step(params, g, buf, lr, momentum):
        buf = g if buf is None else momentum * buf + g
        return params - lr * buf, buf

    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    mine = replay(momentum_step, np.zeros(2), grads, (None,), lr=0.1, momentum=0.9)
    theirs = reference_replay(sgd(lr=0.1, momentum=0.9), np.zeros(2), grads)
    expect_same_steps("momentum_step", [p for p, _ in mine], [p for p, _ in theirs])
    plain = [p for p, _ in reference_replay(sgd(lr=0.1), np.zeros(2), grads)]
    with pytest.raises(AssertionError, match=r"^momentum_step, step 2: .* — no momentum$"):
        expect_same_steps("momentum_step", plain, [p for p, _ in theirs], mistakes={"no momentum": plain})


def test_replay_counts_steps_from_one_and_checks_what_comes_back():
    seen = []

    def step(params, g, m, t):
        seen.append(t)
        return params, m

    replay(step, 0.0, [1.0, 1.0, 1.0], (0.0,), counted=True)
    assert seen == [1, 2, 3]
    with pytest.raises(AssertionError, match=r"must return a tuple of 2 values, got 0.0"):
        replay(lambda p, g, m: p, 0.0, [1.0], (0.0,))
    assert len(reference_replay(adam(lr=0.1), np.zeros(3), [np.ones(3)] * 4)) == 4


def test_replay_resumes_at_a_step_and_records_copies_that_in_place_updates_cannot_rewrite():
    def in_place_momentum(params, g, buf, t):  # a learner's buffer updated in place: buf *= 0.9; buf += g
        buf *= 0.9
        buf += g
        return params - 0.1 * buf, buf

    seen = []
    path = replay(lambda p, g, b, t: seen.append(t) or in_place_momentum(p, g, b, t), np.zeros(1),
                  [np.ones(1)] * 3, (np.zeros(1),), counted=True, start=61)
    assert seen == [61, 62, 63]
    assert [float(b[0]) for _, b in path] == pytest.approx([1.0, 1.9, 2.71])  # not [2.71] * 3


def test_state_field_finds_a_buffer_through_the_chain_and_names_a_missing_one():
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5])]
    (_, first), (_, second) = reference_replay(sgd(lr=0.1, momentum=0.9, weight_decay=0.1), np.ones(2), grads)
    b1 = grads[0] + 0.1 * 1.0  # g1 + λθ0
    assert np.allclose(state_field(first, "trace"), b1)
    assert np.allclose(state_field(second, "trace"), 0.9 * b1 + grads[1] + 0.1 * (1.0 - 0.1 * b1))
    (_, state), = reference_replay(rmsprop(lr=0.1, alpha=0.5), np.zeros(2), grads[:1])
    assert np.allclose(state_field(state, "square_avg"), 0.5 * grads[0] ** 2)
    with pytest.raises(ValueError, match="name = 'trace': the state tuple has no such field"):
        state_field(state, "trace")


def test_arrays_in_messages_take_one_short_line():
    def overflowing(p, t):
        return float("nan"), np.array([[1e300, np.nan], [0.5, -2.0]]) * np.ones((2, 2))

    with pytest.raises(AssertionError, match=r"^f: must be finite, got value nan and gradient "
                                             r"\[\[1e\+300, nan\], \[0\.5, -2\.0\]\]$"):
        expect_loss("f", overflowing, losses.mse, np.zeros((2, 2)), np.zeros((2, 2)), "edge", like=(np.ones((2, 2)),
                    np.zeros((2, 2))))
