"""The optimiser contract: trees, chain, apply_updates, global_norm."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from descent import optim
from descent.base import GradientTransformation, apply_updates, as_tree, chain, find_state, global_norm, tree_map
from descent.clipping import clip_by_global_norm

leaves = arrays(np.float64, st.integers(0, 5), elements=st.floats(-1e3, 1e3))


@given(a=leaves, b=leaves, p=st.sampled_from([1.0, 2.0, 3.0, np.inf]))
def test_global_norm_is_the_norm_of_all_leaves_concatenated(a, b, p):
    both = np.concatenate([a, b])
    expected = np.linalg.norm(both, ord=p) if both.size else 0.0
    assert global_norm({"a": a, "b": b}, norm_type=p) == pytest.approx(expected, rel=1e-12, abs=1e-300)


# Elements of magnitude 0 or >= 1e-100 and |c| >= 1e-3: squares stay normal floats (smaller ones underflow, and
# then no computed norm is homogeneous to 12 digits).
normal = st.just(0.0) | st.floats(1e-100, 1e3) | st.floats(-1e3, -1e-100)


@given(a=arrays(np.float64, st.integers(0, 5), elements=normal),
       c=st.floats(-10, -1e-3) | st.just(0.0) | st.floats(1e-3, 10))
def test_global_norm_is_absolutely_homogeneous(a, c):
    assert global_norm(c * a) == pytest.approx(abs(c) * global_norm(a), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("bad", [0.0, -2.0, float("nan"), "two"])
def test_global_norm_refuses_a_norm_type_that_is_not_positive(bad):
    with pytest.raises(ValueError, match=r"^norm_type="):
        global_norm(np.ones(2), norm_type=bad)


def test_apply_updates_returns_new_arrays_and_keeps_dtype():
    params = {"w": np.ones(3, dtype=np.float32)}
    new = apply_updates(params, {"w": np.full(3, 0.5)})
    assert new["w"].dtype == np.float32 and np.all(new["w"] == 1.5)
    assert np.all(params["w"] == 1.0)


def test_apply_updates_refuses_mismatched_shapes_instead_of_broadcasting():
    with pytest.raises(ValueError, match=r"updates of shape \(1,\) do not match params of shape \(3,\)"):
        apply_updates(np.zeros(3), np.ones(1))


def test_tree_map_refuses_trees_with_different_keys():
    with pytest.raises(ValueError, match="same keys"):
        tree_map(np.add, {"w": np.ones(1)}, {"b": np.ones(1)})


def test_as_tree_turns_lists_and_ints_into_float_arrays_and_refuses_text():
    assert as_tree({"w": [1, 2]})["w"].dtype == np.float64
    with pytest.raises(ValueError, match="numbers"):
        as_tree(np.array(["a"]))
    with pytest.raises(ValueError, match="None"):
        as_tree(None)


def test_chain_applies_transforms_left_to_right_and_keeps_each_state():
    double = GradientTransformation(lambda p: (), lambda g, s, p=None: (2 * g, s))
    plus_one = GradientTransformation(lambda p: 0, lambda g, s, p=None: (g + 1, s + 1))
    t = chain(double, plus_one)
    state = t.init(np.zeros(1))
    updates, state = t.update(np.array([3.0]), state)
    assert updates[0] == 7.0 and state == ((), 1)


def test_chain_refuses_an_uncalled_optimiser_factory():
    with pytest.raises(ValueError, match="call the optimiser"):
        chain(optim.sgd)


KINDS = {"adam": optim.ScaleByAdamState, "adamw": optim.ScaleByAdamState, "rmsprop": optim.ScaleByRmsState,
         "adagrad": optim.ScaleByAdagradState, "sgd": optim.TraceState}


@pytest.mark.parametrize("name", KINDS)
@given(decay=st.booleans(), maximize=st.booleans(), clip=st.booleans())
def test_find_state_finds_the_same_moments_whatever_the_options_and_the_chain(name, decay, maximize, clip):
    make = getattr(optim, name)
    extra = {"momentum": 0.9} if name in ("sgd", "rmsprop") else {}
    opt = make(lr=0.1, weight_decay=0.1 if decay else 0.0, maximize=maximize, **extra)
    opt = chain(clip_by_global_norm(100.0), opt) if clip else opt
    plain = make(lr=0.1, weight_decay=0.1 if decay else 0.0, maximize=maximize, **extra)
    params, grads = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    state, reference = opt.init(params), plain.init(params)
    for _ in range(2):
        state = opt.update(grads, state, params)[1]
        reference = plain.update(grads, reference, params)[1]
    found, expected = find_state(state, KINDS[name]), find_state(reference, KINDS[name])
    assert type(found) is KINDS[name]
    for mine, theirs in zip(found, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_find_state_needs_exactly_one_part_of_the_kind():
    assert find_state(optim.adam().init(np.zeros(1)), optim.ScaleByAdamState).count == 0
    with pytest.raises(ValueError, match="holds 0 TraceState"):
        find_state(optim.sgd(lr=0.1).init(np.zeros(1)), optim.TraceState)  # no momentum, no buffer
    with pytest.raises(ValueError, match="holds 2 ScaleByAdamState"):
        find_state(chain(optim.adam(), optim.adam()).init(np.zeros(1)), optim.ScaleByAdamState)
    with pytest.raises(ValueError, match="kind="):
        find_state(optim.adam().init(np.zeros(1)), "ScaleByAdamState")
