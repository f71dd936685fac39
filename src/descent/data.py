r"""Small data sets for the course: seeded synthetic ones, one real one, mini-batches and the gradients
measured on them, and a seeded train / validation / test split.

Every generator takes a ``seed`` and draws from ``np.random.default_rng(seed)``, so the same call always
returns the same numbers, and returns ``(X, y)`` with ``X`` of shape ``(n, d)`` and ``y`` of shape ``(n,)``:
real targets for regression, integer class labels ``0 … K-1`` for classification. Two real sets ship with
the package (see ``descent/datasets/README.md``): :func:`load_penguins` reads the Palmer Penguins measurements
(CC0), :func:`load_digits` the UCI optical handwritten digits (CC BY 4.0).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from . import _checks

if TYPE_CHECKING:
    from .models import Model


def _real(name: str, value, low: float = -np.inf) -> float:
    """A finite real number >= ``low``."""
    return _checks.number(name, value, low=low, high=np.inf, low_open=low == -np.inf, high_open=True)


def make_line(n: int = 50, slope: float = 2.0, intercept: float = 1.0, noise: float = 0.5, outliers: int = 0,
              outlier_shift: float = 10.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Points scattered around a line, for 1-D linear regression:

    .. math:: x_i \sim \mathcal U(-2, 2), \qquad
              y_i = \text{slope}\cdot x_i + \text{intercept} + \varepsilon_i, \qquad
              \varepsilon_i \sim \mathcal N(0, \text{noise}^2)

    ``outliers`` randomly chosen points are then lifted by ``outlier_shift``: a squared loss bends the fitted
    line towards them, a robust loss (MAE, Huber) hardly moves. Returns ``X`` of shape ``(n, 1)`` and ``y`` of
    shape ``(n,)``. Reference: the classic set-up of least squares, e.g. Hastie, Tibshirani & Friedman, *The
    Elements of Statistical Learning* (2009), §3.2.

    >>> X, y = make_line(n=4, noise=0.0, seed=0)
    >>> X.shape, np.allclose(y, 2 * X[:, 0] + 1)
    ((4, 1), True)
    """
    n = _checks.integer("n", n, low=1)
    outliers = _checks.integer("outliers", outliers, low=0)
    if outliers > n:
        raise ValueError(f"outliers={outliers} is invalid: outliers must be in [0, n={n}].")
    slope, intercept, shift = _real("slope", slope), _real("intercept", intercept), _real("outlier_shift",
                                                                                            outlier_shift)
    noise = _real("noise", noise, low=0.0)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=n)
    y = slope * x + intercept + noise * rng.standard_normal(n)
    y[rng.choice(n, size=outliers, replace=False)] += shift
    return x[:, None], y


def make_blobs(n: int = 100, n_classes: int = 2, distance: float = 4.0, spread: float = 1.0,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Gaussian clouds in the plane, one per class, with centres evenly spaced on a circle:

    .. math:: x_i \sim \mathcal N\big(c_{y_i}, \text{spread}^2 I\big), \qquad
              c_k = \tfrac{\text{distance}}{2} \big(\cos\tfrac{2\pi k}{K}, \sin\tfrac{2\pi k}{K}\big)

    Two classes sit ``distance`` apart (far apart blobs are linearly separable: logistic regression's case);
    three or more are the softmax regression case. Labels cycle ``0, 1, …, K-1, 0, …`` so the classes are
    balanced and mixed. Reference: ``sklearn.datasets.make_blobs``.

    >>> X, y = make_blobs(n=6, n_classes=3, seed=0)
    >>> X.shape, y
    ((6, 2), array([0, 1, 2, 0, 1, 2]))
    """
    n = _checks.integer("n", n, low=1)
    n_classes = _checks.integer("n_classes", n_classes, low=2)
    distance, spread = _real("distance", distance, low=0.0), _real("spread", spread, low=0.0)
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = distance / 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.arange(n) % n_classes
    return centres[y] + spread * rng.standard_normal((n, 2)), y


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles, a set no straight line separates (the MLP's case):

    .. math:: \text{class 0: } (\cos t, \sin t), \qquad \text{class 1: } (1 - \cos t,\ \tfrac12 - \sin t),
              \qquad t \sim \mathcal U(0, \pi)

    plus Gaussian noise of standard deviation ``noise`` on both coordinates. Labels alternate ``0, 1, 0, …``.
    Reference: ``sklearn.datasets.make_moons``.

    >>> X, y = make_moons(n=4, noise=0.0, seed=0)
    >>> X.shape, y, np.allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    ((4, 2), array([0, 1, 0, 1]), True)
    """
    n = _checks.integer("n", n, low=1)
    noise = _real("noise", noise, low=0.0)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, size=n)
    X = np.where(y[:, None] == 0,
                 np.stack([np.cos(t), np.sin(t)], axis=1),
                 np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1))
    return X + noise * rng.standard_normal((n, 2)), y


def minibatches(X, y, batch_size: int, rng) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    r"""One epoch of shuffled mini-batches ``(X_b, y_b)``, an iterator that visits every sample exactly once.

    The rows are permuted, then cut into :math:`\lceil n / B \rceil` consecutive batches of ``batch_size``
    :math:`B` rows; the last batch is smaller when :math:`B` does not divide :math:`n` (PyTorch's
    ``DataLoader`` with ``shuffle=True, drop_last=False``). ``rng`` is a ``np.random.Generator``, which is
    advanced (so the next epoch gets a new order), or an integer seed.
    Reference: ``torch.utils.data.DataLoader``.

    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [len(yb) for _, yb in minibatches(X, y, batch_size=2, rng=0)]
    [2, 2, 1]
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"X has shape {X.shape} and y has shape {y.shape}: pass X of shape (n, d) and y with the same "
            "number n of rows."
        )
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    order = np.random.default_rng(rng).permutation(len(X))
    return ((X[rows], y[rows]) for rows in np.split(order, range(batch_size, len(X), batch_size)))


def minibatch_gradients(model: Model, params, X, y, batch_size: int, epochs: int = 1, seed: int = 0) -> np.ndarray:
    r"""The gradient of ``model``'s loss at the fixed ``params`` on every mini-batch of
    :func:`descent.data.minibatches` over ``epochs`` shuffled passes, as rows: an array of shape
    ``(epochs * ceil(n / B), p)``, each row the gradient's leaves flattened in the order of ``params``' keys.

    Each row estimates the full-batch gradient :math:`\nabla L(\theta) = \frac1n\sum_i \nabla \ell_i(\theta)`;
    averaged over an epoch, batches of equal size give it exactly, and the spread of a row around it shrinks
    like :math:`1/\sqrt{B}` (with a factor :math:`\sqrt{(n-B)/(n-1)}`, because batches are drawn without
    replacement). Reference: Bottou, Curtis & Nocedal, *Optimization Methods for Large-Scale Machine Learning*,
    SIAM Review (2018), §3.

    >>> from descent.models import linear_regression
    >>> X, y = make_line(n=100, seed=0)
    >>> params = {"w": np.array([0.0]), "b": np.array([0.0])}
    >>> minibatch_gradients(linear_regression(), params, X, y, batch_size=25).shape
    (4, 2)
    """
    epochs = _checks.integer("epochs", epochs, low=1)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(epochs):
        for X_b, y_b in minibatches(X, y, batch_size, rng):
            _, grads = model.loss_and_grad(params, X_b, y_b)
            rows.append(np.concatenate([np.ravel(grads[key]) for key in params]))
    return np.array(rows)


def standardize(X) -> np.ndarray:
    r"""Rescale every column to mean 0 and standard deviation 1: :math:`x_{ij} \leftarrow (x_{ij} - \bar x_j)
    / s_j`.

    Features on very different scales (grams next to millimetres) make the loss an ill-conditioned valley;
    standardising makes it rounder, so one learning rate suits every weight. Constant columns become 0.
    Reference: LeCun, Bottou, Orr & Müller (1998), *Efficient BackProp*, §4.3;
    ``sklearn.preprocessing.StandardScaler``.

    >>> standardize(np.array([[1.0, 100.0], [3.0, 300.0]]))
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    X = _checks.finite_array("X", X)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X has shape {X.shape}: pass a non-empty 2-D array of shape (n, d).")
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


class Dataset(NamedTuple):
    """A real data set: features ``X`` (n, d), integer labels ``y`` (n,), and the names of both."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


PENGUIN_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
PENGUIN_SPECIES = ("Adelie", "Chinstrap", "Gentoo")


def load_penguins() -> Dataset:
    r"""The Palmer Penguins: four measurements of 342 penguins and their species (Adelie 0, Chinstrap 1,
    Gentoo 2).

    Features, in order: bill length (mm), bill depth (mm), flipper length (mm), body mass (g) — unscaled; see
    :func:`standardize`. Of the 344 rows of the shipped ``penguins.csv``, the two with missing measurements
    are dropped. Data: CC0, Palmer Station LTER. Reference: Gorman, Williams & Fraser (2014), PLoS ONE 9(3):
    e90081, https://doi.org/10.1371/journal.pone.0090081; Horst, Hill & Gorman (2020), palmerpenguins.

    >>> penguins = load_penguins()
    >>> penguins.X.shape, np.bincount(penguins.y), penguins.class_names
    ((342, 4), array([151, 68, 123]), ('Adelie', 'Chinstrap', 'Gentoo'))
    """
    text = (resources.files("descent") / "datasets" / "penguins.csv").read_text(encoding="utf-8")
    rows = [row for row in csv.DictReader(text.splitlines())
            if all(row[name] != "NA" for name in PENGUIN_FEATURES)]
    X = np.array([[float(row[name]) for name in PENGUIN_FEATURES] for row in rows])
    y = np.array([PENGUIN_SPECIES.index(row["species"]) for row in rows])
    return Dataset(X, y, PENGUIN_FEATURES, PENGUIN_SPECIES)


DIGITS_SHAPE = (8, 8)


def load_digits() -> Dataset:
    r"""The UCI optical handwritten digits: 1797 images of 8 x 8 pixels and the digit each shows (0 to 9).

    Each row of ``X`` is one image read row by row (feature ``pixel_r_c`` is row ``r``, column ``c``;
    ``X[i].reshape(8, 8)`` is the picture), each pixel the number of ink dots, 0 to 16, in a 4 x 4 block of a
    32 x 32 bitmap. The ten classes are nearly balanced (174 to 183 images). Unscaled: divide by 16 for
    pixels in [0, 1]. Data: E. Alpaydin and C. Kaynak (1998), *Optical Recognition of Handwritten Digits*, UCI
    Machine Learning Repository, https://doi.org/10.24432/C50P49, licensed CC BY 4.0 (the test part of the
    UCI set, as shipped by scikit-learn's ``load_digits``).

    >>> digits = load_digits()
    >>> digits.X.shape, float(digits.X.min()), float(digits.X.max()), digits.class_names[:3]
    ((1797, 64), 0.0, 16.0, ('0', '1', '2'))
    >>> digits.X[0].reshape(8, 8)[1].astype(int)  # the second row of pixels of the first image, a 0
    array([ 0,  0, 13, 15, 10, 15,  5,  0])
    """
    with (resources.files("descent") / "datasets" / "digits.csv.gz").open("rb") as handle:
        table = np.loadtxt(gzip.open(handle, "rt"), delimiter=",")
    rows, columns = DIGITS_SHAPE
    names = tuple(f"pixel_{r}_{c}" for r in range(rows) for c in range(columns))
    return Dataset(table[:, :-1], table[:, -1].astype(int), names, tuple(str(k) for k in range(10)))


class Split(NamedTuple):
    """A data set cut in three: ``X_train``, ``y_train`` to fit the parameters, ``X_val``, ``y_val`` to choose
    everything else (learning rate, epochs, ...) and ``X_test``, ``y_test`` to measure the final model once."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def train_val_test_split(X, y, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Split:
    r"""Shuffle the rows with ``seed`` and cut them into a training, a validation and a test set.

    The test set gets :math:`\operatorname{round}(n\cdot\text{test\_fraction})` rows, the validation set
    :math:`\operatorname{round}(n\cdot\text{val\_fraction})`, the training set the rest; every row lands in
    exactly one of them. Each part keeps the shuffled order. Reference: Hastie, Tibshirani & Friedman, *The
    Elements of Statistical Learning* (2009), §7.2 (training, validation and test sets);
    ``sklearn.model_selection.train_test_split`` applied twice.

    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    >>> split = train_val_test_split(X, y, seed=0)
    >>> len(split.y_train), len(split.y_val), len(split.y_test)
    (6, 2, 2)
    >>> sorted(np.concatenate([split.y_train, split.y_val, split.y_test]).tolist()) == list(range(10))
    True
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(f"X has shape {X.shape} and y has shape {y.shape}: pass X of shape (n, d) and y of "
                         "shape (n,).")
    val_fraction = _checks.number("val_fraction", val_fraction, low=0.0, high=1.0, high_open=True)
    test_fraction = _checks.number("test_fraction", test_fraction, low=0.0, high=1.0, high_open=True)
    n = len(X)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    if n - n_test - n_val < 1:
        raise ValueError(f"val_fraction={val_fraction} and test_fraction={test_fraction} leave no training rows "
                         f"of n={n}: their sum must leave at least one row for training.")
    order = np.random.default_rng(seed).permutation(n)
    test, val, train = np.split(order, [n_test, n_test + n_val])
    return Split(X[train], y[train], X[val], y[val], X[test], y[test])
