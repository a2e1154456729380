"""Registry cases for ``layers.Dropout`` evaluated after training (chapter 4; book bug 9).

The usual dropout cases build a fresh layer in eval mode. Here each twin first runs a training
forward (which leaves a keep mask behind), then switches to eval mode; the checked forward and
backward are the eval ones. The eval backward must be ``G * q`` (book) or ``G`` (inverted),
whatever mask the last training batch left: the book's code multiplies by that stale mask.
"""

from __future__ import annotations

import numpy as np
import torch

import scratch.layers as sl
import torch_ref.layers as tl
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair

SHAPE = (6, 9)


def _eval_after_train(p: float, variant: str) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        mask = (rng.random(SHAPE) >= p).astype(np.float64)
        warm = rng.standard_normal(SHAPE)
        scratch = sl.Dropout(p, variant=variant)
        torch_module = tl.Dropout(p, variant=variant)
        scratch.mask_source = lambda shape: mask
        torch_module.mask_source = lambda shape: mask
        scratch.forward(warm)  # a training batch: leaves its mask on the layer
        torch_module(torch.tensor(warm))
        scratch.eval()
        torch_module.eval()
        return module_pair(scratch, torch_module)

    return OpCase(
        name=f"dropout_{variant}_p{p:g}_eval_after_train",
        component="Dropout",
        stem="layers",
        chapter=4,
        op_class="elementwise",
        inputs={"input": InputSpec(SHAPE)},
        build=build,
    )


CASES = [_eval_after_train(0.2, "book"), _eval_after_train(0.3, "inverted")]
