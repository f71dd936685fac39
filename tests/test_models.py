"""Tests for descent.models: every hand-written backward pass against finite differences, shapes, seeded
initialisation, learning (least squares, separable classes) and argument validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent.base import apply_updates
from descent.data import make_blobs
from descent.models import accuracy, linear_regression, logistic_regression, mlp, rnn, softmax_regression
from descent.numerics import check_grad
from descent.optim import sgd

FAST = settings(max_examples=20, deadline=None)

MODELS = {
    "linear": linear_regression(),
    "logistic": logistic_regression(),
    "softmax": softmax_regression(n_classes=3),
    "mlp_tanh_regression": mlp(hidden=5, task="regression"),
    "mlp_tanh_binary": mlp(hidden=4, task="binary"),
    "mlp_relu_multiclass": mlp(hidden=6, activation="relu", task="multiclass", n_classes=4),
    "mlp_relu_regression": mlp(hidden=3, activation="relu"),
    "mlp_relu_deep_multiclass": mlp(hidden=(5, 4), activation="relu", task="multiclass", n_classes=3),
    "mlp_tanh_deep_binary": mlp(hidden=[3, 4, 2], task="binary"),
    "rnn_regression": rnn(hidden=4),
    "rnn_binary": rnn(hidden=3, task="binary"),
}


N_CLASSES = {"softmax": 3, "mlp_relu_multiclass": 4, "mlp_relu_deep_multiclass": 3}


def problem(name: str, n: int, d: int, seed: int):
    """Random features, targets suited to the model's task, and the model's initial parameters."""
    model, rng = MODELS[name], np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if model.task == "regression":
        y = rng.normal(size=n)
    elif model.task == "binary":
        y = rng.integers(0, 2, size=n).astype(float)
    else:
        y = rng.integers(0, N_CLASSES[name], size=n)
    return X, y, model.init(d, seed=seed)


@pytest.mark.parametrize("name", MODELS)
@FAST
@given(n=st.integers(1, 6), d=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_gradient_matches_finite_differences(name, n, d, seed):
    model = MODELS[name]
    X, y, params = problem(name, n, d, seed)
    # relu has a kink at 0; a random pre-activation lands within 1e-6 of it with probability ~1e-6
    error = check_grad(lambda p: model.loss_and_grad(p, X, y)[0], lambda p: model.loss_and_grad(p, X, y)[1],
                       params)
    assert error < 1e-6


@pytest.mark.parametrize("name", MODELS)
def test_grads_have_the_structure_of_params_and_loss_matches_predict(name):
    model = MODELS[name]
    X, y, params = problem(name, n=7, d=3, seed=1)
    loss, grads = model.loss_and_grad(params, X, y)
    assert isinstance(loss, float)
    assert grads.keys() == params.keys()
    for key in params:
        assert grads[key].shape == params[key].shape
    pred = model.predict(params, X)
    assert pred.shape == ((7, N_CLASSES[name]) if model.task == "multiclass" else (7,))


@pytest.mark.parametrize("name", MODELS)
def test_loss_and_grad_do_not_modify_their_inputs(name):
    model = MODELS[name]
    X, y, params = problem(name, n=5, d=2, seed=3)
    copies = X.copy(), y.copy(), {key: value.copy() for key, value in params.items()}
    model.loss_and_grad(params, X, y)
    model.predict(params, X)
    np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(y, copies[1])
    for key in params:
        np.testing.assert_array_equal(params[key], copies[2][key])


@pytest.mark.parametrize("name", MODELS)
def test_init_is_seeded_and_bounded_like_torch_linear(name):
    model = MODELS[name]
    first, again, other = model.init(4, seed=5), model.init(4, seed=5), model.init(4, seed=6)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
        if name.startswith("rnn"):
            fan_in = first["w"].shape[0]  # torch.nn.RNN: every weight uniform in ±1/√hidden
        else:
            fan_in = first["w" + key[1:]].shape[0]  # the inputs of the layer this weight or bias belongs to
        assert np.all(np.abs(first[key]) <= 1 / np.sqrt(fan_in))
    assert any(not np.array_equal(first[key], other[key]) for key in first)


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.5])
def test_rnn_gradient_reaching_back_k_steps_scales_like_the_spectral_radius_to_the_k(rho):
    # Near h = 0 tanh is the identity, so δh_{T-k} = δh_T (W^T)^k; an orthogonal W scaled by ρ has ‖W^k v‖ = ρ^k ‖v‖.
    hidden, T = 6, 12
    model, rng = rnn(hidden), np.random.default_rng(0)
    params = model.init(T, seed=0)
    params["w"] = rho * np.linalg.qr(rng.normal(size=(hidden, hidden)))[0]
    params["b"] = np.zeros(hidden)
    def input_gradient(T):  # ∂L/∂w_in for one tiny input at t = 1: every state stays in tanh's linear range
        X = np.zeros((1, T))
        X[0, 0] = 1e-9
        return model.loss_and_grad(params, X, np.array([1.0]))[1]["w_in"]

    first, later = input_gradient(T), input_gradient(T - 4)
    assert np.linalg.norm(first) / np.linalg.norm(later) == pytest.approx(rho**4, rel=1e-6)


def test_rnn_refuses_a_flat_sequence_and_foreign_params():
    with pytest.raises(ValueError, match=r"X has shape \(3,\).*\(n, T\)"):
        rnn().predict(rnn().init(3), np.zeros(3))
    with pytest.raises(ValueError, match="params must be the dict returned by rnn"):
        rnn().predict(mlp().init(3), np.zeros((2, 3)))


def test_rnn_reads_sequences_of_any_length_with_the_same_params():
    model = rnn(hidden=3)
    params = model.init(5, seed=0)
    for T in (1, 5, 40):
        assert model.predict(params, np.ones((2, T))).shape == (2,)


def test_parameter_shapes():
    assert {k: v.shape for k, v in linear_regression().init(3).items()} == {"w": (3,), "b": (1,)}
    assert {k: v.shape for k, v in softmax_regression(4).init(3).items()} == {"w": (3, 4), "b": (4,)}
    assert {k: v.shape for k, v in mlp(hidden=5, task="binary").init(2).items()} == {
        "w1": (2, 5), "b1": (5,), "w2": (5, 1), "b2": (1,)}


def test_a_deep_mlp_computes_its_layers_in_order_and_names_its_widths():
    model = mlp(hidden=(4, 3), activation="relu", task="multiclass", n_classes=5)
    params = model.init(2, seed=0)
    assert list(params) == ["w1", "b1", "w2", "b2", "w3", "b3"] and model.name == "mlp_relu_4x3"
    X = np.random.default_rng(1).normal(size=(6, 2))
    h1 = np.maximum(X @ params["w1"] + params["b1"], 0)
    h2 = np.maximum(h1 @ params["w2"] + params["b2"], 0)
    np.testing.assert_allclose(model.predict(params, X), h2 @ params["w3"] + params["b3"], rtol=1e-14)
    assert mlp(hidden=[7]).init(3).keys() == mlp(hidden=7).init(3).keys()


def test_one_hidden_layer_as_an_int_or_a_tuple_is_the_same_model():
    X, y = np.random.default_rng(2).normal(size=(5, 3)), np.array([0, 1, 2, 1, 0])
    one, same = (mlp(hidden=h, task="multiclass", n_classes=3) for h in (6, (6,)))
    loss, grads = one.loss_and_grad(one.init(3, seed=4), X, y)
    loss2, grads2 = same.loss_and_grad(same.init(3, seed=4), X, y)
    assert loss == loss2 and all(np.array_equal(grads[k], grads2[k]) for k in grads)


def test_linear_regression_predicts_xw_plus_b():
    params = {"w": np.array([2.0, -1.0]), "b": np.array([0.5])}
    X = np.array([[1.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(linear_regression().predict(params, X), [1.5, -2.5])


def gradient_descent(model, params, X, y, lr, steps):
    opt = sgd(lr=lr)
    state = opt.init(params)
    for _ in range(steps):
        _, grads = model.loss_and_grad(params, X, y)
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
    return params


def test_gradient_descent_on_linear_regression_reaches_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.5 * rng.normal(size=40)
    model = linear_regression()
    params = gradient_descent(model, model.init(3), X, y, lr=0.1, steps=2000)
    solution, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(40)]), y, rcond=None)
    np.testing.assert_allclose(np.append(params["w"], params["b"]), solution, atol=1e-8)


def test_logistic_regression_separates_far_apart_blobs():
    X, y = make_blobs(n=200, n_classes=2, distance=6.0, spread=0.7, seed=1)
    model = logistic_regression()
    params = gradient_descent(model, model.init(2), X, y, lr=0.5, steps=200)
    assert accuracy(model, params, X, y) >= 0.99


def test_softmax_regression_separates_three_blobs():
    X, y = make_blobs(n=300, n_classes=3, distance=6.0, spread=0.7, seed=2)
    model = softmax_regression(3)
    params = gradient_descent(model, model.init(2), X, y, lr=0.5, steps=200)
    assert accuracy(model, params, X, y) >= 0.98


def test_accuracy_uses_the_sign_for_binary_and_argmax_for_multiclass():
    binary = logistic_regression()
    params = {"w": np.array([1.0]), "b": np.array([-1.0])}
    X = np.array([[0.0], [0.5], [2.0], [3.0]])  # logits -1, -0.5, 1, 2
    assert accuracy(binary, params, X, np.array([0, 1, 1, 1])) == 0.75
    multi = softmax_regression(3)
    params = {"w": np.zeros((1, 3)), "b": np.array([0.0, 2.0, 1.0])}  # always class 1
    assert accuracy(multi, params, np.zeros((4, 1)), np.array([1, 1, 0, 2])) == 0.5


def test_overflowing_outputs_give_a_nan_loss_instead_of_an_error():
    model = linear_regression()
    params = {"w": np.array([np.inf]), "b": np.array([0.0])}
    loss, grads = model.loss_and_grad(params, np.array([[1.0]]), np.array([0.0]))
    assert np.isnan(loss)
    assert np.all(np.isnan(grads["w"]))


@pytest.mark.parametrize(("X", "y", "match"), [
    (np.zeros(3), np.zeros(3), r"X has shape \(3,\)"),
    (np.zeros((0, 2)), np.zeros(0), "n >= 1"),
    (np.array([[np.nan, 1.0]]), np.zeros(1), "X contains NaN"),
    (np.zeros((3, 2)), np.zeros(2), "one target per row"),
    (np.zeros((3, 5)), np.zeros(3), "X has 5 features"),
    (np.zeros((3, 2)), np.array([0.0, np.inf, 1.0]), "target contains NaN or infinity"),
])
def test_bad_data_raises_value_error(X, y, match):
    model = linear_regression()
    with pytest.raises(ValueError, match=match):
        model.loss_and_grad(model.init(2), X, y)


def test_bad_labels_are_reported_by_the_loss():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        logistic_regression().loss_and_grad(logistic_regression().init(1), np.zeros((2, 1)), np.array([0, 2]))
    with pytest.raises(ValueError, match="class indices"):
        softmax_regression(3).loss_and_grad(softmax_regression(3).init(1), np.zeros((2, 1)), np.array([0, 3]))


def test_params_of_the_wrong_kind_raise_value_error():
    with pytest.raises(ValueError, match=r"dict returned by model\.init"):
        linear_regression().predict({"w1": np.zeros(2)}, np.zeros((1, 2)))


@pytest.mark.parametrize(("factory", "match"), [
    (lambda: softmax_regression(1), "n_classes"),
    (lambda: mlp(hidden=0), "hidden"),
    (lambda: mlp(hidden=()), "hidden"),
    (lambda: mlp(hidden=(8, 0)), "hidden"),
    (lambda: mlp(hidden=2.5), "hidden"),
    (lambda: mlp(hidden=(4, True)), "hidden"),
    (lambda: mlp(activation="sigmoid"), "activation"),
    (lambda: mlp(task="ranking"), "task"),
    (lambda: rnn(hidden=0), "hidden"),
    (lambda: rnn(task="multiclass"), "task"),
    (lambda: mlp(task="multiclass"), "n_classes"),
    (lambda: mlp(task="binary", n_classes=2), "n_classes"),
    (lambda: linear_regression().init(0), "n_features"),
])
def test_bad_arguments_raise_value_error_naming_them(factory, match):
    with pytest.raises(ValueError, match=f"^{match}="):
        factory()


def test_accuracy_of_a_regression_model_is_an_error():
    with pytest.raises(ValueError, match="regression model"):
        accuracy(linear_regression(), linear_regression().init(1), np.zeros((1, 1)), np.zeros(1))
