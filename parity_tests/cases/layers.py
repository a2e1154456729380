"""Registry cases for ``layers`` (chapter 3 Dense; later chapters add their layers here)."""

from __future__ import annotations

import numpy as np

import scratch.activations as sa
import scratch.layers as sl
import torch_ref.activations as ta
import torch_ref.layers as tl
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair


def _dense(n: int, fin: int, fout: int, act: str) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sl.Dense(fin, fout, activation=getattr(sa, act)(), rng=rng)
        return module_pair(scratch, tl.Dense(fin, fout, activation=getattr(ta, act)()))

    return OpCase(
        name=f"dense_{act.lower()}_{fin}x{fout}",
        component="Dense",
        stem="layers",
        chapter=3,
        op_class="matmul",
        inputs={"input": InputSpec((n, fin))},
        build=build,
    )


CASES = [
    _dense(8, 13, 1, "Linear"),
    _dense(8, 13, 13, "Sigmoid"),
    _dense(1, 5, 3, "Sigmoid"),
]
