r"""Tiny models with their backward passes written out by hand.

A :class:`Model` is three pure functions: ``init(n_features, seed=0) -> params``, ``predict(params, X)``
and ``loss_and_grad(params, X, y) -> (loss, grads)``, where ``params`` and ``grads`` are dicts of ndarrays
with the same keys, ready for any optimiser of :mod:`descent.optim`. ``X`` has shape ``(n, d)``; ``y`` holds
``n`` targets: real numbers (``task="regression"``), labels 0/1 (``"binary"``) or class indices ``0 … K-1``
(``"multiclass"``). ``predict`` returns what the loss takes: the prediction :math:`\hat y` for regression, the
logits for classification (shape ``(n,)`` or ``(n, K)``); :func:`accuracy` turns logits into labels.

The backward pass is the chain rule read right to left. The loss hands back :math:`\partial L/\partial z`
for the model output :math:`z` (the losses of :mod:`descent.losses` already include the :math:`1/n` of the
mean), and an affine layer :math:`z = X W + b` passes it on as

.. math:: \frac{\partial L}{\partial W} = X^\top \frac{\partial L}{\partial z}, \qquad
          \frac{\partial L}{\partial b} = \sum_i \frac{\partial L}{\partial z_i}, \qquad
          \frac{\partial L}{\partial X} = \frac{\partial L}{\partial z} W^\top .

Weights and biases start uniform in :math:`\pm 1/\sqrt{\text{fan-in}}`, the default of ``torch.nn.Linear``.
Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), §6.5 (back-propagation).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from . import _checks
from .losses import binary_cross_entropy_with_logits, cross_entropy, mse

Params = dict[str, np.ndarray]

_LOSSES = {"regression": mse, "binary": binary_cross_entropy_with_logits, "multiclass": cross_entropy}


class Model(NamedTuple):
    """A model as pure functions: ``init(n_features, seed)`` returns a dict of parameter arrays,
    ``predict(params, X)`` the outputs (predictions or logits), and ``loss_and_grad(params, X, y)`` the mean loss
    and its gradient, a dict shaped like ``params``. ``task`` is ``"regression"``, ``"binary"`` or
    ``"multiclass"``; ``name`` is for titles.

    >>> model = linear_regression()
    >>> params = model.init(n_features=3, seed=0)
    >>> sorted(params), params["w"].shape
    (['b', 'w'], (3,))
    """

    name: str
    task: str
    init: Callable[..., Params]
    predict: Callable[[Params, np.ndarray], np.ndarray]
    loss_and_grad: Callable[[Params, np.ndarray, np.ndarray], tuple[float, Params]]


def _uniform(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape)


def _features(X, params: Params, key: str) -> np.ndarray:
    """``X`` as a finite float array of shape ``(n, d)`` whose ``d`` matches ``params[key]``."""
    X = _checks.finite_array("X", X)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X has shape {X.shape}: pass a 2-D array of shape (n, d) with n >= 1 "
                         "(one row per sample; reshape a single feature with X[:, None]).")
    if not isinstance(params, dict) or key not in params:
        raise ValueError(f"params must be the dict returned by model.init, with key {key!r}; "
                         f"got {type(params).__name__} {sorted(params) if isinstance(params, dict) else ''}.")
    if X.shape[1] != np.shape(params[key])[0]:
        raise ValueError(f"X has {X.shape[1]} features but params[{key!r}] has shape "
                         f"{np.shape(params[key])}: call model.init(n_features={X.shape[1]}).")
    return X


def _loss(task: str, z: np.ndarray, y) -> tuple[float, np.ndarray]:
    """The task's loss of the outputs ``z`` and its gradient; NaN when ``z`` has overflowed (diverged)."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(z):
        raise ValueError(f"y has shape {y.shape} but X has {len(z)} rows: pass one target per row of X.")
    if not np.all(np.isfinite(z)):
        return float("nan"), np.full(z.shape, np.nan)
    return _LOSSES[task](z, y)


def _affine(name: str, task: str, n_outputs: int | None) -> Model:
    r"""The model :math:`z = X w + b` with ``w`` of shape ``(d,)`` (or ``(d, K)``) and ``b`` of shape ``(1,)``
    (or ``(K,)``)."""

    def init(n_features: int, seed: int = 0) -> Params:
        d = _checks.integer("n_features", n_features, low=1)
        rng = np.random.default_rng(seed)
        if n_outputs is None:
            return {"w": _uniform(rng, d, (d,)), "b": _uniform(rng, d, (1,))}
        return {"w": _uniform(rng, d, (d, n_outputs)), "b": _uniform(rng, d, (n_outputs,))}

    def predict(params: Params, X) -> np.ndarray:
        X = _features(X, params, "w")
        return X @ params["w"] + params["b"]

    def loss_and_grad(params: Params, X, y) -> tuple[float, Params]:
        X = _features(X, params, "w")
        z = X @ params["w"] + params["b"]                          # forward
        loss, dz = _loss(task, z, y)                               # dL/dz, shape of z
        return loss, {"w": X.T @ dz, "b": dz.sum(axis=0).reshape(np.shape(params["b"]))}

    return Model(name, task, init, predict, loss_and_grad)


def linear_regression() -> Model:
    r"""Linear regression :math:`\hat y = X w + b` trained with the mean squared error:

    .. math::

        L = \frac1n \|X w + b - y\|^2,

        \nabla_w L = \frac2n X^\top (X w + b - y), \qquad \nabla_b L = \frac2n \textstyle\sum_i (x_i^\top w + b - y_i)

    Reference: Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning* (2009), §3.2;
    ``torch.nn.Linear`` with ``torch.nn.MSELoss``.

    >>> model = linear_regression()
    >>> params = {"w": np.array([2.0]), "b": np.array([1.0])}
    >>> X, y = np.array([[0.0], [1.0]]), np.array([1.0, 4.0])
    >>> model.loss_and_grad(params, X, y)
    (0.5, {'w': array([-1.]), 'b': array([-1.])})
    """
    return _affine("linear_regression", "regression", None)


def logistic_regression() -> Model:
    r"""Logistic regression: the logit :math:`z = X w + b`, :math:`P(y = 1 \mid x) = \sigma(z)`, trained with
    the binary cross-entropy of logits:

    .. math::

        L = \frac1n \sum_i \big[\ln(1 + e^{z_i}) - y_i z_i\big],

        \nabla_w L = \frac1n X^\top (\sigma(z) - y), \qquad \nabla_b L = \frac1n \textstyle\sum_i (\sigma(z_i) - y_i)

    Reference: Bishop, *Pattern Recognition and Machine Learning* (2006), §4.3.2;
    ``torch.nn.BCEWithLogitsLoss``.

    >>> model = logistic_regression()
    >>> params = {"w": np.array([0.0]), "b": np.array([0.0])}
    >>> model.loss_and_grad(params, np.array([[2.0]]), np.array([1.0]))
    (0.6931471805599453, {'w': array([-1.]), 'b': array([-0.5])})
    """
    return _affine("logistic_regression", "binary", None)


def softmax_regression(n_classes: int) -> Model:
    r"""Softmax (multinomial logistic) regression: logits :math:`Z = X W + b` of shape ``(n, K)``, trained
    with the cross-entropy of :math:`\operatorname{softmax}(Z)` against integer labels:

    .. math::

        L = -\frac1n \sum_i \ln \operatorname{softmax}(z_i)_{y_i},

        \nabla_W L = \frac1n X^\top (P - Y), \qquad \nabla_b L = \frac1n \textstyle\sum_i (p_i - y_i)

    with :math:`P` the softmax probabilities and :math:`Y` the one-hot targets. Reference: Bishop (2006),
    §4.3.4; ``torch.nn.CrossEntropyLoss``.

    >>> model = softmax_regression(n_classes=3)
    >>> params = model.init(n_features=2, seed=0)
    >>> params["w"].shape, params["b"].shape, model.predict(params, np.zeros((5, 2))).shape
    ((2, 3), (3,), (5, 3))
    """
    n_classes = _checks.integer("n_classes", n_classes, low=2)
    return _affine("softmax_regression", "multiclass", n_classes)


_ACTIVATIONS = {  # name: (σ(a), σ'(a) written in terms of a and h = σ(a))
    "tanh": (np.tanh, lambda a, h: 1.0 - h**2),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(float)),
}


def mlp(hidden: int | Sequence[int] = 16, activation: str = "tanh", task: str = "regression",
        n_classes: int | None = None) -> Model:
    r"""A multi-layer perceptron: ``hidden`` units in one hidden layer, or one layer per entry of a sequence
    (``hidden=(64, 64)`` has two). With :math:`h_0 = X` and :math:`L` hidden layers,

    .. math:: a_l = h_{l-1} W_l + b_l, \qquad h_l = \sigma(a_l) \quad (l = 1, \dots, L), \qquad
              z = h_L W_{L+1} + b_{L+1} ,

    with :math:`\sigma` = ``tanh`` (default) or ``relu``, and the loss of ``task`` (MSE, binary cross-entropy
    of logits, or cross-entropy over ``n_classes``). Backward, from :math:`\delta_{L+1} = \partial L/\partial z`
    down to :math:`l = 1`:

    .. math::

        \nabla_{W_l} L = h_{l-1}^\top \delta_l, \qquad \nabla_{b_l} L = \textstyle\sum_i \delta_{l,i},

        \delta_{l-1} = (\delta_l W_l^\top) \odot \sigma'(a_{l-1})

    with :math:`\tanh' = 1 - h^2` and :math:`\operatorname{relu}'(a) = [a > 0]`. Parameters: ``w1`` (d,
    hidden₁), ``b1`` (hidden₁,), …, and the output layer ``w{L+1}`` (hidden_L, m), ``b{L+1}`` (m,), with m = 1
    (output squeezed to shape ``(n,)``) or ``n_classes``. Every layer starts as ``torch.nn.Linear`` does.
    Reference: Rumelhart, Hinton & Williams (1986), *Learning representations by back-propagating errors*,
    Nature 323; Goodfellow et al. (2016), §6.5.

    >>> model = mlp(hidden=8, task="multiclass", n_classes=3)
    >>> params = model.init(n_features=2, seed=0)
    >>> {key: value.shape for key, value in params.items()}
    {'w1': (2, 8), 'b1': (8,), 'w2': (8, 3), 'b2': (3,)}
    >>> deep = mlp(hidden=(64, 32), activation="relu", task="multiclass", n_classes=10)
    >>> {key: value.shape for key, value in deep.init(n_features=64).items()}
    {'w1': (64, 64), 'b1': (64,), 'w2': (64, 32), 'b2': (32,), 'w3': (32, 10), 'b3': (10,)}
    """
    widths = _widths(hidden)
    _checks.one_of("activation", activation, tuple(_ACTIVATIONS))
    _checks.one_of("task", task, tuple(_LOSSES))
    if task == "multiclass":
        n_outputs = _checks.integer("n_classes", n_classes, low=2)
    elif n_classes is not None:
        raise ValueError(f"n_classes={n_classes!r} is invalid for task={task!r}: pass n_classes only with "
                         "task='multiclass'.")
    else:
        n_outputs = 1
    sigma, sigma_prime = _ACTIVATIONS[activation]
    depth = len(widths)  # hidden layers; layer depth + 1 is the output

    def init(n_features: int, seed: int = 0) -> Params:
        sizes = (_checks.integer("n_features", n_features, low=1), *widths, n_outputs)
        rng = np.random.default_rng(seed)
        params = {}
        for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
            params[f"w{layer}"] = _uniform(rng, fan_in, (fan_in, fan_out))
            params[f"b{layer}"] = _uniform(rng, fan_in, (fan_out,))
        return params

    def forward(params: Params, X):
        """The inputs of every layer, h_0 = X, ..., h_L, their pre-activations a_1, ..., a_L, and the output z."""
        hs, activations = [_features(X, params, "w1")], []
        for layer in range(1, depth + 1):
            activations.append(hs[-1] @ params[f"w{layer}"] + params[f"b{layer}"])
            hs.append(sigma(activations[-1]))
        z = hs[-1] @ params[f"w{depth + 1}"] + params[f"b{depth + 1}"]
        return hs, activations, z

    def output(z: np.ndarray) -> np.ndarray:
        return z if task == "multiclass" else z[:, 0]

    def predict(params: Params, X) -> np.ndarray:
        return output(forward(params, X)[2])

    def loss_and_grad(params: Params, X, y) -> tuple[float, Params]:
        hs, activations, z = forward(params, X)
        loss, dout = _loss(task, output(z), y)
        delta, grads = dout.reshape(z.shape), {}
        for layer in range(depth + 1, 0, -1):
            grads[f"w{layer}"], grads[f"b{layer}"] = hs[layer - 1].T @ delta, delta.sum(axis=0)
            if layer > 1:
                delta = (delta @ params[f"w{layer}"].T) * sigma_prime(activations[layer - 2], hs[layer - 1])
        return loss, {key: grads[key] for key in params}

    name = "x".join(str(width) for width in widths)
    return Model(f"mlp_{activation}_{name}", task, init, predict, loss_and_grad)


def _widths(hidden) -> tuple[int, ...]:
    """``hidden`` as a non-empty tuple of layer widths, each an integer >= 1."""
    if isinstance(hidden, int | np.integer) and not isinstance(hidden, bool):
        return (_checks.integer("hidden", hidden, low=1),)
    if isinstance(hidden, tuple | list) and hidden:
        if all(isinstance(w, int | np.integer) and not isinstance(w, bool) and w >= 1 for w in hidden):
            return tuple(int(w) for w in hidden)
    raise ValueError(f"hidden={hidden!r} is invalid: hidden must be an integer >= 1 (one hidden layer) or a "
                     "non-empty tuple of them, one width per hidden layer, e.g. (64, 64).")


def rnn(hidden: int = 8, task: str = "regression") -> Model:
    r"""A recurrent network of ``hidden`` tanh units that reads a sequence of :math:`T` numbers, one per step,
    and makes one prediction from its last state (Elman, 1990, *Finding structure in time*). Row :math:`i` of
    ``X``, shape ``(n, T)``, is one sequence :math:`x_1, \dots, x_T`; from :math:`h_0 = 0`,

    .. math:: a_t = x_t\, w_{\text{in}} + h_{t-1} W + b, \qquad h_t = \tanh(a_t), \qquad
              z = h_T \cdot w_{\text{out}} + b_{\text{out}} ,

    with the loss of ``task`` (MSE, or binary cross-entropy of the logit :math:`z`). Backward through time,
    from :math:`\delta h_T = \partial L/\partial h_T = (\partial L/\partial z)\, w_{\text{out}}`, for
    :math:`t = T, \dots, 1`:

    .. math::

        \delta a_t = \delta h_t \odot (1 - h_t^2), \qquad \delta h_{t-1} = \delta a_t W^\top,

        \nabla_W L = \textstyle\sum_t h_{t-1}^\top \delta a_t, \quad
        \nabla_{w_{\text{in}}} L = \sum_t x_t^\top \delta a_t, \quad \nabla_b L = \sum_t \delta a_t .

    So :math:`\delta h_{t-k}` is :math:`\delta h_t` multiplied by :math:`k` matrices
    :math:`\operatorname{diag}(1 - h^2)\,W^\top`: where the units are far from saturation, the gradient
    reaching back :math:`k` steps grows or shrinks like :math:`\rho(W)^k`, with :math:`\rho` the spectral
    radius (Pascanu, Mikolov & Bengio, 2013, *On the difficulty of training recurrent neural networks*, ICML).
    Parameters: ``w_in`` (hidden,), ``w`` (hidden, hidden), ``b`` (hidden,), ``w_out`` (hidden,), ``b_out``
    (1,), all uniform in :math:`\pm 1/\sqrt{\text{hidden}}` as in ``torch.nn.RNN``; ``init``'s
    ``n_features`` is the sequence length, which the parameters do not depend on.

    >>> model = rnn(hidden=4)
    >>> params = model.init(n_features=10, seed=0)
    >>> {key: value.shape for key, value in params.items()}
    {'w_in': (4,), 'w': (4, 4), 'b': (4,), 'w_out': (4,), 'b_out': (1,)}
    >>> model.predict(params, np.zeros((3, 10))).shape   # three sequences of length 10
    (3,)
    """
    hidden = _checks.integer("hidden", hidden, low=1)
    _checks.one_of("task", task, ("regression", "binary"))

    def init(n_features: int, seed: int = 0) -> Params:
        _checks.integer("n_features", n_features, low=1)
        rng = np.random.default_rng(seed)
        shapes = {"w_in": (hidden,), "w": (hidden, hidden), "b": (hidden,), "w_out": (hidden,), "b_out": (1,)}
        return {key: _uniform(rng, hidden, shape) for key, shape in shapes.items()}

    def forward(params: Params, X) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        X = _checks.finite_array("X", X)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X has shape {X.shape}: pass a 2-D array of shape (n, T), one sequence of T >= 1 "
                             "numbers per row.")
        if not isinstance(params, dict) or set(params) != {"w_in", "w", "b", "w_out", "b_out"}:
            raise ValueError("params must be the dict returned by rnn(...).init, with keys w_in, w, b, w_out, b_out.")
        states = [np.zeros((len(X), hidden))]                       # h_0, h_1, ..., h_T
        for x_t in X.T:
            states.append(np.tanh(np.outer(x_t, params["w_in"]) + states[-1] @ params["w"] + params["b"]))
        return X, states, states[-1] @ params["w_out"] + params["b_out"]

    def predict(params: Params, X) -> np.ndarray:
        return forward(params, X)[2]

    def loss_and_grad(params: Params, X, y) -> tuple[float, Params]:
        X, states, z = forward(params, X)
        loss, dz = _loss(task, z, y)
        grads = {key: np.zeros_like(value) for key, value in params.items()}
        grads["w_out"], grads["b_out"] = states[-1].T @ dz, dz.sum(keepdims=True)
        dh = np.outer(dz, params["w_out"])                          # δh_T
        for t in range(X.shape[1], 0, -1):
            da = dh * (1.0 - states[t] ** 2)                        # δa_t
            grads["w"] += states[t - 1].T @ da
            grads["w_in"] += X[:, t - 1] @ da
            grads["b"] += da.sum(axis=0)
            dh = da @ params["w"].T                                 # δh_{t-1}
        return loss, grads

    return Model(f"rnn_tanh_{hidden}", task, init, predict, loss_and_grad)


def accuracy(model: Model, params: Params, X, y) -> float:
    r"""The fraction of samples a classifier labels correctly, :math:`\frac1n \sum_i [\hat c_i = y_i]`.

    The predicted class :math:`\hat c_i` is :math:`[z_i > 0]` for a binary model (probability above ½) and
    :math:`\arg\max_k z_{ik}` for a multiclass one. Reference: ``sklearn.metrics.accuracy_score``.

    >>> model = logistic_regression()
    >>> params = {"w": np.array([1.0]), "b": np.array([0.0])}
    >>> accuracy(model, params, np.array([[-2.0], [1.0], [3.0]]), np.array([0, 1, 0]))
    0.6666666666666666
    """
    if model.task == "regression":
        raise ValueError(f"model {model.name!r} is a regression model: accuracy needs task 'binary' or "
                         "'multiclass'; measure regression with the loss instead.")
    z = model.predict(params, X)
    labels = z > 0 if model.task == "binary" else np.argmax(z, axis=1)
    y = np.asarray(y)
    if y.shape != labels.shape:
        raise ValueError(f"y has shape {y.shape} but the model predicts {labels.shape}: "
                         "pass one label per row of X.")
    return float(np.mean(labels == y))
