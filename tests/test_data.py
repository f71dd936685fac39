"""Tests for descent.data: shapes, seeding, the structure of each synthetic set, mini-batches that cover an
epoch exactly once, standardisation, the shipped Palmer Penguins file and argument validation."""

from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent.data import (
    load_digits,
    load_penguins,
    make_blobs,
    make_line,
    make_moons,
    minibatch_gradients,
    minibatches,
    standardize,
    train_val_test_split,
)
from descent.models import linear_regression

FAST = settings(max_examples=30, deadline=None)

GENERATORS = {
    "line": (make_line, 1),
    "blobs": (make_blobs, 2),
    "blobs3": (lambda **kw: make_blobs(n_classes=3, **kw), 2),
    "moons": (make_moons, 2),
}


@pytest.mark.parametrize("name", GENERATORS)
@FAST
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_generators_return_n_rows_and_are_deterministic_under_a_seed(name, n, seed):
    generate, d = GENERATORS[name]
    X, y = generate(n=n, seed=seed)
    assert X.shape == (n, d) and y.shape == (n,)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
    X2, y2 = generate(n=n, seed=seed)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize("name", GENERATORS)
def test_different_seeds_give_different_data(name):
    generate, _ = GENERATORS[name]
    assert not np.array_equal(generate(n=20, seed=0)[0], generate(n=20, seed=1)[0])


def test_line_without_noise_lies_on_the_line_except_the_outliers():
    X, y = make_line(n=30, slope=-1.5, intercept=4.0, noise=0.0, outliers=3, outlier_shift=7.0, seed=2)
    residual = y - (-1.5 * X[:, 0] + 4.0)
    assert np.sum(np.isclose(residual, 7.0)) == 3
    assert np.sum(np.isclose(residual, 0.0)) == 27
    assert np.all((-2 <= X) & (X <= 2))


def test_line_noise_has_the_requested_spread():
    X, y = make_line(n=20000, slope=1.0, intercept=0.0, noise=0.5, seed=0)
    assert np.std(y - X[:, 0]) == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_blobs_are_balanced_and_centred_on_a_circle(n_classes):
    X, y = make_blobs(n=30 * n_classes * 100, n_classes=n_classes, distance=4.0, spread=0.5, seed=0)
    assert np.array_equal(np.bincount(y), np.full(n_classes, 3000))
    centres = np.array([X[y == k].mean(axis=0) for k in range(n_classes)])
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0, atol=0.05)
    assert np.std(X[y == 0] - centres[0]) == pytest.approx(0.5, rel=0.05)


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = make_moons(n=100, noise=0.0, seed=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
    assert np.all(X[y == 0, 1] >= 0) and np.all(X[y == 1, 1] <= 0.5)
    assert np.array_equal(np.bincount(y), [50, 50])


@FAST
@given(n=st.integers(1, 50), batch_size=st.integers(1, 60), seed=st.integers(0, 1000))
def test_minibatches_cover_every_sample_exactly_once(n, batch_size, seed):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    y = np.arange(n)
    batches = list(minibatches(X, y, batch_size, rng=seed))
    sizes = [len(y_b) for _, y_b in batches]
    assert len(batches) == -(-n // batch_size)
    assert all(size == batch_size for size in sizes[:-1]) and 1 <= sizes[-1] <= batch_size
    seen = np.concatenate([y_b for _, y_b in batches])
    np.testing.assert_array_equal(np.sort(seen), y)
    for X_b, y_b in batches:  # rows stay paired with their targets
        np.testing.assert_array_equal(X_b[:, 0], 2 * y_b)


def test_minibatches_shuffle_and_a_generator_gives_a_new_order_each_epoch():
    X, y = np.zeros((50, 1)), np.arange(50)
    order = [np.concatenate([y_b for _, y_b in minibatches(X, y, 10, rng=0)]) for _ in range(2)]
    np.testing.assert_array_equal(order[0], order[1])  # same integer seed, same order
    assert not np.array_equal(order[0], y)  # shuffled
    rng = np.random.default_rng(0)
    first, second = (next(y_b for _, y_b in minibatches(X, y, 50, rng)) for _ in range(2))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(("X", "y", "batch_size", "match"), [
    (np.zeros((4, 2)), np.zeros(3), 2, "same number n of rows"),
    (np.zeros((4, 2)), np.zeros(4), 0, "batch_size=0"),
    (np.zeros((4, 2)), np.zeros(4), 2.5, "batch_size=2.5"),
])
def test_minibatches_validate_eagerly(X, y, batch_size, match):
    with pytest.raises(ValueError, match=match):
        minibatches(X, y, batch_size, rng=0)  # raises on the call, before iteration


def test_standardize_gives_zero_mean_unit_std_and_keeps_its_input():
    X = np.random.default_rng(0).normal(loc=[5.0, -300.0, 2.0], scale=[0.1, 50.0, 0.0], size=(100, 3))
    before = X.copy()
    Z = standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), [1.0, 1.0, 0.0], atol=1e-12)  # the constant column becomes 0
    np.testing.assert_array_equal(X, before)


def test_penguins_are_the_measured_rows_of_the_shipped_csv():
    penguins = load_penguins()
    assert penguins.X.shape == (342, 4) and penguins.y.shape == (342,)
    assert penguins.feature_names == ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
    assert penguins.class_names == ("Adelie", "Chinstrap", "Gentoo")
    assert np.all(np.isfinite(penguins.X))
    # 152 Adelie, 68 Chinstrap, 124 Gentoo in the file; one Adelie and one Gentoo were not measured
    np.testing.assert_array_equal(np.bincount(penguins.y), [151, 68, 123])
    low, high = penguins.X.min(axis=0), penguins.X.max(axis=0)
    assert np.all(low > [30, 13, 170, 2500]) and np.all(high < [60, 22, 232, 6400])
    # Gentoo are the heaviest species on average
    masses = [penguins.X[penguins.y == k, 3].mean() for k in range(3)]
    assert np.argmax(masses) == 2


def test_penguins_ship_with_licence_and_readme_and_stay_small():
    folder = resources.files("descent").joinpath("datasets")
    assert len(folder.joinpath("penguins.csv").read_bytes()) < 100_000
    assert "CC0" in folder.joinpath("LICENSE").read_text(encoding="utf-8")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    assert "CC0" in readme and "10.1371/journal.pone.0090081" in readme


def test_digits_are_the_shipped_uci_file_unchanged():
    import hashlib

    raw = resources.files("descent").joinpath("datasets", "digits.csv.gz").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    assert len(raw) < 100_000  # compressed; the whole package stays well under 1 MiB


def test_digits_are_1797_balanced_8x8_images_of_ink_counts():
    digits = load_digits()
    assert digits.X.shape == (1797, 64) and digits.y.shape == (1797,)
    assert digits.X.dtype == float and np.issubdtype(digits.y.dtype, np.integer)
    np.testing.assert_array_equal(np.bincount(digits.y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    assert digits.class_names == tuple("0123456789")
    assert digits.feature_names[:2] == ("pixel_0_0", "pixel_0_1") and digits.feature_names[-1] == "pixel_7_7"
    assert set(np.unique(digits.X)) <= set(range(17))  # counts of ink dots in a 4 x 4 block: 0 to 16
    # the strokes are in the middle: the left and right columns are almost blank, the centre is not
    images = digits.X.reshape(-1, 8, 8)
    assert images[:, :, 0].mean() < 0.5 and images[:, :, 3:5].mean() > 5.0
    # the mean "1" has more ink in the centre column than the mean "0", whose centre is its hole
    assert images[digits.y == 1][:, 2:6, 3:5].mean() > 2 * images[digits.y == 0][:, 2:6, 3:5].mean()


def test_digits_ship_with_licence_citation_and_readme():
    folder = resources.files("descent").joinpath("datasets")
    licence = folder.joinpath("LICENSE").read_text(encoding="utf-8")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for text in (licence, readme):
        assert "CC BY 4.0" in text and "10.24432/C50P49" in text and "Alpaydin" in text
    assert "BSD 3-Clause" in licence and "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22" in readme


@FAST
@given(n=st.integers(3, 80), val=st.floats(0.0, 0.45), test=st.floats(0.0, 0.45), seed=st.integers(0, 2**32 - 1))
def test_split_puts_every_row_in_exactly_one_part_with_the_requested_sizes(n, val, test, seed):
    X, y = np.arange(2.0 * n).reshape(n, 2), np.arange(n)
    split = train_val_test_split(X, y, val_fraction=val, test_fraction=test, seed=seed)
    assert len(split.y_test) == round(n * test) and len(split.y_val) == round(n * val)
    assert len(split.y_train) == n - round(n * test) - round(n * val) >= 1
    rows = np.concatenate([split.y_train, split.y_val, split.y_test])
    np.testing.assert_array_equal(np.sort(rows), np.arange(n))
    for part_X, part_y in [(split.X_train, split.y_train), (split.X_val, split.y_val), (split.X_test, split.y_test)]:
        np.testing.assert_array_equal(part_X, X[part_y])  # features stay with their labels
    again = train_val_test_split(X, y, val_fraction=val, test_fraction=test, seed=seed)
    np.testing.assert_array_equal(again.y_val, split.y_val)


def test_split_is_shuffled_by_the_seed():
    X, y = np.zeros((100, 1)), np.arange(100)
    first, other = train_val_test_split(X, y, seed=0), train_val_test_split(X, y, seed=1)
    assert not np.array_equal(first.y_test, other.y_test)
    assert not np.array_equal(first.y_train, np.sort(first.y_train))


@pytest.mark.parametrize(("call", "name"), [
    (lambda: train_val_test_split(np.zeros((4, 1)), np.zeros(4), val_fraction=0.5, test_fraction=0.5),
     "val_fraction"),
    (lambda: train_val_test_split(np.zeros((4, 1)), np.zeros(4), test_fraction=1.0), "test_fraction"),
    (lambda: train_val_test_split(np.zeros((4, 1)), np.zeros(4), val_fraction=-0.1), "val_fraction"),
    (lambda: train_val_test_split(np.zeros((4, 1)), np.zeros(3)), "X"),
    (lambda: make_line(n=0), "n"),
    (lambda: make_line(noise=-1.0), "noise"),
    (lambda: make_line(n=5, outliers=6), "outliers"),
    (lambda: make_line(slope=np.inf), "slope"),
    (lambda: make_blobs(n_classes=1), "n_classes"),
    (lambda: make_blobs(spread=-0.1), "spread"),
    (lambda: make_moons(n=2.0), "n"),
    (lambda: make_moons(noise=np.nan), "noise"),
    (lambda: standardize(np.zeros(3)), "X"),
])
def test_bad_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


def test_minibatch_gradients_average_to_the_full_gradient_and_spread_like_one_over_root_b():
    X, y = make_line(n=240, seed=0)
    model = linear_regression()
    params = {"w": np.array([0.5]), "b": np.array([-0.5])}
    _, full = model.loss_and_grad(params, X, y)
    full = np.array([full["w"][0], full["b"][0]])
    spreads = {}
    for B in (1, 4, 16, 60):
        rows = minibatch_gradients(model, params, X, y, batch_size=B, epochs=50, seed=1)
        assert rows.shape == (50 * 240 // B, 2)
        np.testing.assert_allclose(rows.mean(axis=0), full, rtol=1e-9, atol=1e-12)  # equal batches: exact
        spreads[B] = rows.std(axis=0)[0]
    # without replacement: std(B) = std(1) * sqrt((n - B) / ((n - 1) B)), up to sampling error
    for B in (4, 16, 60):
        predicted = spreads[1] * np.sqrt((240 - B) / ((240 - 1) * B))
        assert spreads[B] == pytest.approx(predicted, rel=0.1)


def test_minibatch_gradients_is_seeded_and_uses_descents_batches():
    X, y = make_line(n=50, seed=2)
    params = linear_regression().init(1, seed=0)
    a = minibatch_gradients(linear_regression(), params, X, y, batch_size=7, seed=3)
    b = minibatch_gradients(linear_regression(), params, X, y, batch_size=7, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (8, 2)  # ceil(50 / 7) batches, the last one of 1 sample
