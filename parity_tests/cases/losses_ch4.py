"""Registry cases for ``losses.SoftmaxCrossEntropy`` (chapter 4).

A loss is a function of the logits to one number: the forward row compares the values, the
backward rows the gradient of ``v * L`` for a random scalar ``v``. Targets come as one-hot rows
and as class indices, with both reductions and both variants. One case shifts every logit by
``LARGE`` (softmax is shift-invariant, so the value and gradient are those of ordinary logits):
a softmax that exponentiates without subtracting the row maximum overflows there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import scratch.losses as sL
import torch_ref.losses as tL
from parity_tests.opcase import InputSpec, OpCase, TwinPair

N, C = 8, 10
#: exp(750) overflows float64 (max ~ exp(709.8)) and float32 (max ~ exp(88.7)).
LARGE = 750.0


def _loss_pair(reduction: str, variant: str, shift: float) -> Any:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sL.SoftmaxCrossEntropy(reduction, variant=variant)
        torch_loss = tL.SoftmaxCrossEntropy(reduction, variant=variant)
        # The book variant's gradient is by design the cross-entropy's, not that of its own value
        # (book bug 5): its oracle differentiates the standard cross-entropy of the same logits.
        cross_entropy = sL.SoftmaxCrossEntropy(reduction, variant="standard")

        def backward(v: Any) -> dict[str, Any]:
            return {"input": v * scratch.backward()}

        return TwinPair(
            scratch_forward=lambda ins: np.asarray(scratch.forward(ins["input"] + shift, ins["target"])),
            scratch_backward=backward,
            torch_forward=lambda ins: torch_loss(ins["input"] + shift, ins["target"]),
            scratch_module=scratch,
            torch_module=torch_loss,
            fd_forward=lambda ins: np.asarray(cross_entropy.forward(ins["input"] + shift, ins["target"])),
        )

    return build


def _case(target: str, reduction: str = "mean", variant: str = "standard", shift: float = 0.0) -> OpCase:
    spec = InputSpec((N,), "indices", classes=C) if target == "indices" else InputSpec((N, C), "onehot")
    suffix = "_large_logits" if shift else ""
    return OpCase(
        name=f"softmax_ce_{variant}_{reduction}_{target}{suffix}",
        component="SoftmaxCrossEntropy",
        stem="losses",
        chapter=4,
        op_class="loss",
        inputs={"input": InputSpec((N, C)), "target": spec},
        build=_loss_pair(reduction, variant, shift),
        # No finite differences on shifted logits: steps on logits of size 750 round at 1e-13
        # each; that case is for overflow, the unshifted ones carry the oracle.
        fd=not shift,
    )


CASES = [
    _case("onehot"),
    _case("indices"),
    _case("onehot", "sum"),
    _case("indices", "sum"),
    _case("onehot", variant="book"),
    _case("indices", "sum", variant="book"),
    _case("onehot", shift=LARGE),
    _case("indices", variant="book", shift=LARGE),
]
