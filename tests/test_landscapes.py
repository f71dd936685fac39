"""Tests for descent.landscapes: gradients against finite differences, the listed minima, vectorisation,
curvature of the quadratics and argument validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent.landscapes import (
    LANDSCAPES,
    Landscape,
    beale,
    himmelblau,
    ill_conditioned,
    quadratic,
    rastrigin,
    rosenbrock,
    saddle,
)
from descent.numerics import numerical_grad

FAST = settings(max_examples=30, deadline=None)

ALL = [factory() for factory in LANDSCAPES.values()] + [
    quadratic([[2.0, 1.0], [1.0, 3.0]]),
    quadratic([[1.0, 1.0], [1.0, 1.0]]),  # singular: a line of minima
    ill_conditioned(kappa=50.0),
    rosenbrock(a=-0.5, b=10.0),
    rastrigin(A=3.0),
]
IDS = [f"{landscape.name}-{i}" for i, landscape in enumerate(ALL)]
WITH_MINIMUM = [(landscape, i) for landscape, i in zip(ALL, IDS, strict=True) if len(landscape.minimum)]


def point_in(bounds, u, v):
    """The point at fractions (u, v) of the plotting window."""
    (x0, x1), (y0, y1) = bounds
    return np.array([x0 + u * (x1 - x0), y0 + v * (y1 - y0)])


UNIT = st.floats(0.0, 1.0)


def test_landscapes_table_lists_every_factory_by_its_name():
    assert set(LANDSCAPES) == {"quadratic", "ill_conditioned", "rosenbrock", "himmelblau", "beale", "saddle",
                               "rastrigin"}
    for name, factory in LANDSCAPES.items():
        landscape = factory()
        assert isinstance(landscape, Landscape)
        assert landscape.name == name


@pytest.mark.parametrize("landscape", ALL, ids=IDS)
@FAST
@given(u=UNIT, v=UNIT)
def test_gradient_matches_finite_differences_inside_the_bounds(landscape, u, v):
    x = point_in(landscape.bounds, u, v)
    # relative and absolute tolerance: at a stationary point the exact gradient is 0 and the difference noise
    scale = 1.0 + abs(float(landscape.f(x)))
    np.testing.assert_allclose(landscape.grad(x), numerical_grad(landscape.f, x), rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize(("landscape", "id_"), WITH_MINIMUM, ids=[i for _, i in WITH_MINIMUM])
def test_listed_minima_are_global_minima_with_zero_gradient(landscape, id_):
    (x0, x1), (y0, y1) = landscape.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 301), np.linspace(y0, y1, 301))
    grid_min = landscape.f(np.stack([xs, ys], axis=-1)).min()
    values = landscape.f(landscape.minimum)
    assert values.shape == (len(landscape.minimum),)
    np.testing.assert_allclose(values, values.min(), atol=1e-12)  # all minima share one value
    assert values.min() <= grid_min + 1e-12
    np.testing.assert_allclose(landscape.grad(landscape.minimum), 0.0, atol=1e-9)
    for x, y in landscape.minimum:  # the window shows every minimum
        assert x0 <= x <= x1 and y0 <= y <= y1


def test_himmelblau_has_four_distinct_minima_of_value_zero():
    minima = himmelblau().minimum
    assert minima.shape == (4, 2)
    assert len({tuple(np.round(m, 3)) for m in minima}) == 4
    np.testing.assert_allclose(himmelblau().f(minima), 0.0, atol=1e-20)


def test_known_minima_of_the_classics():
    np.testing.assert_array_equal(rosenbrock(a=2.0).minimum, [[2.0, 4.0]])
    np.testing.assert_array_equal(beale().minimum, [[3.0, 0.5]])
    np.testing.assert_array_equal(rastrigin().minimum, [[0.0, 0.0]])


def test_saddle_has_no_minimum_but_a_stationary_point():
    landscape = saddle()
    assert landscape.minimum.shape == (0, 2)
    np.testing.assert_array_equal(landscape.grad(np.zeros(2)), [0.0, 0.0])
    assert landscape.f(np.array([0.0, 1.0])) < landscape.f(np.zeros(2)) < landscape.f(np.array([1.0, 0.0]))


@pytest.mark.parametrize("landscape", ALL, ids=IDS)
def test_f_and_grad_are_vectorised_over_leading_axes(landscape):
    points = np.random.default_rng(0).uniform(-1.0, 1.0, size=(3, 4, 2))
    values, grads = landscape.f(points), landscape.grad(points)
    assert values.shape == (3, 4)
    assert grads.shape == (3, 4, 2)
    for index in np.ndindex(3, 4):
        assert values[index] == pytest.approx(float(landscape.f(points[index])), rel=1e-12)
        np.testing.assert_allclose(grads[index], landscape.grad(points[index]), rtol=1e-12)
    assert landscape.f(points[0, 0]).shape == ()
    assert landscape.grad(points[0, 0]).shape == (2,)


def test_f_and_grad_do_not_modify_their_input():
    points = np.array([[0.5, -0.5], [1.0, 2.0]])
    before = points.copy()
    rosenbrock().f(points)
    rosenbrock().grad(points)
    np.testing.assert_array_equal(points, before)


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((4, 3)), np.float64(1.0)])
def test_points_without_a_last_axis_of_two_are_rejected(bad):
    with pytest.raises(ValueError, match=r"shape \(2,\) or \(\.\.\., 2\)"):
        rosenbrock().f(bad)
    with pytest.raises(ValueError, match="x has shape"):
        rosenbrock().grad(bad)


@FAST
@given(kappa=st.floats(1.0, 1e4), u=UNIT, v=UNIT)
def test_ill_conditioned_has_curvature_1_along_x_and_kappa_along_y(kappa, u, v):
    landscape = ill_conditioned(kappa)
    x = point_in(landscape.bounds, u, v)
    np.testing.assert_allclose(landscape.grad(x), [x[0], kappa * x[1]], rtol=1e-12)
    np.testing.assert_allclose(landscape.hessian, np.diag([1.0, kappa]))
    assert landscape.lipschitz == pytest.approx(kappa)


@FAST
@given(angle=st.floats(0.0, np.pi), low=st.floats(0.0, 5.0), extra=st.floats(0.0, 5.0))
def test_quadratic_lipschitz_is_the_largest_eigenvalue(angle, low, extra):
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    A = rotation @ np.diag([low, low + extra]) @ rotation.T
    A = (A + A.T) / 2
    landscape = quadratic(A)
    assert landscape.lipschitz == pytest.approx(low + extra, abs=1e-9)
    x = np.array([0.3, -0.7])
    assert float(landscape.f(x)) == pytest.approx(0.5 * x @ A @ x, abs=1e-12)


def test_saddle_lipschitz_is_the_largest_absolute_curvature():
    assert saddle().lipschitz == 2.0


def test_lipschitz_of_a_non_quadratic_landscape_is_an_error():
    with pytest.raises(ValueError, match="no constant Hessian"):
        _ = rosenbrock().lipschitz


@pytest.mark.parametrize(("A", "match"), [
    ([[1.0, 2.0], [0.0, 1.0]], "not symmetric"),
    ([[1.0, 0.0], [0.0, -1.0]], "positive semi-definite"),
    ([[1.0, 3.0], [3.0, 1.0]], "positive semi-definite"),
    (np.eye(3), r"2x2"),
    ([[np.nan, 0.0], [0.0, 1.0]], "NaN"),
])
def test_quadratic_rejects_bad_matrices(A, match):
    with pytest.raises(ValueError, match=match):
        quadratic(A)


@pytest.mark.parametrize(("factory", "kwargs", "name"), [
    (ill_conditioned, {"kappa": 0.5}, "kappa"),
    (ill_conditioned, {"kappa": np.inf}, "kappa"),
    (rosenbrock, {"b": 0.0}, "b"),
    (rosenbrock, {"a": np.nan}, "a"),
    (rastrigin, {"A": -1.0}, "A"),
    (rastrigin, {"A": "10"}, "A"),
])
def test_bad_parameters_raise_value_error_naming_them(factory, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}="):
        factory(**kwargs)
