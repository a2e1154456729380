"""Specification of chapter 2's hand-written models: parity with autograd, gradient facts, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import scratch.regression as sr
import torch_ref.regression as tr
from parity_tests.data import boston

pytestmark = pytest.mark.ch2


def _data(n: int = 12, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    return X, X @ rng.standard_normal((features, 1)) + 0.5


MODELS: dict[str, Callable[[np.random.Generator], sr.Weights]] = {
    "linear": lambda rng: sr.init_linear_regression(4, rng),
    "two_layer": lambda rng: sr.init_two_layer(4, 3, rng),
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_gradients_are_means_over_the_batch(model: str) -> None:
    # The loss is a mean, so a batch repeated twice has the same loss and the same gradients:
    # a gradient missing its 1/N (book bug 7) would double.
    weights = MODELS[model](np.random.default_rng(1))
    X, y = _data()
    once = sr.gradients(sr.forward(X, y, weights)[1], weights)
    twice = sr.gradients(sr.forward(np.vstack([X, X]), np.vstack([y, y]), weights)[1], weights)
    for k in once:
        np.testing.assert_allclose(twice[k], once[k], rtol=1e-12, atol=1e-14)


def test_hidden_bias_gradient_has_one_entry_per_hidden_unit() -> None:
    weights = MODELS["two_layer"](np.random.default_rng(2))
    X, y = _data()
    grad_bias1 = sr.two_layer_gradients(sr.two_layer_forward(X, y, weights)[1], weights)["bias1"]
    assert grad_bias1.shape == (3,)
    assert len(np.unique(grad_bias1)) == 3  # book bug 7 gives every unit the same number


@pytest.mark.parametrize("model", sorted(MODELS))
def test_predict_gives_one_column_matching_the_forward_pass(model: str) -> None:
    weights = MODELS[model](np.random.default_rng(3))
    X, y = _data()
    P = sr.predict(X, weights)
    assert P.shape == (12, 1)
    np.testing.assert_allclose(np.mean((P - y) ** 2), sr.forward(X, y, weights)[0], rtol=1e-14)


def test_linear_regression_training_recovers_the_generating_weights() -> None:
    X, y = _data(n=60)
    true_w = np.linalg.lstsq(np.hstack([X, np.ones((60, 1))]), y, rcond=None)[0].ravel()
    weights = sr.init_linear_regression(4, np.random.default_rng(4))
    trained, losses = sr.train(X, y, weights, learning_rate=0.05, batch_size=10, iterations=600)
    np.testing.assert_allclose(trained["weight"].ravel(), true_w[:4], atol=1e-6)
    np.testing.assert_allclose(trained["bias"], true_w[4:], atol=1e-6)
    assert losses[-1] < 1e-10 < losses[0]


def test_train_reshuffles_each_epoch_and_keeps_the_partial_batch() -> None:
    X, y = _data(n=10)
    calls: list[int] = []

    def permutation(epoch: int, n: int) -> Any:
        calls.append(epoch)
        return np.arange(n)

    # batches of 4 over 10 rows: 4, 4, 2 per epoch; 7 steps reach the third epoch
    weights = MODELS["linear"](np.random.default_rng(5))
    _, losses = sr.train(X, y, weights, learning_rate=0.01, batch_size=4, iterations=7, permutation=permutation)
    assert calls == [0, 1, 2]
    assert len(losses) == 7


def test_train_leaves_the_given_weights_untouched() -> None:
    weights = MODELS["two_layer"](np.random.default_rng(6))
    before = {k: v.copy() for k, v in weights.items()}
    X, y = _data()
    sr.train(X, y, weights, learning_rate=0.1, batch_size=4, iterations=3)
    for k in weights:
        np.testing.assert_array_equal(weights[k], before[k])


# --- bad input -------------------------------------------------------------------------------

X_OK, Y_OK = _data()
W_OK = MODELS["linear"](np.random.default_rng(7))


#: Bad data, checked alike by both twins (same messages).
BAD_DATA = [
    ((X_OK.astype(np.int64), Y_OK, W_OK), TypeError, "X must have a floating dtype"),
    ((X_OK, np.full_like(Y_OK, np.nan), W_OK), ValueError, "y contains NaN"),
    ((X_OK, Y_OK[:5], W_OK), ValueError, r"y has shape \(5, 1\), expected \(12, 1\)"),
    ((X_OK, Y_OK.ravel(), W_OK), ValueError, r"y has shape \(12,\)"),
    ((X_OK[:0], Y_OK[:0], W_OK), ValueError, "empty batch"),
    ((X_OK, Y_OK, {"W": W_OK["weight"], "B": W_OK["bias"]}), ValueError, "expected \\['weight', 'bias'\\]"),
]


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [*BAD_DATA, ((X_OK[:, :3], Y_OK, W_OK), ValueError, r"weight has shape \(1, 4\), expected \(1, 3\)")],
)
def test_forward_rejects_bad_input_with_a_clear_message(args: tuple[Any, ...], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        sr.forward(*args)


@pytest.mark.parametrize(("args", "error", "match"), BAD_DATA)
@pytest.mark.parametrize("entry", ["forward", "train"])
def test_torch_twin_rejects_the_same_bad_input(entry: str, args: tuple[Any, ...], error: type, match: str) -> None:
    X, y = torch.tensor(args[0]), torch.tensor(args[1])
    weights = {k: torch.tensor(v) for k, v in args[2].items()}
    with pytest.raises(error, match=match):
        if entry == "forward":
            tr.forward(X, y, weights)
        else:
            tr.train(X, y, weights, learning_rate=0.01, batch_size=4, iterations=2)


def test_two_layer_forward_rejects_inconsistent_hidden_sizes() -> None:
    weights = {**MODELS["two_layer"](np.random.default_rng(8)), "weight2": np.ones((1, 5))}
    with pytest.raises(ValueError, match=r"weight2 has shape \(1, 5\), expected \(1, 3\)"):
        sr.two_layer_forward(X_OK, Y_OK, weights)


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"iterations": 2.5}, "iterations must be a positive integer"),
    ],
)
def test_train_rejects_bad_options(option: dict[str, Any], match: str) -> None:
    options: dict[str, Any] = {"learning_rate": 0.01, "batch_size": 4, "iterations": 3, **option}
    with pytest.raises(ValueError, match=match):
        sr.train(X_OK, Y_OK, W_OK, **options)


def test_torch_gradients_need_weights_that_require_grad() -> None:
    weights = {k: torch.tensor(v) for k, v in W_OK.items()}
    _, cache = tr.linear_regression_forward(torch.tensor(X_OK), torch.tensor(Y_OK), weights)
    with pytest.raises(ValueError, match="requires_grad=True"):
        tr.linear_regression_gradients(cache, weights)


# --- the chapter 2 experiment ----------------------------------------------------------------


def test_chapter2_experiment_trains_both_twins_to_the_same_weights() -> None:
    from parity_tests.train import get_experiment, run_experiment

    result = run_experiment(get_experiment("chapter2"), ["--quick"])
    assert result.rows and all(r["passed"] for r in result.rows)
    assert {r["target"] for r in result.rows} >= {"loss", "weight", "bias", "weight1", "bias1", "weight2", "bias2"}
    assert list(result.table["twin"]) == ["scratch", "torch", "scratch", "torch"]
    # a trained model beats predicting the training mean on the test set
    split = boston()
    baseline_mae = float(np.mean(np.abs(split.y_test - split.y_train.mean())))
    assert (result.table["test MAE"] < baseline_mae).all()
