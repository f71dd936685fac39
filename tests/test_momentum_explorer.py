"""Chapter 4's explorer and its pure computations, against the library (descent.optim, descent.train)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from descent.base import apply_updates
from descent.landscapes import ill_conditioned, quadratic
from descent.optim import sgd
from descent.train import minimize
from descent.analysis import lr_limit as momentum_limit  # momentum's stability limit, quoted by the explorer
from descent.widgets.momentum import momentum_explorer, momentum_runs


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_runs_are_minimize_with_sgd_and_do_not_warn(nesterov):
    valley = ill_conditioned(25.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain, heavy = momentum_runs(valley, [-1.8, 1.5], 0.03, 0.8, 60, nesterov)
        diverging = momentum_runs(valley, [-1.8, 1.5], 0.3, 0.9, 500, nesterov)
    np.testing.assert_array_equal(plain.params, minimize(sgd(lr=0.03), valley, [-1.8, 1.5], 60).params)
    expected = minimize(sgd(lr=0.03, momentum=0.8, nesterov=nesterov), valley, [-1.8, 1.5], 60)
    np.testing.assert_array_equal(heavy.params, expected.params)
    np.testing.assert_array_equal(heavy.losses, expected.losses)
    assert diverging[0].diverged_at is not None and diverging[1].diverged_at is not None


def test_momentum_runs_follow_pytorchs_recursion_by_hand():
    """b_1 = g_1, b_t = β b_{t-1} + g_t, θ_t = θ_{t-1} - α b_t, written out."""
    valley, lr, mu = quadratic(((3.0, 1.0), (1.0, 2.0))), 0.1, 0.6
    _, heavy = momentum_runs(valley, [1.0, -1.0], lr, mu, 5)
    theta, buf = np.array([1.0, -1.0]), None
    for t in range(1, 6):
        g = valley.grad(theta)
        buf = g.copy() if buf is None else mu * buf + g
        theta = theta - lr * buf
        np.testing.assert_allclose(heavy.params[t], theta, rtol=1e-12)


def test_zero_momentum_gives_two_identical_runs_even_with_nesterov_chosen():
    plain, heavy = momentum_runs(ill_conditioned(10.0), [1.0, 1.0], 0.05, 0.0, 20, nesterov=True)
    np.testing.assert_array_equal(plain.params, heavy.params)


@pytest.mark.parametrize("mu, nesterov", [(mu, False) for mu in (0.0, 0.3, 0.6, 0.9, 0.97)]
                         + [(mu, True) for mu in (0.3, 0.6, 0.9, 0.97)])  # Nesterov needs momentum > 0
def test_momentum_limit_separates_convergence_from_divergence(mu, nesterov):
    valley = ill_conditioned(25.0)
    limit = momentum_limit(valley.lipschitz, mu, nesterov)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        below = minimize(sgd(lr=0.98 * limit, momentum=mu, nesterov=nesterov), valley, [0.0, 1.0], 3000)
        above = minimize(sgd(lr=1.02 * limit, momentum=mu, nesterov=nesterov), valley, [0.0, 1.0], 3000)
    assert below.losses[-1] < below.losses[0] * 1e-3
    assert above.diverged_at is not None or above.losses[-1] > above.losses[0] * 1e3


def test_momentum_explorer_draws_the_two_runs_and_keeps_its_axes():
    explorer = momentum_explorer()
    right = explorer.fig.axes[1]
    limits = right.get_xlim(), right.get_ylim()
    for mu in (0.0, 0.5, 0.99):
        explorer.update(momentum=mu, lr=0.02, variant="heavy ball")
        plain, heavy = momentum_runs(ill_conditioned(25.0), [-1.8, 1.5], 0.02, mu, 100)
        curves = [line for line in right.get_lines() if len(line.get_xdata()) > 0]
        np.testing.assert_array_equal(curves[0].get_ydata(), plain.losses)
        np.testing.assert_array_equal(curves[1].get_ydata(), heavy.losses)
        assert (right.get_xlim(), right.get_ylim()) == limits
    explorer.update(momentum=0.9, lr=0.2)
    assert "unstable" in explorer.fig._suptitle.get_text()
    explorer.update(momentum=0.9, lr=0.1)
    assert "stable (limit 0.152)" in explorer.fig._suptitle.get_text()
    explorer.update(variant="Nesterov")
    assert "unstable (limit 0.0543)" in explorer.fig._suptitle.get_text()


def test_apply_updates_reference_matches_a_two_step_example():
    """The chapter's two-step hand computation: b = g1, then b = 0.9 b + g2."""
    opt = sgd(lr=0.1, momentum=0.9)
    params = np.array([1.0])
    state = opt.init(params)
    for g in (1.0, 1.0):
        updates, state = opt.update(np.array([g]), state, params)
        params = apply_updates(params, updates)
    np.testing.assert_allclose(params, [1.0 - 0.1 - 0.19])
