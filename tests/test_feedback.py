"""The exercise checks: they pass right answers, and fail wrong or cheating ones with a message that teaches."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descent.feedback import expect_close, expect_true


class EqualsEverything(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


@given(x=st.floats(-1e6, 1e6))
def test_a_right_answer_passes(x):
    expect_close("f(x)", x, x)
    expect_close("f(x)", [x, 2 * x], np.array([x, 2 * x]))


def test_a_wrong_scalar_shows_both_numbers_and_the_hint():
    with pytest.raises(AssertionError, match=r"^mse: expected 12\.5 but got 25\.0 — did you divide by n\?$"):
        expect_close("mse", 25.0, 12.5, hint="did you divide by n?")


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
