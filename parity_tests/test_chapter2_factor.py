"""Chapter 2: the book's hand-written gradients are N (linear) and N/2 (two-layer) times the true ones.

The book's backward passes are re-enacted here in the book's own layout (``W (in, out)``,
``B (1, out)``) from their published formulas, independently of ``scratch/regression.py``, and
set against our true gradients, the planted bugs and the experiment's equivalent learning rate.
"""

from __future__ import annotations

import numpy as np
import pytest

import scratch.regression as sr
from parity_tests.experiments.chapter2 import equivalent_learning_rate
from parity_tests.mutants.regression import (
    book_gradient_factor,
    linear_gradients_not_divided_by_batch,
    two_layer_gradients_not_divided_by_batch,
)

pytestmark = pytest.mark.ch2

N, D, HIDDEN = 23, 5, 4


def _data() -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(7)
    return rng.standard_normal((N, D)), rng.standard_normal((N, 1)), rng


def _book_linear_gradients(X: np.ndarray, y: np.ndarray, W: np.ndarray, B: np.ndarray) -> dict[str, np.ndarray]:
    """The book's chapter 2 linear regression backward: ``dL/dP = -2 (y - P)``, summed over rows."""
    P = X @ W + B
    dP = -2.0 * (y - P)  # (N, 1), no 1/N
    return {"W": X.T @ dP, "B": dP.sum(axis=0, keepdims=True)}


def _book_two_layer_gradients(X: np.ndarray, y: np.ndarray, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The book's two-layer backward: ``dL/dP = -(y - P)`` (no 2, no 1/N); per-unit hidden bias."""
    O1 = 1.0 / (1.0 + np.exp(-(X @ w["W1"] + w["B1"])))
    P = O1 @ w["W2"] + w["B2"]
    dP = -(y - P)  # (N, 1)
    dN1 = (dP @ w["W2"].T) * O1 * (1.0 - O1)  # (N, hidden)
    return {"W1": X.T @ dN1, "B1": dN1.sum(axis=0, keepdims=True), "W2": O1.T @ dP, "B2": dP.sum(axis=0, keepdims=True)}


def test_linear_book_gradients_are_n_times_the_true_ones() -> None:
    X, y, rng = _data()
    ours = sr.init_linear_regression(D, rng)
    _, cache = sr.linear_regression_forward(X, y, ours)
    true = sr.linear_regression_gradients(cache, ours)
    book = _book_linear_gradients(X, y, ours["weight"].T, ours["bias"][None])
    np.testing.assert_allclose(book["W"].T, N * true["weight"], rtol=1e-12)
    np.testing.assert_allclose(book["B"][0], N * true["bias"], rtol=1e-12)
    planted = linear_gradients_not_divided_by_batch(cache, ours)
    np.testing.assert_allclose(planted["weight"], book["W"].T, rtol=1e-12)


def test_two_layer_book_gradients_are_n_over_2_times_the_true_ones() -> None:
    X, y, rng = _data()
    ours = sr.init_two_layer(D, HIDDEN, rng)
    _, cache = sr.two_layer_forward(X, y, ours)
    true = sr.two_layer_gradients(cache, ours)
    book_w = {"W1": ours["weight1"].T, "B1": ours["bias1"][None], "W2": ours["weight2"].T, "B2": ours["bias2"][None]}
    book = _book_two_layer_gradients(X, y, book_w)
    for ours_key, book_key in (("weight1", "W1"), ("weight2", "W2")):
        np.testing.assert_allclose(book[book_key].T, N / 2 * true[ours_key], rtol=1e-12)
    for ours_key, book_key in (("bias1", "B1"), ("bias2", "B2")):
        np.testing.assert_allclose(book[book_key][0], N / 2 * true[ours_key], rtol=1e-12)
    planted = two_layer_gradients_not_divided_by_batch(cache, ours)
    np.testing.assert_allclose(planted["weight1"], book["W1"].T, rtol=1e-12)
    np.testing.assert_allclose(planted["bias2"], book["B2"][0], rtol=1e-12)


def test_equivalent_learning_rate_takes_the_books_step() -> None:
    assert equivalent_learning_rate("linear", 0.001, 23) == pytest.approx(0.023, rel=1e-15)
    assert equivalent_learning_rate("two_layer", 0.001, 23) == pytest.approx(0.0115, rel=1e-15)
    X, y, rng = _data()
    ours = sr.init_two_layer(D, HIDDEN, rng)
    _, cache = sr.two_layer_forward(X, y, ours)
    true = sr.two_layer_gradients(cache, ours)
    book = _book_two_layer_gradients(
        X, y, {"W1": ours["weight1"].T, "B1": ours["bias1"][None], "W2": ours["weight2"].T, "B2": ours["bias2"][None]}
    )
    lr = equivalent_learning_rate("two_layer", 0.001, N)
    np.testing.assert_allclose(
        ours["weight1"] - lr * true["weight1"], ours["weight1"] - 0.001 * book["W1"].T, rtol=1e-13
    )


def test_book_gradient_factor_rejects_unknown_models() -> None:
    with pytest.raises(ValueError, match="unknown chapter 2 model 'mlp'"):
        book_gradient_factor("mlp", 23)


def test_chapter2_experiment_trains_each_model_at_its_equivalent_rate() -> None:
    from parity_tests.train import get_experiment, run_experiment

    result = run_experiment(get_experiment("chapter2"), ["--quick"])
    rates = dict(zip(result.table["model"], result.table["learning rate"], strict=False))
    assert rates == {"linear regression": pytest.approx(0.023), "two-layer net (13 sigmoid)": pytest.approx(0.0115)}
    assert "N/2 for the two-layer net" in result.text
    ours = run_experiment(get_experiment("chapter2"), ["--quick", "--learning-rate", "0.01"])
    assert set(ours.table["learning rate"]) == {0.01}
