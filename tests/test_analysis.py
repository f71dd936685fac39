"""descent.analysis: the theory the chapters quote, against the eigenvalues it stands for and the runs it predicts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from descent.analysis import (
    best_momentum,
    convergence_rate,
    curvatures,
    gd_optimum,
    heavy_ball_optimum,
    loss_by_direction,
    lr_limit,
    rate_from_losses,
    run_many,
    steps_to_tolerance,
)
from descent.landscapes import ill_conditioned, quadratic, rastrigin, rosenbrock, saddle
from descent.optim import adagrad, rmsprop, sgd
from descent.schedules import linear_lr
from descent.train import minimize

curvature = st.floats(0.01, 100.0)
momentum = st.floats(0.0, 0.99)
fraction = st.floats(0.01, 0.99)


def iteration_matrix(lam, lr, beta, nesterov):
    """The 2×2 map (c_{t-1}, c_{t-2}) -> (c_t, c_{t-1}) of one eigendirection, written from PyTorch's update."""
    a = 1 + beta - lr * lam * (1 + beta if nesterov else 1)
    b = beta * (1 - lr * lam) if nesterov else beta
    return np.array([[a, -b], [1.0, 0.0]])


def run(lr, beta=0.0, nesterov=False, landscape=None, x0=(1.0, 1.0), steps=100):
    landscape = ill_conditioned(25.0) if landscape is None else landscape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return minimize(sgd(lr=lr, momentum=beta, nesterov=nesterov), landscape, list(x0), steps)


# --- convergence_rate: the spectral radius, per direction, and what runs show


@given(st.lists(st.floats(-10.0, 100.0), min_size=1, max_size=4), st.floats(0.0, 1.0), momentum, st.booleans())
def test_the_rate_is_the_largest_spectral_radius_of_the_directions_iteration_matrices(lams, lr, beta, nesterov):
    expected = max(np.abs(np.linalg.eigvals(iteration_matrix(lam, lr, beta, nesterov))).max() for lam in lams)
    assert convergence_rate(lams, lr, beta, nesterov) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@given(st.lists(curvature, min_size=1, max_size=4), st.floats(0.0, 1.0))
def test_without_momentum_the_rate_is_the_largest_factor_one_minus_lr_lambda(lams, lr):
    assert convergence_rate(lams, lr) == pytest.approx(max(abs(1 - lr * lam) for lam in lams), abs=1e-12)


def test_rates_broadcast_over_a_grid_of_lr_and_momentum():
    lrs, betas = np.meshgrid(np.linspace(0.0, 0.2, 5), np.linspace(0.0, 0.9, 4))
    grid = convergence_rate([1.0, 25.0], lrs, betas)
    assert grid.shape == (4, 5)
    assert grid[2, 3] == pytest.approx(float(convergence_rate([1.0, 25.0], lrs[2, 3], betas[2, 3])))


@pytest.mark.parametrize("kappa, lr, beta, nesterov", [
    (10.0, 0.05, 0.0, False),                   # gradient descent, the flat direction sets the pace
    (10.0, 2 / 11, 0.0, False),                 # at its best step
    (10.0, 0.195, 0.0, False),                  # just below its limit, the steep direction sets it
    (25.0, 0.02, 0.7, False),                   # chapter 4's runs and explorer
    (25.0, 0.02, 0.9, False),
    (25.0, 0.02, 0.99, False),
    (25.0, 4 / 36, 4 / 9, False),               # heavy ball at its optimum (double roots)
    (1e4, 4 / 101**2, (99 / 101) ** 2, False),
    (25.0, 0.03, 0.5, True),                    # PyTorch's Nesterov
    (25.0, 0.05, 0.9, True),
])
def test_measured_rates_agree_with_the_predicted_ones_within_one_percent(kappa, lr, beta, nesterov):
    rho = float(convergence_rate([1.0, kappa], lr, beta, nesterov))
    steps = int(min(4000, 250 / -math.log10(rho**2)))  # long, but the loss stays above 1e-250
    losses = run(lr, beta, nesterov, ill_conditioned(kappa), steps=steps).losses
    assert rate_from_losses(losses, steps // 2, steps) == pytest.approx(rho, rel=0.01)


def test_a_negative_curvature_gives_a_rate_above_one_the_speed_of_leaving_a_saddle():
    lam = curvatures(saddle())
    assert float(convergence_rate(lam, 0.1)) == pytest.approx(1.2)  # y grows by 1 + 2α
    assert float(convergence_rate(lam, 0.1, 0.9)) == pytest.approx(1.5)  # root of z² - 2.1z + 0.9
    escape = run(0.1, 0.9, landscape=saddle(), x0=(1.5, 1e-6), steps=40).params[:, 1]
    assert escape[40] / escape[30] == pytest.approx(1.5**10, rel=0.01)


# --- limits and optimal parameters


@given(curvature, momentum, st.booleans())
def test_lr_limit_is_where_the_rate_crosses_one(lam_max, beta, nesterov):
    assume(not nesterov or beta > 0)
    limit = lr_limit(lam_max, beta, nesterov)
    lams = [lam_max / 7, lam_max]
    assert convergence_rate(lams, 0.999 * limit, beta, nesterov) < 1
    assert convergence_rate(lams, 1.001 * limit, beta, nesterov) > 1


def test_lr_limit_values_and_a_run_on_each_side():
    assert lr_limit(10.0) == pytest.approx(0.2)
    assert lr_limit(10.0, 0.9) == pytest.approx(0.38)
    assert lr_limit(10.0, 0.9, nesterov=True) == pytest.approx(0.38 / 2.8)
    limit = lr_limit(25.0, 0.5)
    assert run(0.98 * limit, 0.5, x0=(0.0, 1.0), steps=2000).losses[-1] < 1e-10
    diverging = run(1.02 * limit, 0.5, x0=(0.0, 1.0), steps=2000)
    assert diverging.diverged_at is not None or diverging.losses[-1] > 1e10


@given(curvature, st.floats(1.0, 1e4))
def test_gd_optimum_is_the_lowest_rate_over_all_steps(lam_min, kappa):
    lams = [lam_min, lam_min * kappa]
    lr, rate = gd_optimum(lams)
    assert float(convergence_rate(lams, lr)) == pytest.approx(rate, abs=1e-9)
    assert rate == pytest.approx((kappa - 1) / (kappa + 1), abs=1e-9)
    grid = np.linspace(0.0, lr_limit(lams[1]), 2001)
    assert convergence_rate(lams, grid).min() >= rate - 1e-9


@given(curvature, st.floats(1.0, 1e4))
def test_heavy_ball_optimum_is_polyaks_and_no_grid_point_beats_it(lam_min, kappa):
    lams = [lam_min, lam_min * kappa]
    lr, beta, rate = heavy_ball_optimum(lams)
    root = math.sqrt(kappa)
    assert lr == pytest.approx(4 / (math.sqrt(lams[0]) + math.sqrt(lams[1])) ** 2)
    assert (beta, rate) == pytest.approx((((root - 1) / (root + 1)) ** 2, (root - 1) / (root + 1)))
    assert float(convergence_rate(lams, lr, beta)) == pytest.approx(rate, abs=1e-6)
    lrs, betas = np.meshgrid(np.linspace(0.0, 4 / lams[1], 401), np.linspace(0.0, 0.999, 401))
    assert convergence_rate(lams, lrs, betas).min() >= rate - 1e-6


@given(st.lists(curvature, min_size=1, max_size=4), fraction)
def test_best_momentum_beats_every_other_momentum_for_that_lr(lams, share):
    lr = share * 4 / max(lams)
    beta, rate = best_momentum(lams, lr)
    assert float(convergence_rate(lams, lr, beta)) == pytest.approx(rate, abs=1e-6)
    assert convergence_rate(lams, lr, np.linspace(0.0, 0.9999, 2001)).min() >= rate - 1e-6


def test_best_momentum_at_the_explorers_lr_is_near_three_quarters_and_wins_the_run():
    beta, _ = best_momentum([1.0, 25.0], 0.02)
    assert beta == pytest.approx(0.737, abs=1e-3)
    finals = {b: run(0.02, b, x0=(-1.8, 1.5), steps=100).losses[-1] for b in np.arange(0.0, 0.99, 0.01)}
    assert abs(min(finals, key=finals.get) - beta) <= 0.03


# --- steps, per-direction losses, measured rates


@given(st.floats(0.0, 0.999), st.floats(1e-12, 0.999))
def test_steps_to_tolerance_is_the_first_step_below_it(rate, tolerance):
    steps = steps_to_tolerance(rate, tolerance)
    assert rate**steps <= tolerance * (1 + 1e-9)
    assert steps == 0 or rate ** (steps - 1) > tolerance * (1 - 1e-9)


def test_steps_to_tolerance_counts_the_chapters_runs():
    for kappa in (2.0, 10.0, 100.0, 1000.0):
        lr, rate = gd_optimum([1.0, kappa])
        losses = run(lr, landscape=ill_conditioned(kappa), steps=5000).losses
        assert int(np.argmax(losses <= 1e-8 * losses[0])) == steps_to_tolerance(rate**2, 1e-8)
    assert steps_to_tolerance(0.5, 2.0) == 0 and steps_to_tolerance(0.0, 0.5) == 1


@given(st.floats(0.1, 10.0), st.floats(1.0, 50.0), st.floats(0.0, 0.7), st.floats(0.0, 1.0), momentum,
       st.booleans(), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))
@settings(max_examples=50)
def test_loss_by_direction_sums_to_the_loss_of_the_real_run(lam_min, kappa, angle, share, beta, nesterov, x, y):
    assume(abs(x) + abs(y) > 0.1 and (beta > 0 or not nesterov))
    lams = np.array([lam_min, lam_min * kappa])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    bowl = quadratic(rotation @ np.diag(lams) @ rotation.T)
    lr = share * lr_limit(lams[1], beta, nesterov)
    real = run(lr, beta, nesterov, bowl, x0=(x, y), steps=30).losses
    split = loss_by_direction(lams, rotation.T @ [x, y], lr, 30, beta, nesterov)
    assert split.shape == (31, 2)
    np.testing.assert_allclose(split.sum(axis=1), real, rtol=1e-8, atol=1e-12 * real[0])


def test_rate_from_losses_reads_a_geometric_decay():
    assert rate_from_losses(0.3 * 0.8 ** (2 * np.arange(20)), 5, 15) == pytest.approx(0.8)


# --- many runs at once


@pytest.mark.parametrize("opt", [sgd(lr=0.002), sgd(lr=0.002, momentum=0.9), adagrad(lr=0.1), rmsprop(lr=0.01)])
def test_run_many_without_noise_makes_the_runs_minimize_makes(opt):
    starts = np.random.default_rng(1).uniform(-3, 3, size=(5, 2))
    paths = run_many(opt, rastrigin(), starts, 50)
    assert paths.shape == (51, 5, 2)
    for i, start in enumerate(starts):
        np.testing.assert_allclose(paths[:, i], minimize(opt, rastrigin(), start, 50).params, rtol=1e-12)


def test_run_many_adds_seeded_noise_that_a_schedule_can_fade():
    starts = np.zeros((3, 2))
    one, same = (run_many(sgd(lr=0.1), ill_conditioned(4.0), starts, 20, noise=1.0, seed=5) for _ in range(2))
    np.testing.assert_array_equal(one, same)
    assert not np.allclose(one[-1, 0], one[-1, 1])  # each start draws its own noise
    faded = run_many(sgd(lr=0.1), ill_conditioned(4.0), starts, 20, noise=linear_lr(1.0, 1.0, 0.0, 10), seed=5)
    np.testing.assert_array_equal(faded[:2], one[:2])  # the first step's noise is the same draw at σ = 1
    np.testing.assert_allclose(faded[10:], faded[10] * np.array([0.9, 0.6]) ** np.arange(11)[:, None, None])


def test_run_many_lets_diverging_rows_overflow_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = run_many(sgd(lr=0.01), rosenbrock(), [[-2.0, -0.5], [1.0, 1.0]], 100)
    assert not np.isfinite(paths[-1, 0]).all() and np.allclose(paths[-1, 1], [1.0, 1.0])


# --- arguments


@pytest.mark.parametrize("call, name", [
    (lambda: lr_limit(0.0), "curvature"),
    (lambda: lr_limit(1.0, momentum=1.0), "momentum"),
    (lambda: convergence_rate([], 0.1), "curvatures"),
    (lambda: convergence_rate([1.0, np.nan], 0.1), "curvatures"),
    (lambda: convergence_rate([1.0], -0.1), "lr"),
    (lambda: convergence_rate([1.0], [0.1, np.nan]), "lr"),
    (lambda: convergence_rate([1.0], 0.1, [0.5, 1.0]), "momentum"),
    (lambda: gd_optimum([0.0, 1.0]), "curvatures"),
    (lambda: heavy_ball_optimum([-1.0, 1.0]), "curvatures"),
    (lambda: best_momentum([1.0, 25.0], 0.16), "lr"),
    (lambda: steps_to_tolerance(1.0, 1e-3), "rate"),
    (lambda: steps_to_tolerance(0.5, 0.0), "tolerance"),
    (lambda: loss_by_direction([1.0, 2.0], [1.0], 0.1, 5), "coords"),
    (lambda: loss_by_direction([1.0], [1.0], 0.1, -1), "steps"),
    (lambda: rate_from_losses([1.0, 0.5], 0, 2), "stop"),
    (lambda: rate_from_losses([1.0, 0.0], 0, 1), "losses"),
    (lambda: run_many(sgd(lr=0.1), saddle(), [1.0, 2.0], 5), "starts"),
    (lambda: run_many(sgd(lr=0.1), saddle(), [[1.0, 2.0]], 5, noise=-1.0), "noise"),
    (lambda: run_many(sgd(lr=0.1), "saddle", [[1.0, 2.0]], 5), "landscape"),
    (lambda: curvatures(rosenbrock()), "landscape"),
])
def test_bad_arguments_raise_value_errors_that_name_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()
