"""Registry cases for ``regression`` (chapter 2's hand-written models).

- ``OpCase`` per model: the loss, then the hand-written gradients of every weight against
  autograd (random upstream scalar), plus the finite-difference oracle. ``X`` and ``y`` are data,
  not differentiated. The two-layer net has ``hidden != in_features`` so a transpose cannot hide.
- ``ValueCase``: ``*_gradients`` and ``predict`` of both twins, value for value.
- ``TrainCase``: ``train`` on both twins from the same weights and batch order; the loss of every
  step and the final weights must agree (``compare_training``, also used by the chapter 2
  experiment on Boston housing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.regression as sr
import torch_ref.regression as tr
from parity_tests.harness import RowLog, compare, np_dtype, tolerance_for
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair
from parity_tests.valuecase import ValueCase
from scratch.trainer import seeded_permutation

N, IN, HIDDEN = 9, 4, 3
DATA = {"X": InputSpec((N, IN), differentiable=False), "y": InputSpec((N, 1), differentiable=False)}
SHAPES = {
    "linear": {"weight": (1, IN), "bias": (1,)},
    "two_layer": {"weight1": (HIDDEN, IN), "bias1": (HIDDEN,), "weight2": (1, HIDDEN), "bias2": (1,)},
}
FORWARD = {"linear": "linear_regression_forward", "two_layer": "two_layer_forward"}
GRADIENTS = {"linear": "linear_regression_gradients", "two_layer": "two_layer_gradients"}


def _inputs(model: str) -> dict[str, InputSpec]:
    return {**DATA, **{k: InputSpec(s) for k, s in SHAPES[model].items()}}


def _weights(model: str, ins: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ins[k] for k in SHAPES[model]}


def _loss_case(model: str) -> OpCase:
    """The loss and its gradients; the scratch functions are looked up when the case runs (mutants)."""

    def build(rng: np.random.Generator) -> TwinPair:
        cache: dict[str, Any] = {}

        def scratch_forward(ins: dict[str, Array]) -> Array:
            loss, cache["forward"] = getattr(sr, FORWARD[model])(ins["X"], ins["y"], _weights(model, ins))
            cache["weights"] = _weights(model, ins)
            return loss

        def scratch_backward(v: Array) -> dict[str, Array]:
            grads = getattr(sr, GRADIENTS[model])(cache["forward"], cache["weights"])
            return {k: v * g for k, g in grads.items()}

        def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
            loss, _ = getattr(tr, FORWARD[model])(ins["X"], ins["y"], _weights(model, ins))
            return loss

        return TwinPair(scratch_forward, scratch_backward, torch_forward)

    return OpCase(f"{model}_loss", FORWARD[model], "regression", 2, "loss", _inputs(model), build)


def _torch_gradients(model: str, ins: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    weights = {k: w.requires_grad_(True) for k, w in _weights(model, ins).items()}
    _, cache = getattr(tr, FORWARD[model])(ins["X"], ins["y"], weights)
    return getattr(tr, GRADIENTS[model])(cache, weights)


def _scratch_gradients(model: str, ins: dict[str, Array]) -> dict[str, Array]:
    weights = _weights(model, ins)
    _, cache = getattr(sr, FORWARD[model])(ins["X"], ins["y"], weights)
    return dict(getattr(sr, GRADIENTS[model])(cache, weights))


def _gradients_case(model: str) -> ValueCase:
    return ValueCase(
        name=f"{model}_gradients",
        component=GRADIENTS[model],
        stem="regression",
        chapter=2,
        op_class="loss",
        inputs=_inputs(model),
        scratch_outputs=lambda ins: _scratch_gradients(model, ins),
        torch_outputs=lambda ins: _torch_gradients(model, ins),
    )


def _predict_case(model: str) -> ValueCase:
    inputs = {"X": DATA["X"], **{k: InputSpec(s) for k, s in SHAPES[model].items()}}
    return ValueCase(
        name=f"{model}_predict",
        component="predict",
        stem="regression",
        chapter=2,
        op_class="matmul",
        inputs=inputs,
        scratch_outputs=lambda ins: {"P": sr.predict(ins["X"], _weights(model, ins))},
        torch_outputs=lambda ins: {"P": tr.predict(ins["X"], _weights(model, ins))},
    )


@dataclass
class TrainingRun:
    """Both twins' ``train`` results: the parity rows, trained weights (numpy) and step losses."""

    rows: list[dict[str, Any]]
    scratch_weights: dict[str, Array]
    torch_weights: dict[str, Array]
    scratch_losses: list[float]
    torch_losses: list[float]


def compare_training(
    case: Any, X: Array, y: Array, weights: dict[str, Array], options: dict[str, Any], device: str, seed: int
) -> TrainingRun:
    """Train both twins from ``weights`` on ``(X, y)`` with the same ``options`` (batch order
    included) and compare: ``check="trajectory"`` rows for ``loss`` (every step) and each final
    weight, under the ``trajectory`` tolerance of the arrays' dtype. ``case`` names the rows."""
    dtype = str(X.dtype)
    options = {"permutation": seeded_permutation(seed), **options}  # the batch order: data for both twins
    w_s, loss_s = sr.train(X, y, weights, **options)
    t = {k: torch.tensor(v, device=device) for k, v in weights.items()}
    w_t, loss_t = tr.train(torch.tensor(X, device=device), torch.tensor(y, device=device), t, **options)
    w_t_np = {k: v.cpu().numpy() for k, v in w_t.items()}
    tol = tolerance_for(dtype, "trajectory")
    results = {"loss": compare(loss_s, loss_t, tol)}
    results.update({k: compare(w_s[k], w_t_np[k], tol) for k in w_s})
    shapes = f"X{X.shape} y{y.shape} batch {options['batch_size']} x {options['iterations']} steps"
    log = RowLog(case, seed, dtype, device, shapes)
    for target, comp in results.items():
        log.add("trajectory", target, comp, tol)
    return TrainingRun(log.rows, w_s, w_t_np, loss_s, loss_t)


@dataclass
class TrainCase:
    """``train`` of both twins on small synthetic data from the same weights and batch order."""

    name: str
    model: str
    rows: int = 30
    batch_size: int = 7  # 30 rows: four batches of 7 and a partial one of 2 per epoch
    iterations: int = 12  # crosses two reshuffles
    learning_rate: float = 0.05
    component: str = "train"
    stem: str = "regression"
    chapter: int = 2

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        dt = np_dtype(dtype)
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((self.rows, IN)).astype(dt)
        y = (X @ rng.standard_normal((IN, 1)) + 0.1 * rng.standard_normal((self.rows, 1))).astype(dt)
        weights = {k: rng.standard_normal(s).astype(dt) for k, s in SHAPES[self.model].items()}
        options = dict(learning_rate=self.learning_rate, batch_size=self.batch_size, iterations=self.iterations)
        return compare_training(self, X, y, weights, options, device, seed).rows


CASES = [
    _loss_case("linear"),
    _loss_case("two_layer"),
    _gradients_case("linear"),
    _gradients_case("two_layer"),
    _predict_case("linear"),
    _predict_case("two_layer"),
    TrainCase("linear_train", "linear"),
    TrainCase("two_layer_train", "two_layer"),
]
