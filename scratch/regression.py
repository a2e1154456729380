"""Chapter 2: linear regression and a two-layer network, written out by hand as functions.

Twin: ``torch_ref/regression.py`` (the same functions; there the gradients come from autograd).

Parameters live in a plain dict, under PyTorch names and layouts (``F.linear``: ``weight
(out, in)``, ``bias (out,)``) rather than the book's ``W (in, out)``, ``B (1, out)``:

- linear regression: ``weight (1, in)``, ``bias (1,)``;
- two-layer network: ``weight1 (hidden, in)``, ``bias1 (hidden,)``, ``weight2 (1, hidden)``,
  ``bias2 (1,)``.

The loss is the mean squared error over the batch, ``L = mean_n (P_n - y_n)^2`` (with one output
this is both PyTorch's ``MSELoss`` and the book's ``sum / N``). Its gradient is ``2 (P - y) / N``:
the book's own code drops the ``/ N`` and collapses the hidden bias gradient to a single number
(erratum 7 of the report's errata page); both are fixed here and planted as mutants.
"""

from __future__ import annotations

import numpy as np

from scratch._checks import Array, as_float_array, check_input, check_shape
from scratch.activations import stable_sigmoid
from scratch.trainer import Permutation, seeded_permutation

Weights = dict[str, Array]
Cache = dict[str, Array]

LINEAR_KEYS = ("weight", "bias")
TWO_LAYER_KEYS = ("weight1", "bias1", "weight2", "bias2")


def init_linear_regression(in_features: int, rng: np.random.Generator) -> Weights:
    """Standard normal ``weight (1, in)`` and ``bias (1,)``, as the book draws them."""
    return {"weight": rng.standard_normal((1, in_features)), "bias": rng.standard_normal(1)}


def init_two_layer(in_features: int, hidden: int, rng: np.random.Generator) -> Weights:
    """Standard normal ``weight1 (hidden, in)``, ``bias1 (hidden,)``, ``weight2 (1, hidden)``, ``bias2 (1,)``."""
    return {
        "weight1": rng.standard_normal((hidden, in_features)),
        "bias1": rng.standard_normal(hidden),
        "weight2": rng.standard_normal((1, hidden)),
        "bias2": rng.standard_normal(1),
    }


def model_of(weights: Weights) -> str:
    """``"linear"`` or ``"two_layer"``, from the keys of ``weights``; ``ValueError`` otherwise."""
    keys = tuple(sorted(weights))
    if keys == tuple(sorted(LINEAR_KEYS)):
        return "linear"
    if keys == tuple(sorted(TWO_LAYER_KEYS)):
        return "two_layer"
    raise ValueError(f"weights have keys {list(weights)}; expected {list(LINEAR_KEYS)} or {list(TWO_LAYER_KEYS)}")


def _check_weights(weights: Weights, in_features: int) -> Weights:
    """Each weight a finite float array of the layout in the module docstring."""
    w = {k: as_float_array(v, k) for k, v in weights.items()}
    if model_of(w) == "linear":
        expected = {"weight": (1, in_features), "bias": (1,)}
    else:
        check_shape(w["bias1"], ("hidden",), "bias1")  # (hidden,): the hidden size every other shape follows
        hidden = w["bias1"].shape[0]
        expected = {"weight1": (hidden, in_features), "bias1": (hidden,), "weight2": (1, hidden), "bias2": (1,)}
    for k, shape in expected.items():
        if w[k].shape != shape:
            raise ValueError(f"{k} has shape {w[k].shape}, expected {shape} for inputs of {in_features} features")
    return w


def _check_data(X: Array, y: Array) -> tuple[Array, Array]:
    X = check_input(X, ("N", "D"), "X")
    y = check_input(y, (X.shape[0], 1), "y")
    return X, y


def _mse(P: Array, y: Array) -> Array:
    return np.asarray(np.mean((P - y) ** 2))


def _linear(X: Array, w: Weights) -> Array:
    return X @ w["weight"].T + w["bias"]  # (N, in) @ (in, 1) + (1,) -> (N, 1)


def linear_regression_forward(X: Array, y: Array, weights: Weights) -> tuple[Array, Cache]:
    """``P = X weight^T + bias`` (N, 1); ``L = mean (P - y)^2``. Returns ``(L, cache)``."""
    X, y = _check_data(X, y)
    P = _linear(X, _check_weights(weights, X.shape[1]))
    return _mse(P, y), {"X": X, "y": y, "P": P}


def linear_regression_gradients(cache: Cache, weights: Weights) -> Weights:
    """Gradients of ``L`` from ``linear_regression_forward``'s cache.

    ``dP = 2 (P - y) / N`` (N, 1); ``grad_weight = dP^T X`` (1, in); ``grad_bias = sum_n dP`` (1,).
    """
    X, y, P = cache["X"], cache["y"], cache["P"]
    dP = 2.0 * (P - y) / X.shape[0]  # (N, 1); the 1/N of the mean
    return {"weight": dP.T @ X, "bias": dP.sum(axis=0)}


def _two_layer(X: Array, w: Weights) -> tuple[Array, Array]:
    O1 = stable_sigmoid(X @ w["weight1"].T + w["bias1"])  # (N, in) @ (in, hidden) -> (N, hidden)
    P = O1 @ w["weight2"].T + w["bias2"]  # (N, hidden) @ (hidden, 1) -> (N, 1)
    return O1, P


def two_layer_forward(X: Array, y: Array, weights: Weights) -> tuple[Array, Cache]:
    """``O1 = sigmoid(X weight1^T + bias1)`` (N, hidden); ``P = O1 weight2^T + bias2`` (N, 1);
    ``L = mean (P - y)^2``. Returns ``(L, cache)``."""
    X, y = _check_data(X, y)
    O1, P = _two_layer(X, _check_weights(weights, X.shape[1]))
    return _mse(P, y), {"X": X, "y": y, "O1": O1, "P": P}


def two_layer_gradients(cache: Cache, weights: Weights) -> Weights:
    """Gradients of ``L`` from ``two_layer_forward``'s cache, by the chain rule backwards.

    ``dP = 2 (P - y) / N`` (N, 1); ``grad_weight2 = dP^T O1`` (1, hidden); ``grad_bias2 = sum_n dP``;
    ``dO1 = dP weight2`` (N, hidden); ``dN1 = dO1 * O1 (1 - O1)``;
    ``grad_weight1 = dN1^T X`` (hidden, in); ``grad_bias1 = sum_n dN1`` (hidden,): one entry per unit.
    """
    X, y, O1, P = cache["X"], cache["y"], cache["O1"], cache["P"]
    dP = 2.0 * (P - y) / X.shape[0]  # (N, 1)
    dO1 = dP @ weights["weight2"]  # (N, 1) @ (1, hidden) -> (N, hidden)
    dN1 = dO1 * O1 * (1.0 - O1)  # sigmoid's derivative from its cached output
    return {
        "weight1": dN1.T @ X,  # (hidden, N) @ (N, in) -> (hidden, in)
        "bias1": dN1.sum(axis=0),  # (hidden,)
        "weight2": dP.T @ O1,  # (1, N) @ (N, hidden) -> (1, hidden)
        "bias2": dP.sum(axis=0),  # (1,)
    }


def forward(X: Array, y: Array, weights: Weights) -> tuple[Array, Cache]:
    """The forward pass of whichever model ``weights`` describe (see ``model_of``)."""
    if model_of(weights) == "linear":
        return linear_regression_forward(X, y, weights)
    return two_layer_forward(X, y, weights)


def gradients(cache: Cache, weights: Weights) -> Weights:
    """The gradients of whichever model ``weights`` describe."""
    if model_of(weights) == "linear":
        return linear_regression_gradients(cache, weights)
    return two_layer_gradients(cache, weights)


def predict(X: Array, weights: Weights) -> Array:
    """Predictions ``P`` (N, 1) of the model ``weights`` describe."""
    X = check_input(X, ("N", "D"), "X")
    w = _check_weights(weights, X.shape[1])
    return _linear(X, w) if model_of(w) == "linear" else _two_layer(X, w)[1]


def train(
    X: Array,
    y: Array,
    weights: Weights,
    *,
    learning_rate: float,
    batch_size: int,
    iterations: int,
    permutation: Permutation | None = None,
) -> tuple[Weights, list[float]]:
    """Plain SGD, the book's chapter 2 loop: returns the trained weights (a copy) and every step's loss.

    The rows are shuffled by ``permutation(epoch, N)`` (default ``seeded_permutation(1)``) and
    walked in batches of ``batch_size`` (the last one of an epoch may be smaller); when they run
    out, the next epoch reshuffles. Each of the ``iterations`` steps does ``p -= lr * dL/dp``.
    """
    X, y = _check_data(X, y)
    for name, value in (("batch_size", batch_size), ("iterations", iterations)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be positive and finite, got {learning_rate}")
    order = seeded_permutation(1) if permutation is None else permutation
    w = {k: v.copy() for k, v in _check_weights(weights, X.shape[1]).items()}
    n, epoch, start = X.shape[0], 0, 0
    rows = order(epoch, n)
    losses: list[float] = []
    for _ in range(iterations):
        if start >= n:  # the epoch is used up: reshuffle
            epoch, start = epoch + 1, 0
            rows = order(epoch, n)
        batch = rows[start : start + batch_size]
        start += batch_size
        loss, cache = forward(X[batch], y[batch], w)
        for k, g in gradients(cache, w).items():
            w[k] = w[k] - learning_rate * g
        losses.append(float(loss))
    return w, losses
