"""How fast is a descent optimiser step? Median µs per step against a baseline measured in the same run.

descent is timed twice: the pure pair (``opt.update`` then ``apply_updates``, new arrays every step: what the
course teaches) and ``step_in_place`` (the same arithmetic written into the params and the state's buffers:
PyTorch's memory model, for large models).

The baselines are ``torch.optim`` (``foreach=True``), when torch is importable, and the same update written
plainly in NumPy, in place. Two sizes: 1M float32 parameters (memory-bound: what a real model pays) and 2
float64 parameters (per-call overhead: what a slider pays hundreds of times per redraw). Implementations are
timed in interleaved repetitions and compared by their medians, because machines are noisy.

    .venv/bin/python benchmarks/bench_optim.py            # the full table (about a minute)
    .venv/bin/python benchmarks/bench_optim.py --quick    # a smoke run (seconds)
    .venv/bin/python benchmarks/bench_optim.py --baseline numpy

The issue's target: descent within 1.5x of torch on 1M parameters and faster than torch on 2.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from descent import optim
from descent.base import apply_updates, step_in_place

LR = 1e-3
OPTIMISERS = {  # name: (descent factory, torch class name, kwargs shared by both)
    "adam": (optim.adam, "Adam", {"lr": LR}),
    "sgd (momentum 0.9)": (optim.sgd, "SGD", {"lr": LR, "momentum": 0.9}),
    "rmsprop": (optim.rmsprop, "RMSprop", {"lr": LR}),
}


def descent_loop(factory, kwargs, params, grads):
    """The user's loop: ``updates, state = opt.update(...)``; ``params = apply_updates(params, updates)``."""
    opt = factory(**kwargs)
    state = opt.init(params)

    def run(steps):  # returns the params, so that tests can check every loop computes the same thing
        nonlocal params, state
        for _ in range(steps):
            updates, state = opt.update(grads, state, params)
            params = apply_updates(params, updates)
        return params

    return run


def in_place_loop(factory, kwargs, params, grads):
    """The PyTorch-style loop: ``state = step_in_place(opt, grads, state, params)``."""
    opt = factory(**kwargs)
    params = params.copy()
    state = opt.init(params)

    def run(steps):
        nonlocal state
        for _ in range(steps):
            state = step_in_place(opt, grads, state, params)
        return params

    return run


def torch_loop(name, kwargs, params, grads):
    """PyTorch's loop: set ``.grad``, ``opt.step()``."""
    import torch

    p = torch.tensor(params, requires_grad=True)
    g = torch.tensor(grads)
    opt = getattr(torch.optim, name)([p], foreach=True, **kwargs)

    def run(steps):
        for _ in range(steps):
            p.grad = g
            opt.step()
        return p.detach().numpy()

    return run


def numpy_loop(name, kwargs, params, grads):
    """The same update written plainly with in-place NumPy: the fastest obvious NumPy code."""
    p, m, v, lr = params.copy(), np.zeros_like(params), np.zeros_like(params), kwargs["lr"]
    step = {"Adam": numpy_adam, "SGD": numpy_sgd, "RMSprop": numpy_rmsprop}[name]
    t = 0

    def run(steps):
        nonlocal t
        for _ in range(steps):
            t += 1
            step(p, grads, m, v, t, lr)
        return p

    return run


def numpy_adam(p, g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    denom = np.sqrt(v / (1 - b2**t))
    denom += eps
    p -= (lr / (1 - b1**t)) * m / denom


def numpy_sgd(p, g, m, v, t, lr, momentum=0.9):
    if t == 1:
        m[...] = g
    else:
        m *= momentum
        m += g
    p -= lr * m


def numpy_rmsprop(p, g, m, v, t, lr, alpha=0.99, eps=1e-8):
    v *= alpha
    v += (1 - alpha) * g * g
    denom = np.sqrt(v)
    denom += eps
    p -= lr * g / denom


def median_us(loops: dict, steps: int, repeats: int) -> dict[str, float]:
    """Median µs/step of each loop, the loops taking turns in every repetition."""
    times = {key: [] for key in loops}
    for run in loops.values():
        run(steps)  # warm-up: allocate state, import lazily, fill caches
    for _ in range(repeats):
        for key, run in loops.items():
            start = time.perf_counter()
            run(steps)
            times[key].append((time.perf_counter() - start) / steps * 1e6)
    return {key: statistics.median(ts) for key, ts in times.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps only: a smoke test, not a measurement")
    parser.add_argument("--baseline", choices=["torch", "numpy"], default=None,
                        help="default: both when torch is importable, else numpy")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch's intra-op threads (default 1: NumPy's element-wise ops use one core too; "
                             "several threads on a busy machine make torch's timings erratic)")
    args = parser.parse_args(argv)

    baselines = {"numpy": numpy_loop}
    if args.baseline != "numpy":
        try:
            import torch

            baselines = {"torch": torch_loop, **({} if args.baseline else baselines)}
            torch.set_num_threads(args.torch_threads)
            print(f"torch {torch.__version__}: foreach=True, {torch.get_num_threads()} thread(s)")
        except ModuleNotFoundError:
            if args.baseline == "torch":
                raise

    # (label, size, dtype, steps per repetition, repetitions)
    sizes = [("1M float32", 1_000_000, np.float32, 10, 15), ("2 float64", 2, np.float64, 2000, 15)]
    if args.quick:
        sizes = [(label, size, dtype, 2 if size > 2 else 20, 2) for label, size, dtype, _, _ in sizes]

    print(f"numpy {np.__version__}: the naive baseline, the same update written in place")
    print(f"median µs/step over {sizes[0][4]} interleaved repetitions{' (--quick: not a measurement)' * args.quick}")
    variants = {"pure": descent_loop, "in place": in_place_loop}
    print(f"{'optimiser':<20}{'params':<12}" + "".join(f"{name:>10}" for name in [*variants, *baselines])
          + "".join(f"{variant + ' / ' + name:>18}" for name in baselines for variant in variants))
    rng = np.random.default_rng(0)
    for label, size, dtype, steps, repeats in sizes:
        params = rng.normal(size=size).astype(dtype)
        grads = rng.normal(size=size).astype(dtype)
        for name, (factory, torch_name, kwargs) in OPTIMISERS.items():
            loops = {key: loop(factory, kwargs, params, grads) for key, loop in variants.items()}
            loops |= {key: loop(torch_name, kwargs, params, grads) for key, loop in baselines.items()}
            us = median_us(loops, steps, repeats)
            print(f"{name:<20}{label:<12}" + "".join(f"{us[key]:>10.1f}" for key in loops)
                  + "".join(f"{us[variant] / us[key]:>17.2f}x" for key in baselines for variant in variants))
    print("x / torch: lower is better; the target is <= 1.5x at 1M params and < 1x at 2. x / numpy: against the same "
          "update written in place with NumPy. pure / in place: what keeping the old arrays alive costs.")


if __name__ == "__main__":
    main()
