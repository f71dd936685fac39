"""Tests for descent.schedules: the defining rule of each schedule, PyTorch's domain and argument checks,
and purity (a schedule is a function of the step alone). Agreement with torch.optim.lr_scheduler to
1e-12 is checked by the golden-file tests."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent.schedules import (
    constant,
    cosine_annealing,
    cosine_warm_restarts,
    exponential_lr,
    join_schedules,
    linear_lr,
    one_cycle,
    step_lr,
    warmup_cosine,
)

FAST = settings(max_examples=40, deadline=None)
LR = st.floats(1e-4, 10.0)
GAMMA = st.floats(0.05, 0.99)
STEPS = st.integers(0, 300)


def values(schedule, n):
    return np.array([schedule(e) for e in range(n)])


def test_constant_is_the_same_at_every_step():
    assert set(values(constant(0.3), 50)) == {0.3}


@FAST
@given(LR, st.integers(1, 20), GAMMA, STEPS)
def test_step_lr_is_constant_between_multiples_and_jumps_by_gamma(lr, step_size, gamma, e):
    s = step_lr(lr, step_size, gamma)
    assert s(0) == lr
    block_start = e - e % step_size
    assert s(e) == s(block_start)
    assert s(block_start + step_size) == pytest.approx(gamma * s(block_start), rel=1e-12)


@FAST
@given(LR, GAMMA, STEPS)
def test_exponential_lr_has_constant_ratio_gamma(lr, gamma, e):
    s = exponential_lr(lr, gamma)
    assert s(0) == lr
    assert s(e + 1) == pytest.approx(gamma * s(e), rel=1e-12)


@FAST
@given(LR, st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, 30))
def test_linear_lr_moves_in_equal_steps_then_stays_at_the_end_factor(lr, start_factor, end_factor, total):
    s = linear_lr(lr, start_factor, end_factor, total)
    assert s(0) == pytest.approx(lr * start_factor, rel=1e-12)
    assert s(total) == pytest.approx(lr * end_factor, rel=1e-12, abs=1e-15)
    assert np.all(values(s, total + 20)[total:] == s(total))
    increments = np.diff(values(s, total + 1))
    assert increments == pytest.approx(np.full(total, lr * (end_factor - start_factor) / total), abs=1e-12)


def test_linear_lr_defaults_are_pytorchs():
    s = linear_lr(0.3)
    assert [s(0), s(5), s(6)] == pytest.approx([0.1, 0.3, 0.3], rel=1e-12)


@FAST
@given(LR, st.integers(1, 50), st.floats(0.0, 0.5), st.integers(0, 200))
def test_cosine_annealing_endpoints_symmetry_and_period(lr, T, min_factor, e):
    eta_min = lr * min_factor
    s = cosine_annealing(lr, T, eta_min)
    assert s(0) == pytest.approx(lr, rel=1e-12)
    assert s(T) == pytest.approx(eta_min, rel=1e-12, abs=1e-15)
    assert eta_min - 1e-15 <= s(e) <= lr * (1 + 1e-12)
    tol = {"rel": 1e-9, "abs": 1e-14}
    assert s(T + e) == pytest.approx(s(abs(T - e)), **tol)  # symmetric about T
    assert s(e + 2 * T) == pytest.approx(s(e), **tol)  # not clamped: it rises again, period 2T


def test_cosine_annealing_halfway_and_decreasing():
    s = cosine_annealing(1.0, T_max=10, eta_min=0.2)
    assert s(5) == pytest.approx(0.6, rel=1e-12)
    assert np.all(np.diff(values(s, 11)) < 0)


@FAST
@given(LR, st.integers(1, 6), st.integers(1, 3), st.floats(0.0, 0.5))
def test_warm_restarts_restart_at_lr_with_growing_periods(lr, T_0, T_mult, min_factor):
    eta_min = lr * min_factor
    s = cosine_warm_restarts(lr, T_0, T_mult, eta_min)
    start, period = 0, T_0
    for _ in range(4):
        cosine = cosine_annealing(lr, period, eta_min)
        within = [s(start + k) for k in range(period)]
        assert within == pytest.approx([cosine(k) for k in range(period)], rel=1e-12)
        assert within[0] == pytest.approx(lr, rel=1e-12)
        start, period = start + period, period * T_mult
    assert s(start) == pytest.approx(lr, rel=1e-12)


def test_warm_restarts_large_step_uses_exact_integer_periods():
    s = cosine_warm_restarts(1.0, T_0=1, T_mult=2)  # restarts at 0, 1, 3, 7, ..., 2**k - 1
    for k in (20, 40, 60):
        assert s(2**k - 1) == 1.0
        assert s(2**k - 1 + 2**(k - 1)) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
def test_one_cycle_starts_low_peaks_at_max_lr_and_ends_lower(anneal_strategy, three_phase):
    max_lr, total, div, final_div = 0.5, 100, 25.0, 1e4
    s = one_cycle(max_lr, total, pct_start=0.3, anneal_strategy=anneal_strategy, div_factor=div,
                  final_div_factor=final_div, three_phase=three_phase)
    lrs = values(s, total)
    assert lrs[0] == pytest.approx(max_lr / div, rel=1e-12)
    assert np.argmax(lrs) == 29 and lrs[29] == pytest.approx(max_lr, rel=1e-12)
    assert np.all(np.diff(lrs[:30]) > 0)
    assert lrs[-1] == pytest.approx(max_lr / div / final_div, rel=1e-9)
    if three_phase:
        assert lrs[58] == pytest.approx(max_lr / div, rel=1e-12)
        assert np.all(np.diff(lrs[29:59]) < 0) and np.all(np.diff(lrs[58:]) < 0)
    else:
        assert np.all(np.diff(lrs[29:]) < 0)
    if anneal_strategy == "linear":
        assert np.diff(lrs[:30]) == pytest.approx(np.full(29, (max_lr - max_lr / div) / 29), rel=1e-9)


def test_one_cycle_is_defined_up_to_total_steps_and_raises_beyond():
    s = one_cycle(1.0, total_steps=10)
    assert math.isfinite(s(10))  # PyTorch allows scheduler.step() total_steps times
    with pytest.raises(ValueError, match=r"step=11.*total_steps"):
        s(11)


@pytest.mark.parametrize("total_steps, pct_start", [(10, 0.1), (4, 0.25)])
def test_one_cycle_with_an_empty_warmup_phase_raises_at_creation(total_steps, pct_start):
    with pytest.raises(ValueError, match="pct_start"):
        one_cycle(1.0, total_steps, pct_start)


def test_one_cycle_zero_length_last_phase_raises_only_where_undefined():
    s = one_cycle(1.0, total_steps=10, pct_start=1.0)
    assert s(9) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="zero length"):
        s(10)


@FAST
@given(LR, st.integers(1, 20), st.integers(1, 50), st.floats(0.01, 1.0), st.floats(0.0, 0.5))
def test_warmup_cosine_rises_linearly_to_lr_then_anneals(lr, warmup, decay, start_factor, min_factor):
    eta_min = lr * min_factor
    total = warmup + decay
    s = warmup_cosine(lr, warmup, total, start_factor, eta_min)
    lrs = values(s, total + 1)
    assert lrs[0] == pytest.approx(lr * start_factor, rel=1e-12)
    assert lrs[warmup] == pytest.approx(lr, rel=1e-12)
    assert lrs[total] == pytest.approx(eta_min, rel=1e-12, abs=1e-15)
    assert np.diff(lrs[:warmup + 1]) == pytest.approx(np.full(warmup, lr * (1 - start_factor) / warmup), abs=1e-12)
    assert np.all(np.diff(lrs[warmup:]) < 0)


@FAST
@given(LR, st.integers(1, 100), st.floats(0.01, 1.0), st.floats(0.0, 0.5))
def test_warmup_cosine_without_warmup_is_the_cosine_from_step_0(lr, total, start_factor, min_factor):
    s = warmup_cosine(lr, 0, total, start_factor, lr * min_factor)
    cosine = cosine_annealing(lr, total, lr * min_factor)
    assert values(s, 2 * total + 1).tolist() == values(cosine, 2 * total + 1).tolist()
    assert s(0) == pytest.approx(lr, rel=1e-12)  # the first update uses the full rate: no warm-up


def test_warmup_cosine_default_start_factor_is_one_percent():
    assert warmup_cosine(2.0, 5, 20)(0) == pytest.approx(0.02, rel=1e-12)


@FAST
@given(st.lists(st.integers(1, 15), min_size=1, max_size=3), STEPS)
def test_join_schedules_hands_over_at_milestones_restarting_each_schedule(gaps, e):
    milestones = list(np.cumsum(gaps))
    parts = [exponential_lr(1.0, 0.9), step_lr(0.5, 3), linear_lr(0.2, 0.5), cosine_annealing(0.4, 7)]
    parts = parts[:len(milestones) + 1]
    s = join_schedules(parts, milestones)
    starts = [0, *milestones]
    i = max(k for k, m in enumerate(starts) if e >= m)
    assert s(e) == parts[i](e - starts[i])
    for k, m in enumerate(milestones, start=1):
        assert s(m) == parts[k](0)


def test_join_schedules_accepts_any_callable():
    s = join_schedules([lambda e: 1.0 / (e + 1), constant(0.1)], [3])
    assert [s(e) for e in range(5)] == pytest.approx([1.0, 0.5, 1 / 3, 0.1, 0.1])


SCHEDULES = [
    constant(0.1), step_lr(0.1, 3), exponential_lr(0.1, 0.9), linear_lr(0.1), cosine_annealing(0.1, 10),
    cosine_warm_restarts(0.1, 3, 2), one_cycle(0.1, 50), warmup_cosine(0.1, 5, 50),
    join_schedules([constant(0.1), exponential_lr(0.1, 0.5)], [4]),
]


@pytest.mark.parametrize("s", SCHEDULES, ids=repr)
def test_schedules_are_pure_functions_of_the_step(s):
    forward = values(s, 50)
    backward = np.array([s(e) for e in reversed(range(50))])[::-1]
    assert np.array_equal(forward, backward)
    assert np.array_equal(forward, values(s, 50))
    assert all(type(s(e)) is float for e in range(3))
    assert s(np.int64(7)) == s(7)


@pytest.mark.parametrize("s", SCHEDULES, ids=repr)
@pytest.mark.parametrize("step", [-1, 1.5, "3", None, True])
def test_bad_steps_raise_naming_the_step(s, step):
    with pytest.raises(ValueError, match="step"):
        s(step)


def test_repr_shows_the_call():
    assert repr(step_lr(0.1, 2)) == "step_lr(lr=0.1, step_size=2, gamma=0.1)"
    assert "cosine_annealing(lr=0.1, T_max=45" in repr(warmup_cosine(0.1, 5, 50))


@pytest.mark.parametrize("make, name", [
    (lambda: constant(-0.1), "lr"),
    (lambda: constant("0.1"), "lr"),
    (lambda: step_lr(0.1, 0), "step_size"),
    (lambda: step_lr(0.1, 2.0), "step_size"),
    (lambda: step_lr(0.1, 2, gamma=0.0), "gamma"),
    (lambda: exponential_lr(0.1, -0.5), "gamma"),
    (lambda: exponential_lr(math.nan, 0.5), "lr"),
    (lambda: linear_lr(0.1, start_factor=0.0), "start_factor"),
    (lambda: linear_lr(0.1, start_factor=1.5), "start_factor"),
    (lambda: linear_lr(0.1, end_factor=-0.1), "end_factor"),
    (lambda: linear_lr(0.1, end_factor=1.1), "end_factor"),
    (lambda: linear_lr(0.1, total_iters=0), "total_iters"),
    (lambda: cosine_annealing(0.1, 0), "T_max"),
    (lambda: cosine_annealing(0.1, 10, eta_min=-1.0), "eta_min"),
    (lambda: cosine_warm_restarts(0.1, 0), "T_0"),
    (lambda: cosine_warm_restarts(0.1, 5, T_mult=0), "T_mult"),
    (lambda: cosine_warm_restarts(0.1, 5, T_mult=1.5), "T_mult"),
    (lambda: one_cycle(-1.0, 10), "max_lr"),
    (lambda: one_cycle(1.0, 0), "total_steps"),
    (lambda: one_cycle(1.0, 10, pct_start=1.2), "pct_start"),
    (lambda: one_cycle(1.0, 10, anneal_strategy="cosine"), "anneal_strategy"),
    (lambda: one_cycle(1.0, 10, div_factor=0.0), "div_factor"),
    (lambda: one_cycle(1.0, 10, final_div_factor=-1.0), "final_div_factor"),
    (lambda: one_cycle(1.0, 10, three_phase="yes"), "three_phase"),
    (lambda: warmup_cosine(0.1, -1, 10), "warmup_steps"),
    (lambda: warmup_cosine(0.1, 0, 0), "total_steps"),
    (lambda: warmup_cosine(0.1, 0, 10, warmup_start_factor=0.0), "start_factor"),
    (lambda: warmup_cosine(0.1, 10, 10), "total_steps"),
    (lambda: warmup_cosine(0.1, 5, 10, warmup_start_factor=0.0), "start_factor"),
    (lambda: join_schedules([], []), "schedules"),
    (lambda: join_schedules([constant(0.1), 0.1], [3]), r"schedules\[1\]"),
    (lambda: join_schedules([constant(0.1), constant(0.2)], []), "milestones"),
    (lambda: join_schedules([constant(0.1), constant(0.2)], [0]), r"milestones\[0\]"),
    (lambda: join_schedules([constant(0.1)] * 3, [5, 5]), r"milestones\[1\]"),
])
def test_bad_arguments_raise_naming_the_argument(make, name):
    with pytest.raises(ValueError, match=name):
        make()
