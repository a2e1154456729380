"""Book mode: the book's own initial weights and batch order reproduce its printed chapter 3 figures."""

from __future__ import annotations

import numpy as np
import pytest

from parity_tests.book_mode import book_dense_state
from parity_tests.cases.trainer import BOSTON_MODELS, boston_data, boston_pair
from parity_tests.lockstep import drain

pytestmark = pytest.mark.ch3

#: Test MAE / RMSE printed in the book's chapter 3 notebook (seed 20190501, 50 epochs, SGD 0.01).
BOOK = {"linear": (3.52, 5.01), "sigmoid_13": (2.60, 4.03), "sigmoid_13_13": (2.45, 3.83)}


@pytest.mark.parametrize("model", BOOK)
def test_book_mode_reproduces_the_books_chapter3_figures(model: str) -> None:
    pair = boston_pair(BOSTON_MODELS[model], np.random.default_rng(0), early_stopping=True, book_seed=20190501)
    drain(pair.scratch_run("float64", "cpu"))
    d = boston_data()
    error = pair.scratch_net.eval().forward(d.X_test) - d.y_test
    mae, rmse = float(np.abs(error).mean()), float(np.sqrt((error**2).mean()))
    assert (round(mae, 2), round(rmse, 2)) == BOOK[model]


def test_every_book_layer_reseeds_so_equal_shapes_start_identical() -> None:
    state = book_dense_state([(13, 13), (13, 13), (13, 1)], seed=7)
    np.testing.assert_array_equal(state["layers.0.weight"], state["layers.1.weight"])
    assert state["layers.2.weight"].shape == (1, 13) and state["layers.2.bias"].shape == (1,)
    first = np.random.RandomState(7).normal(size=(13, 1))  # W (in, out): our weight is its transpose
    np.testing.assert_array_equal(state["layers.2.weight"], first.T)


def test_book_init_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown book init"):
        book_dense_state([(2, 1)], seed=1, init="xavier")
    with pytest.raises(ValueError, match="positive int"):
        book_dense_state([(2, 1)], seed=0)
