"""How fast does an explorer answer a slider? Median ms per callback against the naive callback, same run.

For each explorer the main slider is swept across its range. The callback is what the live widget runs:
``explorer.png(value)`` (update the artists, blit them over the cached background, encode a PNG). The
baseline, measured in the same run, is the obvious callback a notebook would write: update the artists and
``display(fig)`` through the inline backend, which renders the whole figure (twice, for its tight bounding
box) and encodes it with Pillow. The two take turns in every repetition and are compared by their medians,
because machines are noisy. "update" is the callback without any rendering; "worst" is the slowest png call.
The main sliders only move artists; the steps slider sometimes changes an axis, and then renders it all.

    .venv/bin/python benchmarks/bench_widgets.py            # the table (about a minute)
    .venv/bin/python benchmarks/bench_widgets.py --quick    # a smoke run (seconds)

The issue's target: a callback redraws in well under 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from IPython.core.pylabtools import print_figure

from descent.widgets import (
    adam_explorer,
    clipping_explorer,
    descent_explorer,
    learning_rate_explorer,
    loss_explorer,
    momentum_explorer,
    schedule_explorer,
)

CASES = [  # (explorer, the slider swept): each main slider, and one that changes the axes on every call
    (loss_explorer, "pred"),
    (descent_explorer, "lr"),
    (descent_explorer, "steps"),  # the loss axis grows with the run (1, 2, 5, 10, 20, ...): the background too
    (learning_rate_explorer, "lr"),
    (momentum_explorer, "momentum"),
    (adam_explorer, "beta1"),
    (schedule_explorer, "lr"),
    (clipping_explorer, "max_norm"),
]


def callbacks(factory, slider: str) -> dict:
    """The ways to respond to a slider change, each a function of the new value, on their own explorers."""
    live, naive = factory(), factory()

    def update(value):
        live.update(**{slider: value})

    def png(value):
        live.png(**{slider: value})

    def inline(value):
        print_figure(naive.update(**{slider: value}), "png")  # what display(fig) runs in a notebook

    return {"update": update, "png": png, "inline": inline}


def times_ms(runs: dict, values: list, repeats: int) -> dict[str, list[float]]:
    """ms per callback of each way, every value, the ways taking turns in every repetition."""
    times = {key: [] for key in runs}
    for run in runs.values():
        run(values[0])  # warm-up: caches, fonts, lazy imports, the first background
    for _ in range(repeats):
        for key, run in runs.items():
            for value in values:
                start = time.perf_counter()
                run(value)
                times[key].append((time.perf_counter() - start) * 1e3)
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test, not a measurement")
    args = parser.parse_args(argv)
    n, repeats = (2, 1) if args.quick else (25, 5)

    print(f"ms per slider callback (matplotlib {matplotlib.__version__}, Agg), {n} values x {repeats} "
          "repetitions" + " (--quick: not a measurement)" * args.quick)
    print(f"{'explorer':<24}{'slider':<8}{'update':>8}{'png':>8}{'worst':>8}{'inline':>9}{'ratio':>8}")
    for factory, slider in CASES:
        values = factory().sliders[slider].sweep(n)
        ms = times_ms(callbacks(factory, slider), values, repeats)
        median = {key: statistics.median(ts) for key, ts in ms.items()}
        ratio = median["png"] / median["inline"]
        print(f"{factory.__name__:<24}{slider:<8}{median['update']:>8.1f}{median['png']:>8.1f}{max(ms['png']):>8.1f}"
              f"{median['inline']:>9.1f}{ratio:>7.2f}x")
    print("png = the live widget's callback (median), inline = update + display(fig) (median); "
          "ratio = png / inline, lower is better. Target: well under 100 ms.")


if __name__ == "__main__":
    main()
