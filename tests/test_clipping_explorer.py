"""Chapter 7's explorer, its runs and the gradient statistics it quotes (descent.analysis), against the library
(descent.clipping, descent.train)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from descent.analysis import clipped_fraction, gradient_norms
from descent.base import chain, global_norm
from descent.clipping import clip_by_global_norm, clip_grad_norm
from descent.landscapes import beale, rosenbrock
from descent.optim import sgd
from descent.train import minimize
from descent.widgets.clipping import clipped_descent, clipping_explorer, clipping_runs

WALL = [-2.0, -0.5]  # the explorer's start, on Rosenbrock's steep wall


def test_runs_are_minimize_with_and_without_the_clipping_transform_and_do_not_warn():
    banana = rosenbrock()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain, clipped = clipping_runs(banana, WALL, 0.002, 10.0, 80)
    with warnings.catch_warnings(record=True):
        expected_plain = minimize(sgd(lr=0.002), banana, WALL, 80)
    expected = minimize(chain(clip_by_global_norm(10.0), sgd(lr=0.002)), banana, WALL, 80)
    np.testing.assert_array_equal(plain.params, expected_plain.params)
    assert plain.diverged_at == expected_plain.diverged_at is not None
    np.testing.assert_array_equal(clipped.params, expected.params)
    np.testing.assert_array_equal(clipped.losses, expected.losses)
    assert clipped.diverged_at is None


@pytest.mark.parametrize("norm_type", [1.0, 2.0, float("inf")])
def test_clipped_descent_follows_pytorchs_coefficient_by_hand(norm_type):
    """θ_t = θ_{t-1} - α g_t min(c / (‖g_t‖_p + 1e-6), 1), written out."""
    landscape, lr, c = beale(), 1e-3, 5.0
    run = clipped_descent(landscape, [-4.0, 4.0], lr, c, 30, norm_type)
    theta = np.array([-4.0, 4.0])
    for t in range(1, 31):
        g = landscape.grad(theta)
        coef = min(c / (np.linalg.norm(g, ord=norm_type) + 1e-6), 1.0)
        theta = theta - lr * coef * g
        np.testing.assert_allclose(run.params[t], theta, rtol=1e-12)


def test_a_max_norm_above_every_gradient_changes_nothing():
    plain, clipped = clipping_runs(rosenbrock(), [-1.5, 2.5], 5e-4, 1e6, 100)
    assert plain.diverged_at is None
    assert gradient_norms(rosenbrock(), plain).max() < 1e6
    np.testing.assert_array_equal(plain.params, clipped.params)


def test_always_active_clipping_is_normalised_descent_with_step_lr_times_max_norm():
    _, clipped = clipping_runs(rosenbrock(), WALL, 0.002, 0.1, 50)
    norms = gradient_norms(rosenbrock(), clipped)
    assert clipped_fraction(norms, 0.1) == 1.0
    steps = np.linalg.norm(np.diff(clipped.params, axis=0), axis=1)
    np.testing.assert_allclose(steps, 0.002 * 0.1 * norms / (norms + 1e-6), rtol=1e-10)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, float("inf")])
def test_gradient_norms_are_the_total_norms_clip_grad_norm_returns(norm_type):
    banana = rosenbrock()
    plain, clipped = clipping_runs(banana, WALL, 0.002, 10.0, 40)
    norms = gradient_norms(banana, clipped, norm_type)
    assert norms.shape == (40,)
    expected = [clip_grad_norm(banana.grad(theta), 10.0, norm_type)[1] for theta in clipped.params[:-1]]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)
    with np.errstate(over="ignore"):
        expected = [global_norm(banana.grad(theta), norm_type) for theta in plain.params]
    diverged = gradient_norms(banana, plain, norm_type)  # one more: the gradient that threw the run away
    assert len(diverged) == len(plain.losses) == plain.diverged_at
    np.testing.assert_allclose(diverged, expected, rtol=1e-12)


def test_clipped_fraction_counts_the_steps_whose_coefficient_is_below_one():
    norms = np.array([0.0, 0.5, 1.0, 1.0 + 1e-9, 7.0, np.inf])
    coefficients = [clip_grad_norm(np.array([n]), 1.0)[0][0] / n if 0 < n < np.inf else None for n in norms]
    assert coefficients[2] < 1.0  # PyTorch's 1e-6: a norm exactly at max_norm is still (barely) shortened
    assert clipped_fraction(norms, 1.0) == pytest.approx(4 / 6)
    assert clipped_fraction([], 1.0) == 0.0
    assert clipped_fraction([2.0, 3.0], 10.0) == 0.0
    with pytest.raises(ValueError, match="max_norm"):
        clipped_fraction([1.0], -1.0)


def test_explorer_keeps_its_axes_while_max_norm_moves_and_reports_the_fraction():
    explorer = clipping_explorer()
    left, right = explorer.fig.axes[:2]
    limits = (left.get_xlim(), left.get_ylim(), right.get_xlim(), right.get_ylim())
    for max_norm in explorer.sliders["max_norm"].sweep(5):
        explorer.update(max_norm=max_norm)
        assert (left.get_xlim(), left.get_ylim(), right.get_xlim(), right.get_ylim()) == limits
    explorer.update(max_norm=0.1, lr=0.002)
    assert "100% clipped" in explorer.fig._suptitle.get_text()
    assert "plain diverged at 6" in right.get_title()
    explorer.update(max_norm=1e4)
    _, clipped = clipping_runs(rosenbrock(), WALL, 0.002, 1e4, 150)
    fraction = clipped_fraction(gradient_norms(rosenbrock(), clipped), 1e4)
    assert f"{fraction:.0%} clipped" in explorer.fig._suptitle.get_text()
