"""Specification: ``dlfs-parity train autoencoder --quick`` trains both twins from the same weights,
passes its float64 gate and sets each twin's test MSE beside the book's 0.069."""

import pytest

from parity_tests.experiments.autoencoder import BOOK_TEST_MSE
from parity_tests.train import get_experiment, run_experiment

pytestmark = [pytest.mark.ch7, pytest.mark.slow]


def test_quick_autoencoder_experiment_passes_and_reports_the_books_mse() -> None:
    result = run_experiment(get_experiment("autoencoder"), ["--quick"])
    assert result.rows and all(r["passed"] for r in result.rows), [r for r in result.rows if not r["passed"]][:3]
    assert {r["target"] for r in result.rows} >= {
        "loss",
        "layers.0.encoder.conv1.weight",
        "layers.0.decoder.conv2.bias",
    }
    (row,) = result.table.to_dict("records")
    assert row["book test MSE"] == BOOK_TEST_MSE and row["steps"] == 8
    assert abs(row["scratch test MSE"] - row["torch test MSE"]) < 1e-12
    assert 0.0 < row["scratch test MSE"] < 1.0  # pixels in [-1, 1], tanh output: the squared error is bounded
    curve = result.curves["float64"]
    assert len(curve["scratch"]) == len(curve["torch"]) == 8 and curve["scratch"][-1] < curve["scratch"][0]
    assert "smaller training set than the book's" in result.text
