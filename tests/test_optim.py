"""Behaviour of the optimisers that a learner relies on. Exact agreement with PyTorch is in test_golden.py."""

import copy
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from descent import optim
from descent.base import apply_updates, step_in_place, tree_leaves

OPTIMISERS = {
    "sgd": lambda **kw: optim.sgd(lr=0.1, **kw),
    "sgd_momentum": lambda **kw: optim.sgd(lr=0.1, momentum=0.9, **kw),
    "sgd_nesterov": lambda **kw: optim.sgd(lr=0.1, momentum=0.9, nesterov=True, **kw),
    "adagrad": lambda **kw: optim.adagrad(lr=0.1, **kw),
    "rmsprop": lambda **kw: optim.rmsprop(lr=0.01, **kw),
    "rmsprop_centered_momentum": lambda **kw: optim.rmsprop(lr=0.01, centered=True, momentum=0.5, **kw),
    "adam": lambda **kw: optim.adam(lr=0.01, **kw),
    "adam_amsgrad": lambda **kw: optim.adam(lr=0.01, amsgrad=True, **kw),
    "adamw": lambda **kw: optim.adamw(lr=0.01, **kw),
}

finite = st.floats(-10, 10, allow_nan=False, width=64)
vectors = arrays(np.float64, st.integers(1, 6), elements=finite)


def run(opt, params, grad_fn, steps):
    state = opt.init(params)
    for _ in range(steps):
        updates, state = opt.update(grad_fn(params), state, params)
        params = apply_updates(params, updates)
    return params, state


@pytest.mark.parametrize("name", OPTIMISERS)
def test_every_optimiser_descends_a_quadratic_bowl(name):
    target = np.array([1.0, -2.0, 0.5])
    params, _ = run(OPTIMISERS[name](), np.zeros(3), lambda p: p - target, steps=3000)
    np.testing.assert_allclose(params, target, atol=0.05)


@pytest.mark.parametrize("name", OPTIMISERS)
@settings(max_examples=20, deadline=None)
@given(params=vectors, seed=st.integers(0, 2**16))
def test_update_is_pure_and_deterministic(name, params, seed):
    grads = np.random.default_rng(seed).standard_normal((3, params.size))
    opt = OPTIMISERS[name](weight_decay=0.1)
    state = opt.init(params)
    for g in grads:
        params_before, state_before = params.copy(), copy.deepcopy(state)
        updates, new_state = opt.update(g, state, params)
        again, _ = opt.update(g, state, params)
        np.testing.assert_array_equal(updates, again)
        np.testing.assert_array_equal(params, params_before)
        for a, b in zip(tree_leaves_of_state(state), tree_leaves_of_state(state_before), strict=True):
            np.testing.assert_array_equal(a, b)
        state, params = new_state, apply_updates(params, updates)


@pytest.mark.parametrize("name", OPTIMISERS)
@settings(max_examples=15, deadline=None)
@given(params=vectors, seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float64, np.float32]))
def test_step_in_place_computes_exactly_what_the_pure_pair_computes(name, params, seed, dtype):
    rng = np.random.default_rng(seed)
    tree = {"w": params.astype(dtype), "b": rng.standard_normal(2).astype(dtype)}
    opt = OPTIMISERS[name](weight_decay=0.1)
    pure, pure_state = tree, opt.init(tree)
    mutated = {k: v.copy() for k, v in tree.items()}
    state = opt.init(mutated)
    for _ in range(4):
        grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in tree.items()}
        updates, pure_state = opt.update(grads, pure_state, pure)
        pure = apply_updates(pure, updates)
        state = step_in_place(opt, grads, state, mutated)
        for k in tree:
            np.testing.assert_array_equal(mutated[k], pure[k])
        for a, b in zip(tree_leaves_of_state(state), tree_leaves_of_state(pure_state), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", OPTIMISERS)
def test_step_in_place_reuses_the_arrays_of_params_and_state(name):
    params = np.zeros(3)
    opt = OPTIMISERS[name]()
    state = opt.init(params)
    state = step_in_place(opt, np.ones(3), state, params)
    buffers = [id(leaf) for leaf in tree_leaves_of_state(state) if isinstance(leaf, np.ndarray)]
    for _ in range(3):
        state = step_in_place(opt, np.ones(3), state, params)
        assert [id(leaf) for leaf in tree_leaves_of_state(state) if isinstance(leaf, np.ndarray)] == buffers
    assert np.all(params < 0), "params itself was not updated"


@pytest.mark.parametrize(("params", "problem"), [
    (np.zeros(2, dtype=int), "an ndarray of dtype int64"),
    ([0.0, 0.0], "a list"),
    (np.broadcast_to(np.zeros(1), (2,)), "a read-only ndarray"),
])
def test_step_in_place_refuses_params_it_cannot_write_into(params, problem):
    opt = optim.sgd(lr=0.1)
    with pytest.raises(ValueError, match=f"writeable float ndarray; got {problem}"):
        step_in_place(opt, np.ones(2), opt.init(params), params)


def test_a_failed_step_in_place_leaves_the_pure_update_pure():
    opt = optim.adam(lr=0.1)
    params = np.zeros(2)
    state = opt.init(params)
    with pytest.raises(ValueError, match="shape"):
        step_in_place(opt, np.ones(3), state, params)
    before = copy.deepcopy(state)
    opt.update(np.ones(2), state, params)
    np.testing.assert_array_equal(state[0].mu, before[0].mu)


@pytest.mark.parametrize(("make", "decay"), [(lambda: optim.adam(betas=(0.9, 0.999)), 0.999),
                                             (lambda: optim.rmsprop(alpha=0.99), 0.99)])
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_float32_moving_averages_keep_float32_precision(make, decay, seed):
    # v_1 = (1 - decay) g^2 must not be computed as g^2 - decay g^2: that cancels ~3 of float32's 7 digits.
    grads = np.random.default_rng(seed).standard_normal((5, 4)).astype(np.float32)
    opt = make()
    state, exact = opt.init(np.zeros(4, np.float32)), np.zeros(4)
    for g in grads:
        _, state = opt.update(g, state, np.zeros(4, np.float32))
        exact = decay * exact + (1 - decay) * g.astype(float) ** 2
        v = state[0].nu if hasattr(state[0], "nu") else state[0].square_avg
        np.testing.assert_allclose(v, exact, rtol=5e-7)


def tree_leaves_of_state(state):
    """Every array or count in a (nested) optimiser state, in order."""
    if isinstance(state, tuple):
        return [leaf for part in state for leaf in tree_leaves_of_state(part)]
    return [] if state is None else tree_leaves(state) if isinstance(state, dict | np.ndarray) else [state]


@pytest.mark.parametrize("name", OPTIMISERS)
@settings(max_examples=15, deadline=None)
@given(params=vectors, seed=st.integers(0, 2**16))
def test_maximize_ascends_exactly_where_minimize_descends(name, params, seed):
    grads = np.random.default_rng(seed).standard_normal((4, params.size))
    descend, ascend = OPTIMISERS[name](), OPTIMISERS[name](maximize=True)
    s_down, s_up = descend.init(params), ascend.init(params)
    for g in grads:
        down, s_down = descend.update(g, s_down, params)
        up, s_up = ascend.update(-g, s_up, params)
        np.testing.assert_allclose(up, down, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", OPTIMISERS)
def test_a_dict_of_arrays_is_optimised_leaf_by_leaf(name):
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    grads = [(rng.standard_normal((3, 2)), rng.standard_normal(2)) for _ in range(5)]
    together = {"w": w, "b": b}
    apart = [w, b]
    opt = OPTIMISERS[name](weight_decay=0.01)
    s_together, s_apart = opt.init(together), [opt.init(x) for x in apart]
    for gw, gb in grads:
        u, s_together = opt.update({"w": gw, "b": gb}, s_together, together)
        together = apply_updates(together, u)
        for i, g in enumerate((gw, gb)):
            u_i, s_apart[i] = opt.update(g, s_apart[i], apart[i])
            apart[i] = apply_updates(apart[i], u_i)
    np.testing.assert_array_equal(together["w"], apart[0])
    np.testing.assert_array_equal(together["b"], apart[1])


@pytest.mark.parametrize("name", OPTIMISERS)
def test_float32_parameters_stay_float32(name):
    params = np.ones(4, dtype=np.float32)
    params, _ = run(OPTIMISERS[name](), params, lambda p: 2 * p, steps=3)
    assert params.dtype == np.float32


@pytest.mark.parametrize("name", ["sgd_momentum", "adagrad", "rmsprop", "adam", "adamw"])
def test_a_schedule_is_called_with_the_step_index_from_zero(name):
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.01

    opt = {"sgd_momentum": optim.sgd(lr=schedule, momentum=0.9), "adagrad": optim.adagrad(lr=schedule),
           "rmsprop": optim.rmsprop(lr=schedule), "adam": optim.adam(lr=schedule),
           "adamw": optim.adamw(lr=schedule)}[name]
    run(opt, np.ones(2), lambda p: p, steps=4)
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("make", [optim.sgd, optim.adagrad, optim.rmsprop, optim.adam, optim.adamw])
def test_a_constant_schedule_equals_a_float_learning_rate(make):
    def grad(p):
        return np.sin(p) + p

    by_float, _ = run(make(lr=0.05), np.linspace(-1, 1, 5), grad, steps=20)
    by_schedule, _ = run(make(lr=lambda step: 0.05), np.linspace(-1, 1, 5), grad, steps=20)
    np.testing.assert_array_equal(by_float, by_schedule)


@given(g=st.floats(0.1, 100) | st.floats(-100, -0.1), lr=st.floats(1e-4, 1.0))
def test_adams_first_step_has_the_size_of_the_learning_rate_whatever_the_gradients_scale(g, lr):
    opt = optim.adam(lr=lr)
    updates, _ = opt.update(np.array([g]), opt.init(np.zeros(1)), np.zeros(1))
    np.testing.assert_allclose(updates, [-np.sign(g) * lr], rtol=1e-6)


@given(mu=st.floats(0.0, 0.99), steps=st.integers(1, 30))
def test_momentum_under_a_constant_gradient_is_a_geometric_series(mu, steps):
    # b_t = g (1 + μ + … + μ^{t-1}): the velocity approaches g / (1 - μ), the "effective learning rate" lr/(1-μ).
    opt = optim.sgd(lr=1.0, momentum=mu)
    state = opt.init(np.zeros(1))
    for _ in range(steps):
        updates, state = opt.update(np.ones(1), state, np.zeros(1))
    np.testing.assert_allclose(-updates, [sum(mu**k for k in range(steps))], rtol=1e-12)


def test_adamw_shrinks_every_weight_by_the_same_factor_when_gradients_vanish():
    # Decoupled weight decay: θ ← θ(1 - lr·λ) whatever the gradient history; Adam's L2 penalty is instead
    # normalised away, moving every weight by about lr towards zero regardless of its size.
    params = np.array([100.0, 1.0, 0.01])
    lr, lam = 0.01, 0.1
    after_adamw, _ = run(optim.adamw(lr=lr, weight_decay=lam), params, lambda p: np.zeros_like(p), steps=1)
    np.testing.assert_allclose(after_adamw, params * (1 - lr * lam), rtol=1e-12)
    after_adam, _ = run(optim.adam(lr=lr, weight_decay=lam), params, lambda p: np.zeros_like(p), steps=1)
    np.testing.assert_allclose(params - after_adam, [lr, lr, lr], rtol=1e-4)


def test_adagrad_lr_decay_divides_the_step_by_one_plus_t_eta():
    opt = optim.adagrad(lr=1.0, lr_decay=0.5)
    state = opt.init(np.zeros(1))
    sizes = []
    for _ in range(3):
        updates, state = opt.update(np.ones(1), state, np.zeros(1))
        sizes.append(-updates[0])
    # s_t = t so g/√s_t = 1/√t, and the decayed rate is 1/(1 + (t-1)·0.5).
    np.testing.assert_allclose(sizes, [1 / (1 + (t - 1) * 0.5) / np.sqrt(t) for t in (1, 2, 3)], rtol=1e-9)


def test_the_state_shows_what_the_optimiser_remembers():
    opt = optim.adam(lr=0.1)
    _, state = run(opt, np.zeros(2), lambda p: np.array([1.0, -1.0]), steps=2)
    adam_state = state[0]
    assert adam_state.count == 2
    np.testing.assert_allclose(adam_state.mu, [0.19, -0.19])
    np.testing.assert_allclose(adam_state.nu, [1 - 0.999**2] * 2)
    assert adam_state.nu_max is None
    assert "mu=" in repr(adam_state)


BAD_ARGUMENTS = [
    (optim.sgd, {"lr": -0.1}, "lr"),
    (optim.sgd, {"lr": float("nan")}, "lr"),
    (optim.sgd, {"momentum": -0.5}, "momentum"),
    (optim.sgd, {"momentum": 0.9, "dampening": 1.5}, "dampening"),
    (optim.sgd, {"nesterov": True}, "nesterov"),
    (optim.sgd, {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, "nesterov"),
    (optim.sgd, {"weight_decay": -1.0}, "weight_decay"),
    (optim.sgd, {"lr": "fast"}, "lr"),
    (optim.adagrad, {"lr_decay": -0.1}, "lr_decay"),
    (optim.adagrad, {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
    (optim.adagrad, {"eps": -1e-10}, "eps"),
    (optim.rmsprop, {"alpha": 1.5}, "alpha"),
    (optim.rmsprop, {"momentum": -0.1}, "momentum"),
    (optim.adam, {"betas": (0.9, 1.0)}, "betas[1]"),
    (optim.adam, {"betas": (-0.1, 0.999)}, "betas[0]"),
    (optim.adam, {"betas": 0.9}, "betas"),
    (optim.adam, {"eps": -1.0}, "eps"),
    (optim.adamw, {"weight_decay": -0.01}, "weight_decay"),
]


@pytest.mark.parametrize(("make", "kwargs", "name"), BAD_ARGUMENTS)
def test_bad_arguments_raise_a_value_error_naming_the_argument(make, kwargs, name):
    with pytest.raises(ValueError, match=f"^{re.escape(name)}="):
        make(**kwargs)


def test_a_schedule_that_returns_a_negative_rate_is_reported_with_its_step():
    opt = optim.sgd(lr=lambda step: 0.1 - 0.1 * step)
    state = opt.init(np.zeros(1))
    _, state = opt.update(np.ones(1), state, np.zeros(1))
    _, state = opt.update(np.ones(1), state, np.zeros(1))
    with pytest.raises(ValueError, match=r"lr=-0\.1.*step 2"):
        opt.update(np.ones(1), state, np.zeros(1))


@pytest.mark.parametrize("name", OPTIMISERS)
def test_grads_of_the_wrong_shape_are_refused(name):
    opt = OPTIMISERS[name]()
    with pytest.raises(ValueError, match=r"grads has shape \(2,\) where params has shape \(3,\)"):
        opt.update(np.ones(2), opt.init(np.zeros(3)), np.zeros(3))


def test_grads_with_other_keys_than_params_are_refused():
    opt = optim.adam()
    params = {"w": np.zeros(2), "b": np.zeros(1)}
    with pytest.raises(ValueError, match="same keys"):
        opt.update({"w": np.zeros(2)}, opt.init(params), params)
