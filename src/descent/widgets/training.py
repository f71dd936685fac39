r"""Chapter 8's explorer: the training and validation curves of the digits network, for any optimiser, learning
rate, schedule and batch size.

A network takes about a second to train, too slow to follow a slider. So the explorer trains nothing: it draws
the runs of :func:`descent.experiments.explorer_curves`, one per combination of the sliders' values, computed
once (seeded) and shipped in the package (:func:`descent.experiments.cached` ``("explorer")``).
:func:`nearest_run` picks the stored run for any slider setting.
"""

from __future__ import annotations

import numpy as np

from .. import _checks, plots
from ..experiments import EXPLORER_BATCH_SIZES, EXPLORER_LRS, OPTIMIZERS, SCHEDULES, cached
from ..plots import OKABE_ITO
from .explorer import Explorer, Slider, new_figure


def nearest_run(curves: dict, optimizer: str, lr: float, schedule: str, batch_size: int) -> dict:
    r"""The stored run of ``curves`` (the arrays of :func:`descent.experiments.explorer_curves`) for these
    settings, the learning rate rounded to the nearest of :data:`~descent.experiments.EXPLORER_LRS` in
    decades: ``train`` and ``val`` (the losses after each epoch, epoch 0 first, NaN after a divergence),
    ``lr`` (the stored learning rate), ``val_accuracy`` (at the epoch of lowest validation loss) and, across
    all the stored learning rates at these other settings, ``lrs`` and ``accuracies``.

    >>> run = nearest_run(cached("explorer"), "adam", 0.003, "constant", 32)
    >>> round(run["lr"], 5), run["train"].shape
    (0.00215, (31,))
    """
    _checks.one_of("optimizer", optimizer, tuple(OPTIMIZERS))
    _checks.one_of("schedule", schedule, SCHEDULES)
    _checks.one_of("batch_size", batch_size, EXPLORER_BATCH_SIZES)
    lr = _checks.number("lr", lr, low=0.0, low_open=True)
    i, k, m = tuple(OPTIMIZERS).index(optimizer), SCHEDULES.index(schedule), EXPLORER_BATCH_SIZES.index(batch_size)
    j = int(np.argmin(np.abs(np.log10(EXPLORER_LRS) - np.log10(lr))))
    return {"train": curves["train"][i, j, k, m], "val": curves["val"][i, j, k, m], "lr": EXPLORER_LRS[j],
            "val_accuracy": float(curves["val_accuracy"][i, j, k, m]), "lrs": np.array(EXPLORER_LRS),
            "accuracies": curves["val_accuracy"][i, :, k, m]}


def training_explorer() -> Explorer:
    r"""Chapter 8's explorer. Sliders: ``optimizer`` (a name of :data:`~descent.experiments.OPTIMIZERS`),
    ``lr`` (the base learning rate, log scale, three values per decade from :math:`10^{-4}` to 1, the main
    slider), ``schedule`` (constant, cosine, warm-up then cosine) and ``batch_size`` (16, 32 or 128). Left:
    the loss on the training set (solid) and on the validation set (dashed) after each of 30 epochs, on a
    fixed log axis, with a dot at the epoch of lowest validation loss. Right: the validation accuracy at that
    epoch against the learning rate, for the chosen optimiser, schedule and batch size, with the chosen
    learning rate marked. Each curve is one seeded run (seed 0) of :func:`descent.experiments.run_recipe`.
    """
    curves = cached("explorer")
    epochs = curves["train"].shape[-1] - 1
    fig, (left, right) = new_figure(plots.HEIGHT + 0.3)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.15, wspace=0.28)
    blue, orange = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
    left.set(yscale="log", xlim=(0, epochs), ylim=(1e-3, 10.0), xlabel="epoch", ylabel="cross-entropy loss")
    right.set(xscale="log", xlim=(EXPLORER_LRS[0] / 1.5, EXPLORER_LRS[-1] * 1.5), ylim=(0.0, 1.0),
              xlabel=r"learning rate $\alpha$", ylabel="validation accuracy")
    left.axhline(np.log(10), color=OKABE_ITO["black"], linewidth=0.8, linestyle=":", zorder=2)
    left.text(epochs, np.log(10) * 1.15, "ln 10", ha="right", va="bottom", fontsize=8)
    plots.few_ticks(right)
    train, = left.plot([], [], "-", color=blue, zorder=3, label="training")
    val, = left.plot([], [], "--", color=orange, zorder=4, label="validation")
    best, = left.plot([], [], "o", color=orange, zorder=5)
    left.legend(loc="lower left", fontsize=8)
    sweep, = right.plot([], [], "-o", color=blue, markersize=3, zorder=3)
    chosen, = right.plot([], [], "o", color=orange, markersize=8, zorder=4)

    def draw(optimizer, lr, schedule, batch_size):
        run = nearest_run(curves, optimizer, lr, schedule, batch_size)
        x = np.arange(epochs + 1)
        train.set_data(x, run["train"])
        val.set_data(x, run["val"])
        if np.all(np.isnan(run["val"][1:])):
            best.set_data([], [])
            left.set_title(f"{optimizer}, α = {run['lr']:.2g}: diverged in epoch 1", fontsize=9)
        else:
            e = int(np.nanargmin(run["val"]))
            best.set_data([e], [run["val"][e]])
            diverged = np.isnan(run["val"]).any()
            left.set_title(f"{optimizer}, α = {run['lr']:.2g}: " + (
                "diverged" if diverged else f"best epoch {e}, val loss {run['val'][e]:.2f}"), fontsize=9)
        sweep.set_data(run["lrs"], run["accuracies"])
        chosen.set_data([run["lr"]], [run["val_accuracy"]])
        right.set_title(f"{schedule}, B = {batch_size}: accuracy {run['val_accuracy']:.1%}", fontsize=9)

    sliders = {
        "optimizer": Slider(None, None, None, "adam", description="optimiser", options=tuple(OPTIMIZERS)),
        "lr": Slider(EXPLORER_LRS[0], EXPLORER_LRS[-1], 1 / 3, 1e-3 * 10 ** (1 / 3), log=True,
                     description="learning rate α"),
        "schedule": Slider(None, None, None, "constant", description="schedule", options=SCHEDULES),
        "batch_size": Slider(None, None, None, 32, description="batch size B", options=EXPLORER_BATCH_SIZES),
    }
    alt = ("Two panels. Left: the cross-entropy loss of the digits network after each of 30 epochs on a "
           "logarithmic axis, on the training set (solid blue) and on the validation set (dashed vermillion), "
           "with a dotted line at ln 10, the loss of a network that guesses, and a dot at the epoch of lowest "
           "validation loss. Right: the validation accuracy at that epoch against the learning rate on a "
           "logarithmic axis, from 0.0001 to 1, with the chosen learning rate marked. For Adam the accuracy is "
           "near 95 % from about 0.001 to 0.02, about 80 % at 0.0001 (too slow for 30 epochs) and 10 %, a "
           "guess, above 0.05, where the loss jumps back to ln 10 or diverges.")
    explorer = Explorer(fig, sliders, draw, alt, main="lr",
                        moving=(train, val, best, sweep, chosen, left.title, right.title))
    explorer.update()
    return explorer
