"""Registry cases for ``network`` (chapter 3 NeuralNetwork).

``network_forward_backward``: the stack alone (input -> prediction), random upstream gradient.
``network_with_loss``: prediction and loss as one function of the input, the way ``train_batch``
uses it: its backward is ``net.backward(loss.backward())`` and fills every parameter gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import scratch.activations as sa
import scratch.layers as sl
import scratch.losses as sL
import scratch.network as sn
import torch_ref.activations as ta
import torch_ref.layers as tl
import torch_ref.losses as tL
import torch_ref.network as tn
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair


def _nets(rng: np.random.Generator, reduction: str = "mean") -> tuple[sn.NeuralNetwork, tn.NeuralNetwork]:
    scratch = sn.NeuralNetwork(
        [sl.Dense(5, 4, sa.Sigmoid(), rng=rng), sl.Dense(4, 3, sa.Sigmoid(), rng=rng), sl.Dense(3, 2, rng=rng)],
        sL.MeanSquaredError(reduction),
    )
    torch_net = tn.NeuralNetwork(
        [tl.Dense(5, 4, ta.Sigmoid()), tl.Dense(4, 3, ta.Sigmoid()), tl.Dense(3, 2)], tL.MeanSquaredError(reduction)
    )
    return scratch, torch_net


def _stack(rng: np.random.Generator) -> TwinPair:
    return module_pair(*_nets(rng))


def _with_loss(reduction: str) -> Callable[[np.random.Generator], TwinPair]:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch, torch_net = _nets(rng, reduction)

        def forward(ins: dict[str, np.ndarray]) -> np.ndarray:
            return np.asarray(scratch.loss.forward(scratch.forward(ins["input"]), ins["target"]))

        def backward(v: np.ndarray) -> dict[str, np.ndarray]:
            grad_input = scratch.backward(v * scratch.loss.backward())
            return {"input": grad_input, **scratch.grads}

        return TwinPair(
            scratch_forward=forward,
            scratch_backward=backward,
            torch_forward=lambda ins: torch_net.loss(torch_net(ins["input"]), ins["target"]),
            scratch_module=scratch,
            torch_module=torch_net,
        )

    return build


_INPUTS = {"input": InputSpec((6, 5))}
_LOSS_INPUTS = {"input": InputSpec((6, 5)), "target": InputSpec((6, 2), differentiable=False)}

CASES = [
    OpCase("network_forward_backward", "NeuralNetwork", "network", 3, "matmul", _INPUTS, _stack),
    OpCase("network_with_mse_mean", "NeuralNetwork", "network", 3, "loss", _LOSS_INPUTS, _with_loss("mean")),
    OpCase("network_with_mse_batchmean", "NeuralNetwork", "network", 3, "loss", _LOSS_INPUTS, _with_loss("batchmean")),
]
