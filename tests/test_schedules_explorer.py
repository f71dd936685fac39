"""Chapter 6's explorer: its schedules are descent.schedules' and its runs are descent.train.fit's."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from descent import schedules
from descent.models import linear_regression
from descent.optim import sgd
from descent.train import fit
from descent.widgets.schedules import SCHEDULES, NoisyLine, make_schedule, schedule_explorer, schedule_values


@pytest.fixture(scope="module")
def problem():
    return NoisyLine()


@pytest.mark.parametrize("name, expected", [
    ("constant", schedules.constant(0.1)),
    ("step_lr", schedules.step_lr(0.1, step_size=60, gamma=0.3)),
    ("exponential_lr", schedules.exponential_lr(0.1, 0.3 ** (1 / 60))),
    ("cosine_annealing", schedules.cosine_annealing(0.1, T_max=60)),
    ("cosine_warm_restarts", schedules.cosine_warm_restarts(0.1, T_0=60)),
])
def test_make_schedule_builds_descents_schedules(name, expected):
    got = make_schedule(name, 0.1, T=60, gamma=0.3)
    np.testing.assert_array_equal(schedule_values(got, 400), [expected(e) for e in range(400)])


def test_a_warmup_before_cosine_annealing_is_warmup_cosine_and_unknown_names_are_refused():
    got = make_schedule("cosine_annealing", 0.1, T=60, warmup=20)
    expected = schedules.warmup_cosine(0.1, warmup_steps=20, total_steps=80)
    np.testing.assert_allclose(schedule_values(got, 400), [expected(e) for e in range(400)], rtol=1e-15)
    assert make_schedule("step_lr", 0.1, T=60, warmup=10)(0) == pytest.approx(0.001)
    with pytest.raises(ValueError, match="name"):
        make_schedule("cosine", 0.1, T=10)
    assert set(SCHEDULES) == set(schedule_explorer().sliders["schedule"].options)


@pytest.mark.parametrize("schedule", [schedules.constant(0.05), schedules.cosine_annealing(0.1, T_max=400),
                                      schedules.step_lr(0.2, step_size=100, gamma=0.2)])
def test_noisy_line_is_fit_with_sgd_step_for_step(problem, schedule):
    history = fit(linear_regression(), sgd(lr=schedule), problem.X, problem.y, epochs=20, batch_size=10)
    path, excess = problem.run(schedule_values(schedule, problem.steps))
    np.testing.assert_allclose(path[-1], [history.params["w"][0], history.params["b"][0]], rtol=1e-12)
    # one epoch is 20 batches of 10: the full-data loss after each epoch is fit's epoch_losses
    np.testing.assert_allclose(excess[::20] + problem.best_loss, history.epoch_losses, rtol=1e-12, atol=1e-14)
    losses = [linear_regression().loss_and_grad({"w": p[:1], "b": p[1:]}, problem.X, problem.y)[0]
              for p in path[::37]]
    np.testing.assert_allclose(excess[::37] + problem.best_loss, losses, rtol=1e-12)


def test_excess_loss_is_zero_only_at_the_least_squares_line(problem):
    error = problem.theta0 - problem.theta_star
    assert problem.run([])[1][0] == pytest.approx(error @ problem.H @ error)
    assert problem.run([])[1][0] > 1.0 and np.all(np.linalg.eigvalsh(problem.H) > 0)


def test_a_constant_rate_settles_in_a_band_that_grows_with_the_rate_and_decay_goes_below(problem):
    band = {lr: problem.run(np.full(400, lr))[1][-100:].mean() for lr in (0.01, 0.03, 0.1)}
    assert band[0.01] < band[0.03] < band[0.1]
    decayed = problem.run(schedule_values(schedules.cosine_annealing(0.1, T_max=400), 400))[1][-20:].mean()
    assert decayed < band[0.1] / 10


def test_a_diverging_run_stops_and_the_explorer_says_so(problem):
    path, excess = problem.run(np.full(400, 5.0))
    assert len(path) == len(excess) < 400 and np.all(np.isfinite(excess))
    explorer = schedule_explorer()
    explorer.update(schedule="constant", lr=0.3)
    assert explorer.fig.axes[1].get_title().startswith("at the end")
    with pytest.raises(ValueError):
        problem.run(np.full(401, 0.1))


def test_the_main_slider_changes_no_axis():
    explorer = schedule_explorer()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.fig.axes]
    for lr in explorer.sliders["lr"].sweep(6):
        explorer.update(lr=lr)
        assert [(ax.get_xlim(), ax.get_ylim()) for ax in explorer.fig.axes] == limits
