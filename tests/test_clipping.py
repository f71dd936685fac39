"""Tests for descent.clipping: clipped norms and directions, the total norm against an independent
computation, trees and dtypes, non-finite gradients, purity, and the transforms inside a chain.
Agreement with torch.nn.utils to 1e-12 is checked by the golden-file tests."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from descent.base import EmptyState, GradientTransformation, chain, global_norm
from descent.clipping import clip_by_global_norm, clip_by_value, clip_grad_norm

FAST = settings(max_examples=40, deadline=None)
ARRAYS = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), elements=st.floats(-10, 10))
TREES = st.one_of(ARRAYS, st.dictionaries(st.sampled_from("abc"), ARRAYS, min_size=1))
NORMS = st.sampled_from([1.0, 2.0, 3.0, math.inf])


def leaves(tree):
    return list(tree.values()) if isinstance(tree, dict) else [tree]


def flat(tree):
    return np.concatenate([np.ravel(leaf) for leaf in leaves(tree)])


@FAST
@given(TREES, st.floats(0.0, 20.0), NORMS)
def test_clipped_norm_is_at_most_max_norm_and_direction_is_kept(grads, max_norm, p):
    clipped, total = clip_grad_norm(grads, max_norm, p)
    g, c = flat(grads), flat(clipped)
    assert total == pytest.approx(np.linalg.norm(g, p) if g.size else 0.0, rel=1e-12)
    assert np.linalg.norm(c, p) <= max_norm * (1 + 1e-12) if c.size else True
    coef = min(1.0, max_norm / (total + 1e-6))
    assert c == pytest.approx(coef * g, rel=1e-12, abs=1e-300)  # one factor for every entry of every leaf


@FAST
@given(TREES, NORMS)
def test_no_change_when_the_norm_is_below_max_norm(grads, p):
    total = global_norm(grads, p)
    clipped, reported = clip_grad_norm(grads, total + 1e-6, p)
    assert reported == total
    for before, after in zip(leaves(grads), leaves(clipped), strict=True):
        assert np.array_equal(before, after)


@pytest.mark.parametrize("p, expected", [(1.0, 19.0), (2.0, 13.0), (math.inf, 12.0)])
def test_total_norm_is_the_norm_of_all_leaves_together(p, expected):
    grads = {"w": np.array([[3.0, 0.0], [0.0, -4.0]]), "b": np.array([-12.0])}
    clipped, total = clip_grad_norm(grads, max_norm=1.0, norm_type=p)
    assert total == pytest.approx(expected, rel=1e-12) and type(total) is float
    assert global_norm(clipped, p) == pytest.approx(expected / (expected + 1e-6), rel=1e-12)


def test_dict_structure_and_dtypes_are_kept():
    grads = {"w": np.full((2, 3), 2.0, dtype=np.float32), "b": np.array([5.0])}
    clipped, _ = clip_grad_norm(grads, max_norm=1.0)
    assert clipped.keys() == grads.keys()
    assert clipped["w"].dtype == np.float32 and clipped["b"].dtype == np.float64
    assert clipped["w"].shape == (2, 3)


def test_zero_max_norm_zeroes_the_gradient():
    clipped, total = clip_grad_norm(np.array([3.0, -4.0]), max_norm=0.0)
    assert total == 5.0 and np.array_equal(clipped, np.zeros(2))


def test_inputs_are_not_modified_and_outputs_do_not_alias_them():
    grads = {"w": np.array([3.0, 4.0]), "b": np.array([0.1])}
    clipped, _ = clip_grad_norm(grads, max_norm=100.0)
    values, _ = clip_by_value(10.0).update(grads, EmptyState())
    clipped["w"][0] = values["w"][0] = 99.0
    assert np.array_equal(grads["w"], [3.0, 4.0]) and np.array_equal(grads["b"], [0.1])
    clip_grad_norm(grads, max_norm=1.0)
    assert np.array_equal(grads["w"], [3.0, 4.0])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nonfinite_norm_raises_when_asked(bad):
    with pytest.raises(ValueError, match="error_if_nonfinite"):
        clip_grad_norm({"w": np.array([1.0, bad])}, 1.0, error_if_nonfinite=True)


def test_nonfinite_norm_scales_anyway_by_default_as_pytorch():
    clipped, total = clip_grad_norm(np.array([1.0, np.inf]), 1.0)
    assert total == math.inf
    assert clipped[0] == 0.0 and math.isnan(clipped[1])  # coefficient 1/(inf) = 0; inf * 0 = nan
    clipped, total = clip_grad_norm(np.array([1.0, np.nan]), 1.0)
    assert math.isnan(total) and np.all(np.isnan(clipped))


@FAST
@given(TREES, st.floats(0.0, 5.0))
def test_clip_by_value_clamps_each_entry_to_the_interval(grads, v):
    clip = clip_by_value(v)
    state = clip.init(grads)
    clipped, new_state = clip.update(grads, state)
    assert state == new_state == EmptyState()
    for g, c in zip(leaves(grads), leaves(clipped), strict=True):
        assert np.all(np.abs(c) <= v)
        inside = np.abs(g) <= v
        assert np.array_equal(c[inside], g[inside])
        assert np.array_equal(c[~inside], np.sign(g[~inside]) * v)


def test_clip_by_value_keeps_float32():
    clipped, _ = clip_by_value(1.0).update(np.array([2.0, -0.5], dtype=np.float32), EmptyState())
    assert clipped.dtype == np.float32 and np.array_equal(clipped, [1.0, -0.5])


def _descend(lr):
    """A minimal SGD step as a transform, so these tests need nothing but descent.base."""
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda grads, state, params=None: (-lr * grads, state))


def test_global_norm_transform_inside_chain_clips_before_the_step():
    opt = chain(clip_by_global_norm(1.0), _descend(0.5))
    state = opt.init(np.zeros(2))
    assert state == (EmptyState(), EmptyState())
    updates, state = opt.update(np.array([30.0, 40.0]), state, np.zeros(2))
    assert updates == pytest.approx(-0.5 * np.array([0.6, 0.8]) / (1 + 2e-8), rel=1e-12)
    assert state == (EmptyState(), EmptyState())


def test_value_then_norm_clipping_compose_in_chain():
    opt = chain(clip_by_value(1.0), clip_by_global_norm(1.0, norm_type=1.0))
    grads = {"w": np.array([5.0, -0.5]), "b": np.array([3.0])}
    updates, _ = opt.update(grads, opt.init(grads))
    assert global_norm(updates, 1.0) == pytest.approx(2.5 / (2.5 + 1e-6), rel=1e-12)  # ||[1, -0.5, 1]||_1
    assert np.sign(updates["w"]).tolist() == [1.0, -1.0]


@pytest.mark.parametrize("call, name", [
    (lambda: clip_grad_norm(np.ones(2), -1.0), "max_norm"),
    (lambda: clip_grad_norm(np.ones(2), math.nan), "max_norm"),
    (lambda: clip_grad_norm(np.ones(2), 1.0, norm_type=0.0), "norm_type"),
    (lambda: clip_grad_norm(None, 1.0), "grads"),
    (lambda: clip_grad_norm(np.array(["a"]), 1.0), "grads"),
    (lambda: clip_by_global_norm(-1.0), "max_norm"),
    (lambda: clip_by_global_norm(1.0, norm_type=-2.0), "norm_type"),
    (lambda: clip_by_value(-0.5), "clip_value"),
    (lambda: clip_by_value("1"), "clip_value"),
])
def test_bad_arguments_raise_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
