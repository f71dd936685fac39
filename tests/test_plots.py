"""descent.plots: each function draws exactly the numbers it is given and returns its artists."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from descent import plots
from descent.landscapes import LANDSCAPES, himmelblau, rosenbrock
from descent.schedules import cosine_annealing


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_palette_is_okabe_ito():
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
    assert set(plots.OKABE_ITO.values()) == okabe_ito
    assert set(plots.PALETTE) <= okabe_ito and len(set(plots.PALETTE)) == len(plots.PALETTE)


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_contour_draws_every_landscape_with_increasing_levels_and_marks_its_minima(name):
    landscape = LANDSCAPES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = plots.contour(landscape, resolution=40)
        drawn.filled.axes.figure.canvas.draw()
    assert np.all(np.diff(drawn.filled.levels) > 0)
    np.testing.assert_array_equal(drawn.minima.get_xydata().reshape(-1, 2), landscape.minimum)
    assert drawn.filled.axes.get_xlim() == landscape.bounds[0]


def test_contour_levels_start_at_the_lowest_value_and_end_at_the_highest():
    zs = rosenbrock().f(np.random.default_rng(0).uniform(-2, 2, size=(50, 2)))
    levels = plots.contour_levels(zs, n=10)
    assert levels[0] == zs.min() and levels[-1] == pytest.approx(zs.max())
    ratios = np.diff(np.log10(levels[1:] - zs.min()))
    assert len(levels) == 11 and ratios == pytest.approx(np.full(9, 0.4))


def test_grid_evaluates_the_landscape():
    xs, ys, zs = plots.grid(himmelblau(), resolution=7)
    np.testing.assert_array_equal(zs, himmelblau().f(np.stack([xs, ys], axis=-1)))
    assert xs.min() == -5 and ys.max() == 5


def test_trajectory_draws_the_path_its_start_and_end_and_moves_them():
    _, ax = plots.subplots()
    params = np.array([[1.0, 2.0], [0.5, 1.0], [0.1, 0.2]])
    drawn = plots.trajectory(params, ax, label="sgd")
    assert drawn.path.axes is ax and drawn.path.get_label() == "sgd"
    np.testing.assert_array_equal(drawn.path.get_xydata(), params)
    assert drawn.start.get_xydata().tolist() == [[1.0, 2.0]]
    assert drawn.end.get_xydata().tolist() == [[0.1, 0.2]]
    plots.set_trajectory(drawn, params[::-1])
    assert drawn.start.get_xydata().tolist() == [[0.1, 0.2]] and len(ax.get_lines()) == 3


def test_loss_curve_uses_log_or_symlog_axes():
    line = plots.loss_curve([3.0, 1.0, 0.5])
    assert line.axes.get_yscale() == "log" and line.get_xdata().tolist() == [0, 1, 2]
    assert plots.loss_curve([1.0, -4.0]).axes.get_yscale() == "symlog"
    assert plots.loss_curve([1.0, 2.0], log=False).axes.get_yscale() == "linear"


def test_schedule_curve_draws_the_schedule():
    schedule = cosine_annealing(0.1, T_max=10)
    line = plots.schedule_curve(schedule, steps=11)
    assert line.get_ydata().tolist() == [schedule(t) for t in range(11)]


def test_surface_is_3d_and_lines_take_palette_colours():
    assert plots.surface(rosenbrock(), resolution=10).axes.name == "3d"
    _, ax = plots.subplots()
    first, second = (plots.loss_curve([1.0, 0.5], ax), plots.loss_curve([2.0, 1.0], ax))
    assert [to_hex(first.get_color()).upper(), to_hex(second.get_color()).upper()] == list(plots.PALETTE[:2])
