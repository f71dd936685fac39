"""Tests for descent.train: convergence, the exact gradient-descent path on a quadratic, divergence that stops
with a message and a finite truncated record, determinism, and argument validation."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent.data import make_blobs, make_line, make_moons
from descent.landscapes import ill_conditioned, quadratic, rosenbrock, saddle
from descent.models import accuracy, linear_regression, logistic_regression, mlp
from descent.optim import adam, sgd
from descent.train import DivergenceWarning, History, Trajectory, fit, minimize

FAST = settings(max_examples=20, deadline=None)


@FAST
@given(kappa=st.floats(1.0, 10.0), x=st.floats(-2.0, 2.0), y=st.floats(-2.0, 2.0))
def test_sgd_on_a_quadratic_converges_to_the_minimum(kappa, x, y):
    landscape = ill_conditioned(kappa)
    run = minimize(sgd(lr=1.0 / landscape.lipschitz), landscape, [x, y], steps=400)
    assert isinstance(run, Trajectory)
    assert run.params.shape == (401, 2) and run.losses.shape == (401,)
    np.testing.assert_allclose(run.params[-1], landscape.minimum[0], atol=1e-8)
    assert run.diverged_at is None and run.message is None


def test_trajectory_is_the_closed_form_path_of_gradient_descent():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    x0, lr = np.array([1.5, -1.0]), 0.2
    run = minimize(sgd(lr=lr), quadratic(A), x0, steps=25)
    expected = [np.linalg.matrix_power(np.eye(2) - lr * A, t) @ x0 for t in range(26)]
    np.testing.assert_allclose(run.params, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run.losses, [0.5 * p @ A @ p for p in expected], rtol=1e-12, atol=1e-15)


def test_zero_steps_give_the_start_alone_and_x0_is_not_modified():
    x0 = np.array([0.5, 0.5])
    run = minimize(sgd(lr=0.1), rosenbrock(), x0, steps=0)
    np.testing.assert_array_equal(run.params, [[0.5, 0.5]])
    assert run.losses.shape == (1,)
    run = minimize(sgd(lr=1e-3), rosenbrock(), x0, steps=3)
    np.testing.assert_array_equal(x0, [0.5, 0.5])


def test_minimize_accepts_a_schedule_and_adam():
    run = minimize(adam(lr=lambda step: 0.05 / (1 + step / 500)), rosenbrock(), [-1.0, 1.5], steps=3000)
    assert run.losses[-1] < 1e-3 * run.losses[0]


@pytest.mark.parametrize("factor", [1.2, 2.0, 5.0])
def test_divergence_above_2_over_L_stops_with_a_warning_and_a_finite_truncated_path(factor):
    landscape = ill_conditioned(kappa=10.0)
    lr = factor * 2.0 / landscape.lipschitz
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = minimize(sgd(lr=lr), landscape, [1.0, 1.0], steps=100_000)
    assert [w.category for w in caught] == [DivergenceWarning]  # and no NumPy overflow warnings
    step = run.diverged_at
    assert isinstance(step, int) and 1 <= step < 100_000
    assert run.message == str(caught[0].message)
    assert f"step {step}" in run.message and f"step {step - 1}" in run.message
    assert "smaller lr" in run.message and "2/λ_max = 0.2" in run.message
    assert run.params.shape == (step, 2) and run.losses.shape == (step,)
    assert np.all(np.isfinite(run.params)) and np.all(np.isfinite(run.losses))
    assert np.all(np.diff(run.losses) > 0)  # it was blowing up all along
    # the last finite loss quoted is the last recorded one
    assert f"{run.losses[-1]:.6g}" in run.message
    # the truncated path is exactly the start of an undiverged run
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prefix = minimize(sgd(lr=lr), landscape, [1.0, 1.0], steps=step - 1)
    np.testing.assert_array_equal(prefix.params, run.params)


def test_divergence_warning_points_at_the_caller():
    with pytest.warns(DivergenceWarning, match=r"diverged at step \d+") as record:
        minimize(sgd(lr=1.0), ill_conditioned(10.0), [1.0, 1.0], steps=10_000)
    assert record[0].filename == __file__


def test_divergence_can_be_made_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        with pytest.raises(DivergenceWarning):
            minimize(sgd(lr=1.0), ill_conditioned(10.0), [1.0, 1.0], steps=10_000)


def test_a_saddle_is_unbounded_below_and_the_message_says_so():
    with pytest.warns(DivergenceWarning, match="unbounded below"):
        run = minimize(sgd(lr=0.4), saddle(), [1.0, 1e-3], steps=10_000)
    assert run.losses[-1] < -1e300


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"steps": -1}, "steps=-1"),
    ({"steps": 2.5}, "steps=2.5"),
    ({"x0": [1.0, 2.0, 3.0]}, r"x0 has shape \(3,\)"),
    ({"x0": [np.nan, 0.0]}, "x0 contains NaN"),
    ({"x0": [1e200, 1e200]}, "the loss there is inf"),
    ({"opt": sgd}, "not a GradientTransformation"),
    ({"landscape": rosenbrock}, "not a Landscape"),
])
def test_minimize_rejects_bad_arguments(kwargs, match):
    arguments = {"opt": sgd(lr=0.1), "landscape": rosenbrock(), "x0": [0.0, 0.0], "steps": 5} | kwargs
    with pytest.raises(ValueError, match=match):
        minimize(**arguments)


# ------------------------------------------------------------------------------------------------- fit


def test_full_batch_fit_takes_one_step_per_epoch_and_reaches_least_squares():
    X, y = make_line(n=60, slope=-1.0, intercept=2.0, noise=0.3, seed=4)
    history = fit(linear_regression(), sgd(lr=0.2), X, y, epochs=500)
    assert isinstance(history, History)
    assert history.losses.shape == (500,) and history.epoch_losses.shape == (501,)
    # full batch: the loss before update t is the whole-data loss after epoch t - 1
    np.testing.assert_allclose(history.losses, history.epoch_losses[:-1], rtol=1e-12)
    solution, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(60)]), y, rcond=None)
    np.testing.assert_allclose([history.params["w"][0], history.params["b"][0]], solution, atol=1e-8)
    assert history.diverged_at is None and history.message is None


@pytest.mark.parametrize(("n", "batch_size", "steps_per_epoch"), [(50, 10, 5), (50, 7, 8), (50, 64, 1)])
def test_minibatch_fit_takes_ceil_n_over_b_steps_per_epoch(n, batch_size, steps_per_epoch):
    X, y = make_line(n=n, seed=0)
    history = fit(linear_regression(), sgd(lr=0.05), X, y, epochs=3, batch_size=batch_size)
    assert history.losses.shape == (3 * steps_per_epoch,) == (3 * math.ceil(n / batch_size),)
    assert history.epoch_losses.shape == (4,)


def test_fit_is_deterministic_under_a_seed_and_the_seed_matters():
    X, y = make_moons(n=80, seed=0)
    model = mlp(hidden=8, task="binary")

    def run(seed):
        return fit(model, adam(lr=0.01), X, y, epochs=5, batch_size=16, seed=seed)

    first, second, other = run(1), run(1), run(2)
    np.testing.assert_array_equal(first.losses, second.losses)
    np.testing.assert_array_equal(first.epoch_losses, second.epoch_losses)
    for key in first.params:
        np.testing.assert_array_equal(first.params[key], second.params[key])
    assert not np.array_equal(first.losses, other.losses)


def test_fit_starts_from_given_params_without_modifying_them():
    X, y = make_line(n=20, seed=0)
    start = {"w": np.array([0.0]), "b": np.array([0.0])}
    history = fit(linear_regression(), sgd(lr=0.1), X, y, epochs=1, params=start)
    np.testing.assert_array_equal(start["w"], [0.0])
    assert history.epoch_losses[0] == pytest.approx(np.mean(y**2))


def test_fit_trains_classifiers():
    X, y = make_blobs(n=200, distance=6.0, spread=0.8, seed=3)
    history = fit(logistic_regression(), sgd(lr=0.5), X, y, epochs=20, batch_size=20)
    assert accuracy(logistic_regression(), history.params, X, y) >= 0.99
    X, y = make_moons(n=200, noise=0.1, seed=0)
    model = mlp(hidden=16, task="binary")
    history = fit(model, adam(lr=0.02), X, y, epochs=100, batch_size=32)
    assert accuracy(model, history.params, X, y) >= 0.95
    assert history.epoch_losses[-1] < 0.3 * history.epoch_losses[0]


@pytest.mark.parametrize("batch_size", [None, 10])
def test_fit_divergence_stops_with_a_warning_and_keeps_finite_params(batch_size):
    X, y = make_line(n=50, noise=0.1, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(linear_regression(), sgd(lr=5.0), X, y, epochs=10_000, batch_size=batch_size)
    assert [w.category for w in caught] == [DivergenceWarning]
    step = history.diverged_at
    assert isinstance(step, int) and step == len(history.losses)
    assert f"diverged at step {step}" in history.message and "smaller lr" in history.message
    assert np.all(np.isfinite(history.losses)) and np.all(np.isfinite(history.epoch_losses))
    assert all(np.all(np.isfinite(value)) for value in history.params.values())
    assert len(history.epoch_losses) < 10_000


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"epochs": -1}, "epochs=-1"),
    ({"batch_size": 0}, "batch_size=0"),
    ({"model": linear_regression}, "not a Model"),
    ({"opt": None}, "not a GradientTransformation"),
    ({"X": np.zeros(5)}, r"X has shape \(5,\)"),
    ({"y": np.zeros(4)}, "one target per row"),
    ({"params": {"w": np.array([1e308]), "b": np.array([0.0])}, "X": np.full((5, 1), 1e10)}, "initial loss"),
])
def test_fit_rejects_bad_arguments(kwargs, match):
    arguments = {"model": linear_regression(), "opt": sgd(lr=0.1), "X": np.ones((5, 1)), "y": np.zeros(5),
                 "epochs": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        fit(**arguments)
