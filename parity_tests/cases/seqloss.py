"""Registry cases for ``losses.SequenceSoftmaxCrossEntropy`` (chapter 6): logits (N, L, V), one-hot,
probability or index targets, PyTorch's mean and the book's sum, the book's loss value."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import scratch.losses as sl
import torch_ref.losses as tl
from parity_tests.opcase import InputSpec, OpCase, TwinPair


def _pair(reduction: str, variant: str) -> TwinPair:
    scratch = sl.SequenceSoftmaxCrossEntropy(reduction, variant=variant)
    torch_loss = tl.SequenceSoftmaxCrossEntropy(reduction, variant=variant)

    def forward(ins: dict[str, Any]) -> Any:
        return np.asarray(scratch.forward(ins["prediction"], ins["target"]))  # 0-d

    def backward(v: Any) -> dict[str, Any]:
        return {"prediction": v * scratch.backward()}  # the loss is a scalar: scale its gradient by v

    def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch_loss(ins["prediction"], ins["target"])

    return TwinPair(forward, backward, torch_forward)


def _case(n: int, length: int, vocab: int, reduction: str, target: str = "onehot", variant: str = "standard") -> OpCase:
    shape = (n, length) if target == "indices" else (n, length, vocab)
    return OpCase(
        name=f"seq_softmax_ce_{variant}_{reduction}_{target}_{n}x{length}x{vocab}",
        component="SequenceSoftmaxCrossEntropy",
        stem="losses",
        chapter=6,
        op_class="loss",
        inputs={
            "prediction": InputSpec((n, length, vocab)),
            "target": InputSpec(shape, kind=target, differentiable=False, classes=vocab),
        },
        build=lambda rng: _pair(reduction, variant),
        # the book's value is not the antiderivative of its gradient (book bug 5): no FD oracle
        fd=variant == "standard",
    )


CASES = [
    _case(4, 5, 7, "mean"),
    _case(4, 5, 7, "sum"),
    _case(3, 25, 11, "mean", "probs"),
    _case(1, 1, 3, "sum"),
    _case(2, 25, 9, "sum", "indices"),
    _case(4, 5, 7, "sum", variant="book"),
]
