"""Registry cases for ``operations`` and ``activations`` (chapter 3)."""

from __future__ import annotations

import numpy as np
import torch

import scratch.activations as sa
import scratch.operations as so
import torch_ref.activations as ta
import torch_ref.operations as to
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair


def _weight_multiply(rng: np.random.Generator) -> TwinPair:
    weight = rng.standard_normal((4, 6))
    return module_pair(so.WeightMultiply(weight), to.WeightMultiply(torch.zeros(4, 6)))


def _bias_add(rng: np.random.Generator) -> TwinPair:
    bias = rng.standard_normal(4)
    return module_pair(so.BiasAdd(bias), to.BiasAdd(torch.zeros(4)))


def _activation(name: str, chapter: int = 3) -> OpCase:
    return OpCase(
        name=f"activation_{name.lower()}",
        component=name,
        stem="activations",
        chapter=chapter,
        op_class="elementwise",
        inputs={"input": InputSpec((7, 5))},
        build=lambda rng: module_pair(getattr(sa, name)(), getattr(ta, name)()),
    )


CASES = [
    OpCase(
        "weight_multiply", "WeightMultiply", "operations", 3, "matmul", {"input": InputSpec((5, 6))}, _weight_multiply
    ),
    OpCase("bias_add", "BiasAdd", "operations", 3, "elementwise", {"input": InputSpec((5, 4))}, _bias_add),
    _activation("Linear"),
    _activation("Sigmoid"),
    _activation("Tanh", chapter=4),
    _activation("ReLU", chapter=4),
]
