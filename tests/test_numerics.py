"""Tests for descent.numerics: finite-difference gradients and the gradient check."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from descent.losses import mse
from descent.numerics import check_grad, numerical_grad

SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)
ARRAYS = hnp.arrays(np.float64, SHAPES, elements=st.floats(-3.0, 3.0))


def sum_sin(x):
    return float(np.sum(np.sin(x)))


def tree_loss(params):
    return float(np.sum(params["w"] ** 2) + 3.0 * np.sum(params["b"]) + np.prod(params["layer"]["v"]))


def tree_grad(params):
    v = params["layer"]["v"]
    return {"w": 2.0 * params["w"], "b": np.full_like(params["b"], 3.0), "layer": {"v": v[::-1].copy()}}


def tree():
    return {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1]),
            "layer": {"v": np.array([2.0, -4.0])}}


@settings(max_examples=25, deadline=None)
@given(ARRAYS)
def test_numerical_grad_matches_the_derivative_for_any_shape(x):
    grad = numerical_grad(sum_sin, x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, np.cos(x), atol=1e-8)


def test_numerical_grad_of_a_dict_has_the_same_structure():
    grad = numerical_grad(tree_loss, tree())
    expected = tree_grad(tree())
    assert grad.keys() == expected.keys() and grad["layer"].keys() == {"v"}
    for key in ("w", "b"):
        np.testing.assert_allclose(grad[key], expected[key], atol=1e-8)
    np.testing.assert_allclose(grad["layer"]["v"], expected["layer"]["v"], atol=1e-8)


def test_numerical_grad_does_not_modify_its_input():
    x = np.array([[0.3, -1.0], [2.0, 4.0]])
    params = tree()
    before, params_before = x.copy(), tree()
    numerical_grad(sum_sin, x)
    numerical_grad(tree_loss, params)
    np.testing.assert_array_equal(x, before)
    for key in ("w", "b"):
        np.testing.assert_array_equal(params[key], params_before[key])
    np.testing.assert_array_equal(params["layer"]["v"], params_before["layer"]["v"])


def test_numerical_grad_works_in_float64_for_integer_and_float32_input():
    # on an int array x + eps would truncate back to x; in float32 a step of 1e-6 is lost in rounding
    grad = numerical_grad(lambda x: np.sum(x**2), np.array([1, 2]))
    np.testing.assert_allclose(grad, [2.0, 4.0], atol=1e-8)
    grad = numerical_grad(lambda x: np.sum(x**3), np.array([1.5, -0.5], dtype=np.float32))
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, 3 * np.array([1.5, -0.5]) ** 2, atol=1e-7)


def test_numerical_grad_uses_the_value_of_a_loss_tuple():
    pred, target = np.array([1.0, -2.0, 0.5]), np.array([0.0, 1.0, 0.5])
    numeric = numerical_grad(lambda p: mse(p, target), pred)
    np.testing.assert_allclose(numeric, 2 * (pred - target) / 3, atol=1e-8)


def test_numerical_grad_is_exact_for_quadratics_up_to_rounding():
    # central differences have no truncation error for polynomials of degree <= 2
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.7, -1.3])
    np.testing.assert_allclose(numerical_grad(lambda v: 0.5 * v @ A @ v, x), A @ x, atol=1e-9)


def test_check_grad_accepts_a_right_gradient_and_flags_a_wrong_one():
    x = np.array([[0.3, -1.0, 2.0], [0.1, 0.0, -2.5]])
    assert check_grad(sum_sin, np.cos, x) < 1e-6
    # off by a factor 2: |2g - g| / (|2g| + |g|) = 1/3
    assert check_grad(sum_sin, lambda v: 2 * np.cos(v), x) == pytest.approx(1 / 3, rel=1e-6)
    assert check_grad(sum_sin, np.sin, x) > 0.1


def test_check_grad_on_dicts_flags_one_wrong_leaf():
    assert check_grad(tree_loss, tree_grad, tree()) < 1e-6

    def wrong_bias(params):
        return {**tree_grad(params), "b": np.zeros(1)}

    assert check_grad(tree_loss, wrong_bias, tree()) > 0.1


def test_check_grad_accepts_loss_tuples():
    target = np.array([0.0, 1.0, 0.5])

    def loss(p):
        return mse(p, target)

    assert check_grad(loss, loss, np.array([1.0, -2.0, 0.5])) < 1e-6


def test_check_grad_of_zero_gradients_is_zero():
    assert check_grad(lambda x: 5.0, np.zeros_like, np.ones(3)) == 0.0


def test_check_grad_does_not_let_grad_f_modify_x():
    x = np.array([1.0, 2.0])

    def rude_grad(v):
        v *= 0.0  # modifies its argument in place
        return np.cos(np.array([1.0, 2.0]))

    assert check_grad(sum_sin, rude_grad, x) < 1e-6
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: numerical_grad(sum_sin, np.ones(2), eps=0.0), "eps=0.0 is invalid"),
        (lambda: numerical_grad(sum_sin, np.ones(2), eps=-1e-6), "eps=-1e-06 is invalid"),
        (lambda: check_grad(sum_sin, np.cos, np.ones(2), eps=0.0), "eps=0.0 is invalid"),
        (lambda: numerical_grad(lambda x: x, np.ones(2)), "f must return a scalar"),
        (lambda: numerical_grad(sum_sin, None), "x is None"),
        (lambda: check_grad(sum_sin, lambda x: np.ones(3), np.ones(2)), "grad_f returned shape (3,)"),
    ],
    ids=["eps zero", "eps negative", "check eps", "f not scalar", "x None", "grad shape"],
)
def test_bad_arguments_raise_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
