"""Registry cases for ``losses`` (chapter 3 MeanSquaredError; later chapters add theirs here).

A loss case treats ``L(prediction, target)`` as an operator with a 0-d output: the random upstream
gradient is a scalar ``v``, the scratch side returns ``v * loss.backward()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import scratch.losses as sL
import torch_ref.losses as tL
from parity_tests.opcase import InputSpec, OpCase, TwinPair


def loss_pair(scratch: Any, torch_loss: torch.nn.Module) -> TwinPair:
    """A ``TwinPair`` over inputs ``prediction`` (differentiated) and ``target``."""

    def backward(v: np.ndarray) -> dict[str, np.ndarray]:
        return {"prediction": v * scratch.backward()}

    return TwinPair(
        scratch_forward=lambda ins: np.asarray(scratch.forward(ins["prediction"], ins["target"])),
        scratch_backward=backward,
        torch_forward=lambda ins: torch_loss(ins["prediction"], ins["target"]),
        scratch_module=scratch,
        torch_module=torch_loss,
    )


def _mse(reduction: str, shape: tuple[int, int]) -> OpCase:
    return OpCase(
        name=f"mse_{reduction}_{shape[0]}x{shape[1]}",
        component="MeanSquaredError",
        stem="losses",
        chapter=3,
        op_class="loss",
        inputs={"prediction": InputSpec(shape), "target": InputSpec(shape, differentiable=False)},
        build=lambda rng: loss_pair(sL.MeanSquaredError(reduction), tL.MeanSquaredError(reduction)),
    )


CASES = [
    _mse("mean", (8, 3)),
    _mse("batchmean", (8, 3)),
    _mse("sum", (8, 3)),
    _mse("mean", (16, 1)),
    _mse("batchmean", (1, 5)),
]


def _mse_normalized(reduction: str, shape: tuple[int, int]) -> OpCase:
    """The book's chapter 4 MNIST loss: rows divided by their sums, then squared error.

    Predictions are positive (like the sigmoid outputs the book feeds it), targets one-hot rows.
    The finite-difference oracle checks the gradient through the normalisation's Jacobian.
    """
    return OpCase(
        name=f"mse_normalized_{reduction}_{shape[0]}x{shape[1]}",
        component="MeanSquaredError",
        stem="losses",
        chapter=4,
        op_class="loss",
        inputs={"prediction": InputSpec(shape, "positive"), "target": InputSpec(shape, "onehot")},
        build=lambda rng: loss_pair(
            sL.MeanSquaredError(reduction, normalize=True), tL.MeanSquaredError(reduction, normalize=True)
        ),
    )


CASES += [
    _mse_normalized("batchmean", (8, 10)),
    _mse_normalized("mean", (6, 4)),
    _mse_normalized("sum", (1, 3)),
]
