"""Chapter 2: linear regression and a two-layer network, as functions of a weights dict.

Twin: ``scratch/regression.py``. Same names, same dict keys and layouts (``F.linear``'s
``weight (out, in)``, ``bias (out,)``); the forward passes are ``F.linear``, ``torch.sigmoid`` and
``F.mse_loss``, every gradient comes from autograd and ``train`` steps ``torch.optim.SGD``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

#: ``(epoch, n) -> row order`` of an epoch; a harness hands both twins the same one.
Permutation = Callable[[int, int], Any]

Weights = dict[str, torch.Tensor]
Cache = dict[str, torch.Tensor]

LINEAR_KEYS = ("weight", "bias")
TWO_LAYER_KEYS = ("weight1", "bias1", "weight2", "bias2")


def init_linear_regression(in_features: int, generator: torch.Generator | None = None) -> Weights:
    """Standard normal ``weight (1, in)`` and ``bias (1,)``."""
    return {
        "weight": torch.randn(1, in_features, generator=generator, dtype=torch.float64),
        "bias": torch.randn(1, generator=generator, dtype=torch.float64),
    }


def init_two_layer(in_features: int, hidden: int, generator: torch.Generator | None = None) -> Weights:
    """Standard normal ``weight1 (hidden, in)``, ``bias1 (hidden,)``, ``weight2 (1, hidden)``, ``bias2 (1,)``."""
    shapes = {"weight1": (hidden, in_features), "bias1": (hidden,), "weight2": (1, hidden), "bias2": (1,)}
    return {k: torch.randn(*s, generator=generator, dtype=torch.float64) for k, s in shapes.items()}


def model_of(weights: Weights) -> str:
    """``"linear"`` or ``"two_layer"``, from the keys of ``weights``; ``ValueError`` otherwise."""
    keys = tuple(sorted(weights))
    if keys == tuple(sorted(LINEAR_KEYS)):
        return "linear"
    if keys == tuple(sorted(TWO_LAYER_KEYS)):
        return "two_layer"
    raise ValueError(f"weights have keys {list(weights)}; expected {list(LINEAR_KEYS)} or {list(TWO_LAYER_KEYS)}")


def _check_tensor(t: object, expected: tuple[int | None, ...], name: str) -> None:
    """The scratch twin's checks (``scratch/_checks.py``), with the same messages."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype (float32 or float64), got {t.dtype}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if t.dim() != len(expected) or any(e is not None and e != s for e, s in zip(expected, t.shape, strict=True)):
        want = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {want}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(t.shape)})")


def _check_data(X: torch.Tensor, y: torch.Tensor) -> None:
    """``X (N, in)`` and ``y (N, 1)``: ``F.mse_loss`` would broadcast a ``(N,)`` target to ``(N, N)``."""
    _check_tensor(X, (None, None), "X")
    _check_tensor(y, (X.shape[0], 1), "y")


def _linear(X: torch.Tensor, w: Weights) -> torch.Tensor:
    return F.linear(X, w["weight"], w["bias"])


def linear_regression_forward(X: torch.Tensor, y: torch.Tensor, weights: Weights) -> tuple[torch.Tensor, Cache]:
    """``P = F.linear(X, weight, bias)``; ``L = F.mse_loss(P, y)``. The cache holds ``L`` and ``P``."""
    _check_data(X, y)
    P = _linear(X, weights)
    loss = F.mse_loss(P, y)
    return loss, {"loss": loss, "P": P}


def _autograd(cache: Cache, weights: Weights) -> Weights:
    """``dL/dw`` for every weight, from the graph the forward built."""
    if not all(w.requires_grad for w in weights.values()):
        raise ValueError("every weight must have requires_grad=True before the forward pass")
    grads = torch.autograd.grad(cache["loss"], list(weights.values()))
    return dict(zip(weights, grads, strict=True))


def linear_regression_gradients(cache: Cache, weights: Weights) -> Weights:
    """``dL/dweight``, ``dL/dbias`` by autograd."""
    return _autograd(cache, weights)


def _two_layer(X: torch.Tensor, w: Weights) -> tuple[torch.Tensor, torch.Tensor]:
    O1 = torch.sigmoid(F.linear(X, w["weight1"], w["bias1"]))
    P = F.linear(O1, w["weight2"], w["bias2"])
    return O1, P


def two_layer_forward(X: torch.Tensor, y: torch.Tensor, weights: Weights) -> tuple[torch.Tensor, Cache]:
    """``O1 = sigmoid(F.linear(X, weight1, bias1))``; ``P = F.linear(O1, weight2, bias2)``; MSE."""
    _check_data(X, y)
    O1, P = _two_layer(X, weights)
    loss = F.mse_loss(P, y)
    return loss, {"loss": loss, "O1": O1, "P": P}


def two_layer_gradients(cache: Cache, weights: Weights) -> Weights:
    """``dL/d`` each of ``weight1, bias1, weight2, bias2`` by autograd."""
    return _autograd(cache, weights)


def forward(X: torch.Tensor, y: torch.Tensor, weights: Weights) -> tuple[torch.Tensor, Cache]:
    """The forward pass of whichever model ``weights`` describe."""
    if model_of(weights) == "linear":
        return linear_regression_forward(X, y, weights)
    return two_layer_forward(X, y, weights)


def gradients(cache: Cache, weights: Weights) -> Weights:
    """The gradients of whichever model ``weights`` describe."""
    return _autograd(cache, weights)


def predict(X: torch.Tensor, weights: Weights) -> torch.Tensor:
    """Predictions ``P`` (N, 1), without building a graph."""
    with torch.no_grad():
        return _linear(X, weights) if model_of(weights) == "linear" else _two_layer(X, weights)[1]


def _randperm(epoch: int, n: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch))


def train(
    X: torch.Tensor,
    y: torch.Tensor,
    weights: Weights,
    *,
    learning_rate: float,
    batch_size: int,
    iterations: int,
    permutation: Permutation | None = None,
) -> tuple[Weights, list[float]]:
    """SGD on batches in the order ``permutation(epoch, N)``; without one, ``torch.randperm`` from a
    generator seeded with the epoch (not the scratch twin's default order)."""
    _check_data(X, y)
    order = _randperm if permutation is None else permutation
    params = {k: v.detach().clone().requires_grad_(True) for k, v in weights.items()}
    optimizer = torch.optim.SGD(params.values(), lr=learning_rate)
    n, epoch, start = X.shape[0], 0, 0
    rows = torch.as_tensor(order(epoch, n), device=X.device)
    losses: list[float] = []
    for _ in range(iterations):
        if start >= n:
            epoch, start = epoch + 1, 0
            rows = torch.as_tensor(order(epoch, n), device=X.device)
        batch = rows[start : start + batch_size]
        start += batch_size
        optimizer.zero_grad()
        loss, _ = forward(X[batch], y[batch], params)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {k: v.detach() for k, v in params.items()}, losses
