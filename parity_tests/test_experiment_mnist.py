"""Specification: ``dlfs-parity train mnist --quick`` trains all nine configurations in both twins,
passes its float64 gate and sets every accuracy beside the book's."""

import pytest

from parity_tests.cases.mnist import CONFIGS
from parity_tests.train import get_experiment, result_passed, run_experiment

pytestmark = [pytest.mark.ch4, pytest.mark.slow]


def test_quick_mnist_experiment_passes_and_reports_the_books_accuracies() -> None:
    result = run_experiment(get_experiment("mnist"), ["--quick"])
    assert result_passed(result), [r for r in result.rows if not r["passed"]][:3]
    assert list(result.table["book %"]) == [c.book_accuracy for c in CONFIGS]
    assert (result.table["scratch %"] > 10.0).all()  # better than chance after 3 epochs
    assert {r["target"] for r in result.rows} >= {"loss", "lr", "layers.0.weight"}
    assert "smaller than the book's 60,000" in result.text
