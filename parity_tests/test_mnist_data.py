"""Specification: MNIST loading (packaged 5k split, full MNIST from IDX/npz), the book's scaling,
and clear errors for missing or malformed files."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from parity_tests import data

pytestmark = pytest.mark.ch4


def _write_idx(path: Path, array: np.ndarray, magic: int, compress: bool = False) -> None:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def _fake_mnist(folder: Path, n_train: int = 12, n_test: int = 5, compress: bool = False) -> data.Digits:
    rng = np.random.default_rng(0)
    images = {k: rng.integers(0, 256, (n, 28, 28)) for k, n in (("X_train", n_train), ("X_test", n_test))}
    labels = {k: rng.integers(0, 10, n) for k, n in (("y_train", n_train), ("y_test", n_test))}
    suffix = ".gz" if compress else ""
    for key, arr in images.items():
        _write_idx(folder / (data.IDX_FILES[key] + suffix), arr, 2051, compress)
    for key, arr in labels.items():
        _write_idx(folder / (data.IDX_FILES[key] + suffix), arr, 2049, compress)
    return data.Digits(
        images["X_train"].reshape(n_train, -1).astype(float),
        labels["y_train"],
        images["X_test"].reshape(n_test, -1).astype(float),
        labels["y_test"],
    )


def test_packaged_split_is_stratified_4000_1000_and_fixed() -> None:
    digits = data.mnist_5k_split()
    assert digits.X_train.shape == (4000, 784) and digits.X_test.shape == (1000, 784)
    np.testing.assert_array_equal(np.bincount(digits.y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(digits.y_test), [100] * 10)
    again = data.mnist_5k_split()
    np.testing.assert_array_equal(again.X_test, digits.X_test)
    train_rows = {r.tobytes() for r in digits.X_train}
    assert not any(r.tobytes() in train_rows for r in digits.X_test)  # no test digit is also a training digit


def test_book_scaling_uses_training_statistics_and_one_hot_labels() -> None:
    digits = data.mnist_5k_split()
    split = data.mnist()
    m, s = digits.X_train.mean(), digits.X_train.std()
    np.testing.assert_allclose(split.X_test, (digits.X_test - m) / s, rtol=1e-14)
    assert abs(split.X_train.mean()) < 1e-12 and split.X_train.std() == pytest.approx(1.0, rel=1e-12)
    assert abs(split.X_test.mean()) > 1e-6  # the test set is not re-centred on its own mean
    np.testing.assert_array_equal(split.y_train.argmax(axis=1), digits.y_train)
    np.testing.assert_array_equal(split.y_train.sum(axis=1), np.ones(4000))


@pytest.mark.parametrize("compress", [False, True])
def test_full_mnist_reads_idx_files(tmp_path: Path, compress: bool) -> None:
    expected = _fake_mnist(tmp_path, compress=compress)
    digits = data.load_mnist_dir(tmp_path)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(digits, field), getattr(expected, field))
    split = data.mnist(tmp_path)
    assert split.X_train.shape == (12, 784) and split.y_test.shape == (5, 10)


def test_full_mnist_reads_a_keras_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x_train, x_test = rng.integers(0, 256, (7, 28, 28)), rng.integers(0, 256, (3, 28, 28))
    y_train, y_test = rng.integers(0, 10, 7), rng.integers(0, 10, 3)
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    digits = data.load_mnist_dir(tmp_path)
    np.testing.assert_array_equal(digits.X_test, x_test.reshape(3, 784))
    np.testing.assert_array_equal(digits.y_train, y_train)


def test_missing_folder_and_files_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_mnist_dir(tmp_path / "nowhere")
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte"):
        data.load_mnist_dir(tmp_path)
    _fake_mnist(tmp_path)
    (tmp_path / data.IDX_FILES["y_test"]).unlink()
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist_dir(tmp_path)


def test_malformed_idx_files_are_rejected(tmp_path: Path) -> None:
    _fake_mnist(tmp_path)
    labels = tmp_path / data.IDX_FILES["y_train"]
    raw = labels.read_bytes()
    labels.write_bytes(raw[:-3])  # truncated
    with pytest.raises(data.DataError, match="header says"):
        data.load_mnist_dir(tmp_path)
    labels.write_bytes((2051).to_bytes(4, "big") + raw[4:])  # an image magic number on a label file
    with pytest.raises(data.DataError, match="magic number 2049"):
        data.load_mnist_dir(tmp_path)
    _write_idx(labels, np.full(12, 11), 2049)  # label 11
    with pytest.raises(data.DataError, match=r"labels must be integers in 0\.\.9"):
        data.load_mnist_dir(tmp_path)


def test_malformed_packaged_csv_is_rejected(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    np.savetxt(short, np.zeros((3, 10)), delimiter=",")
    with pytest.raises(data.DataError, match="785"):
        data.load_mnist_5k(short)
    text = tmp_path / "text.csv"
    text.write_text("a,b,c\n")
    with pytest.raises(data.DataError, match="not a numeric"):
        data.load_mnist_5k(text)
    with pytest.raises(data.DataError, match="not found"):
        data.load_mnist_5k(tmp_path / "absent.csv.gz")


def test_data_dir_comes_from_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(data.MNIST_DIR_ENV, raising=False)
    assert data.mnist_data_dir(None) is None
    monkeypatch.setenv(data.MNIST_DIR_ENV, "/from/env")
    assert data.mnist_data_dir(None) == Path("/from/env")
    assert data.mnist_data_dir("/from/cli") == Path("/from/cli")


def test_a_prefix_of_the_packaged_split_holds_every_digit() -> None:
    small = data.subset(data.mnist(), 300, 100)  # the file itself is sorted by digit
    assert set(small.y_train.argmax(axis=1)) == set(range(10))
    assert set(small.y_test.argmax(axis=1)) == set(range(10))


def test_images_that_are_not_28x28_and_a_corrupt_npz_are_rejected(tmp_path: Path) -> None:
    _fake_mnist(tmp_path)
    _write_idx(tmp_path / data.IDX_FILES["X_train"], np.zeros((12, 27, 29), dtype=np.uint8), 2051)
    with pytest.raises(data.DataError, match="28x28, the header says 27x29"):
        data.load_mnist_dir(tmp_path)
    npz_dir = tmp_path / "npz"
    npz_dir.mkdir()
    (npz_dir / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(data.DataError, match=r"must be an \.npz"):
        data.load_mnist_dir(npz_dir)
    np.savez(
        npz_dir / "mnist.npz",
        x_train=np.zeros((2, 784)),
        y_train=np.zeros(2),
        x_test=np.zeros((2, 784)),
        y_test=np.zeros(2),
    )
    with pytest.raises(data.DataError, match=r"x_train must be \(N, 28, 28\) images"):
        data.load_mnist_dir(npz_dir)


def test_cli_reports_a_data_error_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dlfs_parity.cli import main

    assert main(["train", "mnist", "--quick", "--data-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "does not exist" in err and "Traceback" not in err
