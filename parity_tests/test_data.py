"""Specification: the Boston housing data and the book's protocol (scale on all rows, 354 / 152 split)."""

from pathlib import Path

import numpy as np
import pytest

from parity_tests.data import DataError, boston, load_boston_raw, split_indices, standardize

pytestmark = pytest.mark.ch3


def test_boston_has_the_books_shapes() -> None:
    split = boston()
    assert split.X_train.shape == (354, 13) and split.X_test.shape == (152, 13)
    assert split.y_train.shape == (354, 1) and split.y_test.shape == (152, 1)


def test_boston_features_are_standardised_over_all_rows() -> None:
    split = boston()
    X = np.concatenate([split.X_train, split.X_test])
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)


def test_boston_targets_are_in_thousands_of_dollars() -> None:
    _, y = load_boston_raw()
    assert 5.0 <= y.min() and y.max() == 50.0  # the data set's known censoring at $50k


def test_split_matches_sklearn_train_test_split() -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = load_boston_raw()
    X = standardize(X)
    X_train, X_test, y_train, y_test = model_selection.train_test_split(X, y, test_size=0.3, random_state=80718)
    split = boston()
    np.testing.assert_array_equal(split.X_train, X_train)
    np.testing.assert_array_equal(split.X_test, X_test)
    np.testing.assert_array_equal(split.y_train[:, 0], y_train)
    np.testing.assert_array_equal(split.y_test[:, 0], y_test)


def test_standardize_leaves_a_constant_column_centred() -> None:
    X = np.column_stack([np.arange(4.0), np.full(4, 3.0)])
    np.testing.assert_array_equal(standardize(X)[:, 1], np.zeros(4))


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5])
def test_split_rejects_bad_test_size(test_size: float) -> None:
    with pytest.raises(ValueError, match="test_size"):
        split_indices(10, test_size, 0)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_boston_raw(tmp_path / "nope.csv")


def test_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    np.savetxt(short, np.ones((10, 14)), delimiter=",")
    with pytest.raises(DataError, match="shape"):
        load_boston_raw(short)
    text = tmp_path / "text.csv"
    text.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataError, match="numeric"):
        load_boston_raw(text)
