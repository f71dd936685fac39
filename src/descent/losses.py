r"""Loss functions and their gradients, defined as ``torch.nn.functional`` defines them.

Every loss takes a prediction :math:`\hat y` (``pred``) and a target :math:`y` (``target``) and returns
``(value, grad)``: the mean loss :math:`L` as a Python float and :math:`\partial L / \partial \hat y`, an
array of ``pred``'s shape. ``grad`` is exactly the gradient of the returned mean, so it is what
backpropagation hands to the layer that produced ``pred``. Inputs are never modified; the arithmetic is
float64.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge",
    "huber",
    "log_softmax",
    "mae",
    "mse",
    "sigmoid",
    "softmax",
]

_BCE_EPS = float(np.float32(1e-12))  # PyTorch's BCE backward clamps p(1 - p) at 1e-12 stored as a C float


def _pair(pred, target) -> tuple[np.ndarray, np.ndarray]:
    pred = _checks.finite_array("pred", pred)
    target = _checks.finite_array("target", target)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred has shape {pred.shape} but target has shape {target.shape}: "
            "pass one target per prediction, both arrays of the same shape."
        )
    if pred.size == 0:
        raise ValueError("pred is empty (size 0): pass at least one prediction and its target.")
    return pred, target


def _mean(losses: np.ndarray, grads: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean reduction: the average of the per-element losses, and per-element gradients divided by n."""
    return float(np.mean(losses)), np.asarray(grads / np.size(losses), dtype=float)


def _probabilities(name: str, x: np.ndarray, hint: str = "") -> None:
    if np.any((x < 0) | (x > 1)):
        message = f"{name} must hold probabilities in [0, 1], got values from {x.min():g} to {x.max():g}."
        raise ValueError(f"{message} {hint}".strip())


def _exp(x) -> np.ndarray:
    """:math:`e^x`, silently 0 where it underflows: the stable formulas below rely on far-off logits giving 0,
    and an underflow warning there would only be noise (NumPy ignores underflow by default; some harnesses warn)."""
    with np.errstate(under="ignore"):
        return np.exp(x)


def sigmoid(z) -> np.ndarray:
    r"""The logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})`, computed without overflow.

    For :math:`z < 0` it uses the equal form :math:`e^{z} / (1 + e^{z})`, so the exponential is always
    :math:`e^{-|z|} \le 1`. Reference: ``torch.sigmoid``.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    z = np.asarray(z, dtype=float)
    e = _exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def softmax(z, axis: int = -1) -> np.ndarray:
    r"""Turn scores into probabilities along ``axis``:
    :math:`\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}`.

    The row maximum is subtracted first (it cancels), so no exponential overflows.
    Reference: ``torch.nn.functional.softmax``.

    >>> softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    z = np.asarray(z, dtype=float)
    e = _exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    r"""The logarithm of :func:`softmax`, computed stably as
    :math:`z_k - m - \log \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`.

    Reference: ``torch.nn.functional.log_softmax``.

    >>> log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(_exp(shifted), axis=axis, keepdims=True))


def mse(pred, target) -> tuple[float, np.ndarray]:
    r"""Mean squared error.

    .. math:: L = \frac{1}{n} \sum_i (\hat y_i - y_i)^2, \qquad
              \frac{\partial L}{\partial \hat y_i} = \frac{2 (\hat y_i - y_i)}{n}

    Reference: ``torch.nn.functional.mse_loss`` (``torch.nn.MSELoss``, reduction ``"mean"``).

    A target of 100 and predictions 99, 90 and 50: the square punishes the big miss 2500 times harder.

    >>> [mse(p, 100.0)[0] for p in (99.0, 90.0, 50.0)]
    [1.0, 100.0, 2500.0]
    >>> mse(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    (5.0, array([1., 3.]))
    """
    pred, target = _pair(pred, target)
    d = pred - target
    return _mean(d**2, 2.0 * d)


def mae(pred, target) -> tuple[float, np.ndarray]:
    r"""Mean absolute error.

    .. math:: L = \frac{1}{n} \sum_i |\hat y_i - y_i|, \qquad
              \frac{\partial L}{\partial \hat y_i} = \frac{\operatorname{sign}(\hat y_i - y_i)}{n}

    At :math:`\hat y_i = y_i` the gradient is 0, as ``torch.sign`` gives there.
    Reference: ``torch.nn.functional.l1_loss`` (``torch.nn.L1Loss``).

    >>> mae(np.array([1.0, -3.0]), np.array([0.0, 0.0]))
    (2.0, array([ 0.5, -0.5]))
    """
    pred, target = _pair(pred, target)
    d = pred - target
    return _mean(np.abs(d), np.sign(d))


def huber(pred, target, delta: float = 1.0) -> tuple[float, np.ndarray]:
    r"""Huber loss: quadratic for small errors, linear for large ones, so outliers pull with bounded force.

    .. math:: \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\
                       \delta\,(|d_i| - \tfrac12 \delta) & \text{otherwise} \end{cases}, \qquad
              \frac{\partial L}{\partial \hat y_i} = \frac{\operatorname{clip}(d_i, -\delta, \delta)}{n},
              \qquad d_i = \hat y_i - y_i

    Reference: ``torch.nn.functional.huber_loss`` (``torch.nn.HuberLoss``); Huber (1964).

    >>> huber(np.array([0.5, 3.0]), np.array([0.0, 0.0]), delta=1.0)
    (1.3125, array([0.25, 0.5 ]))
    """
    delta = _checks.number("delta", delta, low=0.0, low_open=True, hint="Try delta=1.0.")
    pred, target = _pair(pred, target)
    d = pred - target
    small = np.abs(d) < delta
    loss = np.where(small, 0.5 * d**2, delta * (np.abs(d) - 0.5 * delta))
    return _mean(loss, np.clip(d, -delta, delta))


def binary_cross_entropy(pred, target) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of predicted probabilities :math:`p = \hat y`.

    .. math::

        L = -\frac{1}{n} \sum_i \big[ y_i \max(\ln p_i, -100) + (1 - y_i) \max(\ln(1 - p_i), -100) \big],

        \frac{\partial L}{\partial p_i} = \frac{p_i - y_i}{n \max(p_i (1 - p_i), 10^{-12})}

    The clamps at :math:`-100` keep :math:`p = 0` or :math:`1` finite, exactly as PyTorch does, and the
    gradient is PyTorch's backward formula. For raw scores use :func:`binary_cross_entropy_with_logits`,
    which is stable.
    Reference: ``torch.nn.functional.binary_cross_entropy`` (``torch.nn.BCELoss``).

    The loss is :math:`-\ln p` of the probability given to the true class: sure and right costs little,
    sure and wrong costs a lot.

    >>> [round(binary_cross_entropy(p, 1.0)[0], 2) for p in (0.99, 0.5, 0.01)]
    [0.01, 0.69, 4.61]
    """
    p, y = _pair(pred, target)
    _probabilities("pred", p, "For logits (raw scores) use binary_cross_entropy_with_logits.")
    _probabilities("target", y)
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_q = np.maximum(np.log1p(-p), -100.0)
    loss = -(y * log_p + (1.0 - y) * log_q)
    return _mean(loss, (p - y) / np.maximum(p * (1.0 - p), _BCE_EPS))


def binary_cross_entropy_with_logits(pred, target) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of :math:`\sigma(z)`, computed from the logits :math:`z = \hat y` stably.

    .. math:: L = \frac{1}{n} \sum_i \big[ \max(z_i, 0) - z_i y_i + \ln(1 + e^{-|z_i|}) \big], \qquad
              \frac{\partial L}{\partial z_i} = \frac{\sigma(z_i) - y_i}{n}

    The exponential only ever sees :math:`-|z_i| \le 0`, so logits of :math:`\pm 1000` are fine.
    Reference: ``torch.nn.functional.binary_cross_entropy_with_logits`` (``torch.nn.BCEWithLogitsLoss``).

    >>> binary_cross_entropy_with_logits(np.array([1000.0, 0.0]), np.array([0.0, 1.0]))
    (500.34657359027995, array([ 0.5 , -0.25]))
    """
    z, y = _pair(pred, target)
    _probabilities("target", y)
    loss = np.maximum(z, 0.0) - z * y + np.log1p(_exp(-np.abs(z)))
    return _mean(loss, sigmoid(z) - y)


def cross_entropy(pred, target) -> tuple[float, np.ndarray]:
    r"""Cross-entropy of the softmax of logits ``pred`` of shape ``(n, C)`` (or ``(C,)`` for one sample).

    ``target`` is either class indices, shape ``(n,)`` (or a scalar), or class probabilities such as one-hot
    rows, shape ``(n, C)``; both are turned into rows :math:`y_i`. With
    :math:`p_i = \operatorname{softmax}(z_i)`:

    .. math:: L = -\frac{1}{n} \sum_i \sum_k y_{ik} \ln p_{ik}, \qquad
              \frac{\partial L}{\partial z_{ik}} = \frac{p_{ik} \sum_j y_{ij} - y_{ik}}{n}

    which is :math:`(p_i - y_i)/n` when the rows of :math:`y` sum to 1. The log-softmax subtracts the row
    maximum, so logits of :math:`\pm 1000` are fine. The loss is averaged over samples, not classes.
    Reference: ``torch.nn.functional.cross_entropy`` (``torch.nn.CrossEntropyLoss``).

    With logits equal to log-probabilities, the loss is :math:`-\ln p` of the correct class:

    >>> logits = np.log([[0.99, 0.01], [0.5, 0.5], [0.01, 0.99]])
    >>> [round(cross_entropy(row, 0)[0], 2) for row in logits]
    [0.01, 0.69, 4.61]
    >>> cross_entropy(np.array([[0.0, 0.0]]), np.array([1]))
    (0.6931471805599453, array([[ 0.5, -0.5]]))
    """
    z = _checks.finite_array("pred", pred)
    if z.ndim not in (1, 2):
        raise ValueError(f"pred has shape {z.shape}: pass logits of shape (n, C), or (C,) for one sample.")
    if z.size == 0:
        raise ValueError(f"pred is empty (shape {z.shape}): pass at least one sample and one class.")
    t = _checks.finite_array("target", target)
    rows, t = (z, t) if z.ndim == 2 else (z[None], t[None])
    n, C = rows.shape
    if t.shape == (n,):
        if np.any(t != np.round(t)) or np.any((t < 0) | (t >= C)):
            raise ValueError(
                f"target holds class indices {np.unique(t)}: they must be integers in [0, {C - 1}] "
                f"for pred with C={C} classes."
            )
        y = np.eye(C)[t.astype(int)]
    elif t.shape == (n, C):
        _probabilities("target", t, "Class-probability targets are rows such as one-hot vectors.")
        y = t
    else:
        raise ValueError(
            f"target has shape {np.shape(target)} but pred has shape {z.shape}: target must be class indices "
            f"of shape {z.shape[:-1]} or class probabilities of shape {z.shape}."
        )
    log_p = log_softmax(rows)
    grad = (_exp(log_p) * y.sum(axis=1, keepdims=True) - y) / n
    return float(-np.sum(y * log_p) / n), grad.reshape(z.shape)


def hinge(pred, target) -> tuple[float, np.ndarray]:
    r"""Hinge loss of scores :math:`\hat y` against labels :math:`y \in \{-1, +1\}` (the loss of linear SVMs).

    .. math:: L = \frac{1}{n} \sum_i \max(0, 1 - y_i \hat y_i), \qquad
              \frac{\partial L}{\partial \hat y_i} = \begin{cases} -y_i / n & 1 - y_i \hat y_i > 0 \\
                                                      0 & \text{otherwise} \end{cases}

    At the kink :math:`y_i \hat y_i = 1` any value between :math:`-y_i/n` and 0 is a subgradient; this picks
    0, as PyTorch's ``relu`` backward does. Reference: ``sklearn.metrics.hinge_loss``; in PyTorch
    ``torch.relu(1 - target * pred).mean()``.

    >>> hinge(np.array([2.0, 0.5, -1.0]), np.array([1.0, 1.0, 1.0]))
    (0.8333333333333334, array([ 0.        , -0.33333333, -0.33333333]))
    """
    pred, target = _pair(pred, target)
    if not np.all(np.isin(target, (-1.0, 1.0))):
        raise ValueError(
            f"target must hold labels -1 or +1, got values {np.unique(target)}. "
            "Convert 0/1 labels with 2 * target - 1."
        )
    margin = 1.0 - target * pred
    active = margin > 0
    return _mean(np.where(active, margin, 0.0), np.where(active, -target, 0.0))
