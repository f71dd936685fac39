"""descent against PyTorch, live, on random configurations (skipped when torch is not installed).

The golden files pin chosen cases; here hypothesis draws the options, shapes and gradients, and PyTorch (run by
the same helpers that write the golden files) is the oracle. Examples are derandomised: the suite is seeded.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from golden.make_golden import (
    build,
    call,
    run_descent_optimizer,
    run_torch_optimizer,
    torch_clip,
    torch_schedule,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import descent.clipping
import descent.schedules

STEPS = 20
live = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

learning_rates = st.floats(1e-4, 0.3)
decays = st.just(0.0) | st.floats(0.0, 0.5)
epsilons = st.sampled_from([1e-10, 1e-8, 1e-3, 0.1])
fractions = st.floats(0.0, 0.99)


# ---------------------------------------------------------------------------------------------- schedules


@st.composite
def schedules(draw, lr=None, steps=60, names=None):
    """A schedule spec valid for at least ``steps`` steps, with base lr ``lr`` (drawn if None)."""
    lr = draw(learning_rates) if lr is None else lr
    name = draw(st.sampled_from(names or ["constant", "step_lr", "exponential_lr", "linear_lr", "cosine_annealing",
                                          "cosine_warm_restarts", "one_cycle", "warmup_cosine", "join_schedules"]))
    ints = st.integers
    if name == "constant":
        return call(name, lr=lr)
    if name == "step_lr":
        return call(name, lr=lr, step_size=draw(ints(1, 10)), gamma=draw(st.floats(0.01, 1.0)))
    if name == "exponential_lr":
        return call(name, lr=lr, gamma=draw(st.floats(0.5, 1.0)))
    if name == "linear_lr":
        return call(name, lr=lr, start_factor=draw(st.floats(0.01, 1.0)), end_factor=draw(st.floats(0.0, 1.0)),
                        total_iters=draw(ints(1, 20)))
    if name == "cosine_annealing":
        return call(name, lr=lr, T_max=draw(ints(1, 30)), eta_min=draw(st.floats(0.0, lr)))
    if name == "cosine_warm_restarts":
        return call(name, lr=lr, T_0=draw(ints(1, 10)), T_mult=draw(ints(1, 3)), eta_min=draw(st.floats(0.0, lr)))
    if name == "one_cycle":
        total, pct = draw(ints(steps, steps + 40)), draw(st.floats(0.05, 0.95))
        three_phase = draw(st.booleans())
        ends = [pct * total - 1, 2 * pct * total - 2, total - 1] if three_phase else [pct * total - 1, total - 1]
        # PyTorch divides by zero on an empty phase
        assume(all(b > a for a, b in zip([0.0, *ends[:-1]], ends, strict=True)))
        return call(name, max_lr=lr, total_steps=total, pct_start=pct, three_phase=three_phase,
                        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
                        div_factor=draw(st.floats(1.0, 100.0)), final_div_factor=draw(st.floats(1.0, 1e4)))
    if name == "warmup_cosine":
        warmup = draw(ints(1, 10))
        return call(name, lr=lr, warmup_steps=warmup, total_steps=draw(ints(warmup + 1, warmup + 30)),
                        warmup_start_factor=draw(st.floats(0.01, 1.0)), eta_min=draw(st.floats(0.0, lr)))
    # one_cycle cannot be a part: OneCycleLR overwrites the base lr that SequentialLR's parts share
    parts = draw(st.lists(schedules(lr, names=["constant", "step_lr", "exponential_lr", "linear_lr",
                                               "cosine_annealing", "cosine_warm_restarts"]), min_size=2, max_size=3))
    milestones = sorted(draw(st.sets(ints(1, 30), min_size=len(parts) - 1, max_size=len(parts) - 1)))
    return call(name, schedules=parts, milestones=milestones)


@live
@given(schedules())
def test_schedules_match_pytorch(spec):
    steps = min(60, spec["kwargs"]["total_steps"] + 1) if spec["name"] == "one_cycle" else 60
    theirs = torch_schedule(spec, steps)
    ours = build(descent.schedules, spec)
    # PyTorch computes most lrs recursively; where the exact value is 0 (a cosine at eta_min = 0, a linear
    # decay to end_factor = 0) it may report a rounding residue of ~1e-17 × lr, and descent's closed form 0.
    # An absolute tolerance of 1e-12 × lr accepts that residue and nothing a real difference could hide in.
    np.testing.assert_allclose([ours(e) for e in range(steps)], theirs, rtol=1e-10,
                               atol=1e-12 * np.abs(theirs).max(), err_msg=str(spec))


# --------------------------------------------------------------------------------------------- optimisers


@st.composite
def learning_rate(draw, high=0.3):
    lr = draw(st.floats(1e-4, high))
    return draw(st.just(lr) | schedules(lr, steps=STEPS))


@st.composite
def sgd(draw):
    momentum = draw(st.just(0.0) | fractions)
    nesterov = momentum > 0 and draw(st.booleans())
    return call("sgd", lr=draw(learning_rate()), momentum=momentum, nesterov=nesterov,
                    dampening=0.0 if nesterov else draw(st.floats(0.0, 1.0)), weight_decay=draw(decays),
                    maximize=draw(st.booleans()))


@st.composite
def adagrad(draw):
    return call("adagrad", lr=draw(learning_rate()), lr_decay=draw(st.floats(0.0, 0.1)),
                    weight_decay=draw(decays), initial_accumulator_value=draw(st.floats(0.0, 1.0)),
                    eps=draw(epsilons), maximize=draw(st.booleans()))


@st.composite
def rmsprop(draw):
    return call("rmsprop", lr=draw(learning_rate(high=0.05)), alpha=draw(st.floats(0.5, 0.999)),
                    eps=draw(epsilons), weight_decay=draw(decays), momentum=draw(st.just(0.0) | fractions),
                    centered=draw(st.booleans()), maximize=draw(st.booleans()))


@st.composite
def adam(draw, name="adam"):
    return call(name, lr=draw(learning_rate()), betas=[draw(fractions), draw(st.floats(0.5, 0.9999))],
                    eps=draw(epsilons), weight_decay=draw(decays), amsgrad=draw(st.booleans()),
                    maximize=draw(st.booleans()))


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple)
trees = st.dictionaries(st.sampled_from(["w", "b", "v"]), shapes, min_size=1)


@live
@given(st.one_of(sgd(), adagrad(), rmsprop(), adam(), adam("adamw")), trees, st.integers(0, 2**32 - 1),
       st.booleans())
def test_optimisers_match_pytorch(spec, tree, seed, foreach):
    rng = np.random.default_rng(seed)
    params0 = {k: rng.normal(size=shape) for k, shape in tree.items()}
    grads = [{k: rng.normal(size=shape) for k, shape in tree.items()} for _ in range(STEPS)]
    _, theirs = run_torch_optimizer(spec, params0, lambda params, t: grads[t], STEPS, foreach=foreach)
    ours = run_descent_optimizer(spec, params0, grads)
    for k in tree:
        expected = np.array([params[k] for params in theirs])
        # A parameter that random gradients walk across 0 has no meaningful relative error: judge every entry
        # relative to the scale of its parameter (rounding differences are ~1e-16 of it).
        np.testing.assert_allclose(np.array([params[k] for params in ours]), expected, rtol=1e-10,
                                   atol=1e-12 * np.abs(expected).max(), err_msg=f"{spec} params[{k!r}]")


# ----------------------------------------------------------------------------------------------- clipping


@live
@given(trees, st.integers(0, 2**32 - 1), st.floats(0.0, 5.0),
       st.sampled_from([1.0, 2.0, float("inf")]) | st.floats(0.5, 6.0))
def test_clip_grad_norm_matches_pytorch(tree, seed, max_norm, norm_type):
    rng = np.random.default_rng(seed)
    grads = {k: rng.normal(scale=rng.uniform(0.1, 3.0), size=shape) for k, shape in tree.items()}
    expected, expected_total = torch_clip(call("clip_grad_norm", max_norm=max_norm, norm_type=norm_type), grads)
    clipped, total = descent.clipping.clip_grad_norm(grads, max_norm, norm_type)
    np.testing.assert_allclose(total, expected_total, rtol=1e-10)
    for k in tree:
        np.testing.assert_allclose(clipped[k], expected[k], rtol=1e-10, atol=0)
