"""How fast does an explorer redraw? Median ms per slider callback against rebuilding the figure each time.

For each explorer the main slider is swept across its range. A callback is ``explorer.update(value)``
followed by ``fig.canvas.draw()`` (Agg), so rendering counts; the baseline, measured in the same run, is the
naive callback that builds the whole figure again for every change (``factory().update(value)`` and a draw).
The two take turns in every repetition and are compared by their medians, because machines are noisy. The
"update" column is the callback without rendering: the part descent.widgets controls.

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

from descent.widgets import descent_explorer, learning_rate_explorer, loss_explorer

EXPLORERS = {  # name: (factory, the slider swept)
    "loss_explorer": (loss_explorer, "pred"),
    "descent_explorer": (descent_explorer, "lr"),
    "learning_rate_explorer": (learning_rate_explorer, "lr"),
}


def callbacks(factory, slider: str) -> dict:
    """The three ways to respond to a slider change, each a function of the new value."""
    explorer = factory()

    def update(value):
        explorer.update(**{slider: value})

    def redraw(value):
        explorer.update(**{slider: value}).canvas.draw()

    def rebuild(value):
        factory().update(**{slider: value}).canvas.draw()

    return {"update": update, "update + draw": redraw, "rebuild + draw": rebuild}


def median_ms(runs: dict, values: list, repeats: int) -> dict[str, float]:
    """Median ms per callback of each way, the ways taking turns in every repetition."""
    times = {key: [] for key in runs}
    for run in runs.values():
        run(values[0])  # warm-up: caches, fonts, lazy imports
    for _ in range(repeats):
        for key, run in runs.items():
            start = time.perf_counter()
            for value in values:
                run(value)
            times[key].append((time.perf_counter() - start) / len(values) * 1e3)
    return {key: statistics.median(ts) for key, ts in times.items()}


def floor_ms(repeats: int) -> float:
    """Median ms to draw an empty two-panel figure of the same size: what any callback pays at least."""
    from descent.plots import subplots

    fig, axes = subplots(2)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    fig.canvas.draw()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fig.canvas.draw()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test, not a measurement")
    args = parser.parse_args(argv)
    n, repeats = (2, 1) if args.quick else (9, 5)

    print(f"median ms per slider callback (Agg, {matplotlib.__version__}), {n} values x {repeats} repetitions"
          + " (--quick: not a measurement)" * args.quick)
    print(f"{'explorer':<24}{'slider':<8}{'update':>9}{'+ draw':>9}{'rebuild':>10}{'ratio':>8}")
    for name, (factory, slider) in EXPLORERS.items():
        values = factory().sliders[slider].sweep(n)
        ms = median_ms(callbacks(factory, slider), values, repeats)
        ratio = ms["update + draw"] / ms["rebuild + draw"]
        print(f"{name:<24}{slider:<8}{ms['update']:>9.1f}{ms['update + draw']:>9.1f}"
              f"{ms['rebuild + draw']:>10.1f}{ratio:>7.2f}x")
    print(f"floor: an empty two-panel figure draws in {floor_ms(3 * repeats):.1f} ms on this machine")
    print("ratio = (update + draw) / (rebuild + draw), lower is better. "
          "Target: update + draw well under 100 ms.")


if __name__ == "__main__":
    main()
