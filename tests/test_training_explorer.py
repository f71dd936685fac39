"""Chapter 8's explorer: it draws the stored runs of descent.experiments.explorer_curves, the one that matches
its sliders, and its static form steps through the stored learning rates."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from descent import experiments as ex
from descent.widgets.training import nearest_run, training_explorer


@pytest.fixture(scope="module")
def curves():
    return ex.cached("explorer")


@pytest.fixture(scope="module")
def explorer():
    return training_explorer()


@pytest.mark.parametrize("lr, index", [(1e-4, 0), (1.0, 12), (0.003, 4), (0.0032, 5), (2e-5, 0), (7.0, 12)])
def test_nearest_run_rounds_the_learning_rate_in_decades(curves, lr, index):
    run = nearest_run(curves, "rmsprop", lr, "cosine", 128)
    assert run["lr"] == ex.EXPLORER_LRS[index]
    np.testing.assert_array_equal(run["val"], curves["val"][3, index, 1, 2])
    np.testing.assert_array_equal(run["accuracies"], curves["val_accuracy"][3, :, 1, 2])


@pytest.mark.parametrize("kwargs, word", [({"optimizer": "adagrad"}, "optimizer"), ({"schedule": "step"}, "schedule"),
                                          ({"batch_size": 64}, "batch_size"), ({"lr": 0.0}, "lr")])
def test_nearest_run_refuses_settings_it_has_no_run_for(curves, kwargs, word):
    settings = {"optimizer": "adam", "lr": 1e-3, "schedule": "constant", "batch_size": 32, **kwargs}
    with pytest.raises(ValueError, match=word):
        nearest_run(curves, **settings)


def test_the_explorer_draws_the_run_of_its_sliders(explorer, curves):
    explorer.update(optimizer="sgd", lr=0.46, schedule="warmup_cosine", batch_size=16)
    left, right = explorer.fig.axes
    train, val = left.lines[1:3]  # lines[0] is the ln 10 guide
    np.testing.assert_array_equal(train.get_ydata(), curves["train"][0, 11, 2, 0])
    np.testing.assert_array_equal(val.get_ydata(), curves["val"][0, 11, 2, 0])
    best = int(np.nanargmin(curves["val"][0, 11, 2, 0]))
    assert f"best epoch {best}" in left.get_title()
    assert f"{curves['val_accuracy'][0, 11, 2, 0]:.1%}" in right.get_title()
    with pytest.raises(ValueError, match="optimizer"):
        explorer.update(optimizer="adagrad")


def test_a_run_that_diverged_says_so(curves, monkeypatch):
    # no stored run diverges to nan (too large a rate kills the ReLUs instead), so make one that does
    broken = {key: value.copy() for key, value in curves.items()}
    broken["val"][4, 8, 0, 1, 3:] = np.nan
    broken["train"][4, 8, 0, 1, 3:] = np.nan
    monkeypatch.setattr("descent.widgets.training.cached", lambda name: broken)
    explorer = training_explorer()
    explorer.update(optimizer="adam", lr=ex.EXPLORER_LRS[8], schedule="constant", batch_size=32)
    assert explorer.fig.axes[0].get_title().endswith("diverged")
    broken["val"][4, 8, 0, 1, 1:] = np.nan
    explorer.update(lr=ex.EXPLORER_LRS[7])
    explorer.update(lr=ex.EXPLORER_LRS[8])
    assert explorer.fig.axes[0].get_title().endswith("diverged in epoch 1")


def test_the_static_form_shows_every_stored_learning_rate(explorer):
    html = explorer.static_html(n=len(ex.EXPLORER_LRS), dpi=30)
    panels = len(explorer.fig.axes)  # each frame is cut into its panels, so they stack on a phone
    assert html.count("data:image/png") == panels * (len(ex.EXPLORER_LRS) + 1)  # the frames and the first image
    assert 'max="12"' in html and "0.0001" in html
