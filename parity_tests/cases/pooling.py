"""Registry cases for chapter 5's pooling: ``MaxPool2d`` and ``AvgPool2d``.

Configurations: the common 2x2 window with stride 2, a 3x3 window with stride 2 and padding 1
(overlapping windows that also read the padding), and a 3x3 window with stride 1 (every element
in up to nine windows). ``maxpool_ties`` draws small integers, so most windows hold their
maximum more than once: it checks that the gradient goes where PyTorch sends it (the first
maximum in row-major order). Max pooling is not differentiable at ties, so that case has no
finite-difference row; with continuous inputs ties have probability zero and the oracle runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import scratch.pooling as sp
import torch_ref.pooling as tp
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair, module_pair


@dataclass(frozen=True)
class TiedInputSpec(InputSpec):
    """Integers in ``{0, 1, 2}`` as floats: windows with repeated maxima."""

    def draw(self, rng: np.random.Generator) -> Array:
        return rng.integers(0, 3, self.shape).astype(np.float64)


def _pool(component: str, k: int, stride: int | None, padding: int, shape: tuple[int, ...] = (2, 3, 7, 6)) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        return module_pair(getattr(sp, component)(k, stride, padding), getattr(tp, component)(k, stride, padding))

    s = k if stride is None else stride
    return OpCase(
        name=f"{component}_k{k}_s{s}_p{padding}",
        component=component,
        stem="pooling",
        chapter=5,
        # max pooling selects one value (exact); average pooling sums k*k values
        op_class="elementwise" if component == "MaxPool2d" else "reduction",
        inputs={"input": InputSpec(shape)},
        build=build,
    )


def _max_ties(k: int, stride: int) -> OpCase:
    return OpCase(
        name=f"maxpool_ties_k{k}_s{stride}",
        component="MaxPool2d",
        stem="pooling",
        chapter=5,
        op_class="elementwise",
        inputs={"input": TiedInputSpec((2, 2, 6, 6))},
        build=lambda rng: module_pair(sp.MaxPool2d(k, stride), tp.MaxPool2d(k, stride)),
        fd=False,
    )


CASES = [
    _pool("MaxPool2d", 2, None, 0),
    _pool("MaxPool2d", 3, 2, 1),
    _pool("MaxPool2d", 3, 1, 0),
    _pool("AvgPool2d", 2, None, 0),
    _pool("AvgPool2d", 3, 2, 1),
    _pool("AvgPool2d", 3, 1, 0),
    _max_ties(2, 2),
    _max_ties(3, 1),
]
