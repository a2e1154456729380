"""Specification: ``dlfs-parity train boston --quick`` trains all three models in both twins, in parity."""

import pytest

from parity_tests.experiments.boston import BOOK_FIGURES
from parity_tests.train import get_experiment, result_passed, run_experiment

pytestmark = pytest.mark.ch3


def test_boston_quick_run_reports_every_model_beside_the_book_and_passes_parity() -> None:
    result = run_experiment(get_experiment("boston"), ["--quick", "--seeds", "0"])
    assert list(result.table["model"]) == list(BOOK_FIGURES)
    assert result_passed(result) and result.rows
    assert {r["dtype"] for r in result.rows} == {"float64", "float32"}
    for label, curve in result.curves.items():
        assert len(curve["scratch"]) == len(curve["torch"]) > 0, label
    # a trained model beats predicting the training mean (test RMSE about 9) by a wide margin
    assert (result.table["scratch RMSE"] < 7.0).all() and (result.table["torch RMSE"] < 7.0).all()
