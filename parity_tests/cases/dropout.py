"""Registry cases for ``layers.Dropout`` (chapter 4), in train and eval mode, both variants.

The keep mask is drawn by the harness and handed to both twins through ``mask_source``: a torch
dropout that draws its own mask could not be compared with anything.
"""

from __future__ import annotations

import numpy as np

import scratch.layers as sl
import torch_ref.layers as tl
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair

SHAPE = (6, 9)


def _dropout(p: float, variant: str, training: bool) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        mask = (rng.random(SHAPE) >= p).astype(np.float64)  # 1 keeps a unit, with probability 1 - p
        scratch = sl.Dropout(p, variant=variant)
        torch_module = tl.Dropout(p, variant=variant)
        scratch.mask_source = lambda shape: mask
        torch_module.mask_source = lambda shape: mask
        scratch.train(training)
        torch_module.train(training)
        return module_pair(scratch, torch_module)

    mode = "train" if training else "eval"
    return OpCase(
        name=f"dropout_{variant}_p{p:g}_{mode}",
        component="Dropout",
        stem="layers",
        chapter=4,
        op_class="elementwise",
        inputs={"input": InputSpec(SHAPE)},
        build=build,
    )


CASES = [
    _dropout(0.3, "inverted", True),
    _dropout(0.3, "inverted", False),
    _dropout(0.2, "book", True),
    _dropout(0.2, "book", False),
]
