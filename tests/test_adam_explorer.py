"""Chapter 5's explorer: it draws descent's Adam, with and without momentum, on fixed axes."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from descent.landscapes import rosenbrock
from descent.optim import adam
from descent.train import minimize
from descent.widgets.adam import LOSS_LIMITS, START, STEPS, adam_explorer, adam_path


def test_the_first_step_moves_every_coordinate_by_lr():
    run = adam_path(rosenbrock(), START, lr=0.05, steps=1)
    np.testing.assert_allclose(np.abs(run.params[1] - run.params[0]), [0.05, 0.05], rtol=1e-9)


@pytest.mark.parametrize("bad", [{"lr": -0.1}, {"betas": (1.0, 0.999)}, {"betas": (0.9,)}, {"x0": [1.0]},
                                 {"steps": -1}, {"eps": -1e-8}])
def test_adam_path_rejects_bad_arguments(bad):
    arguments = {"landscape": rosenbrock(), "x0": START, "lr": 0.1} | bad
    with pytest.raises(ValueError):
        adam_path(**arguments)


def test_adam_explorer_draws_adam_and_adam_without_momentum():
    explorer = adam_explorer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.update(beta1=0.8, beta2=0.99, lr=0.05)
    contour_ax, loss_ax = explorer.fig.axes[:2]
    lines = {line.get_label(): line for line in contour_ax.get_lines()}
    run = minimize(adam(lr=0.05, betas=(0.8, 0.99)), rosenbrock(), START, STEPS)
    plain = minimize(adam(lr=0.05, betas=(0.0, 0.99)), rosenbrock(), START, STEPS)
    np.testing.assert_array_equal(lines["Adam"].get_xydata(), run.params)
    np.testing.assert_array_equal(lines["β₁ = 0 (no momentum)"].get_xydata(), plain.params)
    curves = {line.get_label(): line for line in loss_ax.get_lines()}
    np.testing.assert_allclose(curves["Adam"].get_ydata(), run.losses, rtol=1e-14)
    np.testing.assert_allclose(curves["β₁ = 0"].get_ydata(), plain.losses, rtol=1e-14)
    assert f"{run.losses[-1]:.2g}" in loss_ax.get_title()


def test_no_slider_changes_an_axis():
    explorer = adam_explorer()
    limits = [(ax.get_xlim(), ax.get_ylim(), ax.get_yscale()) for ax in explorer.fig.axes]
    for name, slider in explorer.sliders.items():
        for value in slider.sweep(5):
            explorer.update(**{name: value})
            assert [(ax.get_xlim(), ax.get_ylim(), ax.get_yscale()) for ax in explorer.fig.axes] == limits
    assert explorer.fig.axes[1].get_ylim() == LOSS_LIMITS
    assert explorer.main == "beta1"
