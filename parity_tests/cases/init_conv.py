"""Registry cases for ``Conv2D(weight_init=...)`` (chapter 5; the book's chapter 5-7 CNNs).

As for ``Dense`` (``parity_tests/cases/init.py``), initial weights are compared by distribution:
each ``ConvInitCase`` draws many ``Conv2D`` layers on each twin with one scheme and compares the
sample std of their weights (the torch side is ``nn.init.xavier_*`` for ``glorot`` /
``glorot_uniform``: Glorot's fans ``C_in k^2``, ``C_out k^2``), checks both means are zero, that the
std is the scheme's formula (the book's ``glorot_book`` counts channels only, ``2 / (C_in + C_out)``)
and that a seed repeats. One operator case runs a ``glorot_book`` layer through the usual
forward / backward / finite-difference checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.activations as sa
import scratch.init as si
import scratch.layers as sl
import torch_ref.activations as ta
import torch_ref.layers as tl
from parity_tests.cases.init import EXACT, SAMPLES, STD_TOL, _mean_tol
from parity_tests.harness import RowLog, Tolerance, compare
from parity_tests.opcase import InputSpec, OpCase, TwinPair, module_pair

#: The chapter 7 CNN's second convolution: 14 -> 7 channels, 5x5 kernels.
C_IN, C_OUT, K = 14, 7, 5
REPS = SAMPLES // (C_OUT * C_IN * K * K) + 1


def _scratch_sample(scheme: str, seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    layers = [sl.Conv2D(C_IN, C_OUT, K, rng=rng, weight_init=scheme) for _ in range(REPS)]
    return np.concatenate([layer.conv.weight.data.ravel() for layer in layers])[:SAMPLES]


def _torch_sample(scheme: str, seed: int) -> np.ndarray[Any, Any]:
    gen = torch.Generator().manual_seed(seed)
    layers = [tl.Conv2D(C_IN, C_OUT, K, generator=gen, weight_init=scheme) for _ in range(REPS)]
    return torch.cat([layer.weight.detach().double().ravel() for layer in layers])[:SAMPLES].numpy()


@dataclass(frozen=True)
class ConvInitCase:
    """Distribution parity of one scheme on ``Conv2D`` (rows: std, formula, mean, same_seed)."""

    scheme: str
    component: str = "conv_init"
    stem: str = "init"
    chapter: int = 5

    @property
    def name(self) -> str:
        return f"conv_init_{self.scheme}"

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        log = RowLog(self, seed, dtype, device, f"weight({C_OUT}, {C_IN}, {K}, {K}) x{REPS}")
        s = _scratch_sample(self.scheme, seed)
        t = _torch_sample(self.scheme, seed + 1)
        log.add("std", "weight", compare(s.std(), t.std(), STD_TOL), STD_TOL)
        fan_in, fan_out = si.conv_fans(self.scheme, C_IN, C_OUT, K)
        formula = si.init_std(self.scheme, fan_in, fan_out)
        formula_tol = Tolerance(0.0, STD_TOL.rtol / math.sqrt(2), "sampling error of one sample std: 8 sds")
        log.add("formula", "torch_std", compare(t.std(), formula, formula_tol), formula_tol)
        mean_tol = _mean_tol(float(t.std()))
        log.add("mean", "weight", compare([s.mean(), t.mean()], [0.0, 0.0], mean_tol), mean_tol)
        log.add("same_seed", "scratch", compare(_scratch_sample(self.scheme, seed), s, EXACT), EXACT)
        log.add("same_seed", "torch", compare(_torch_sample(self.scheme, seed + 1), t, EXACT), EXACT)
        return log.rows


def _conv2d_layer_book_init() -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        scratch = sl.Conv2D(2, 3, 3, sa.Tanh(), rng=rng, weight_init="glorot_book")
        return module_pair(scratch, tl.Conv2D(2, 3, 3, ta.Tanh(), weight_init="glorot_book"))

    return OpCase(
        name="conv2d_layer_tanh_glorot_book",
        component="Conv2D",
        stem="layers",
        chapter=5,
        op_class="conv",
        inputs={"input": InputSpec((3, 2, 6, 6))},
        build=build,
    )


CASES: list[Any] = [ConvInitCase(scheme) for scheme in si.INIT_SCHEMES]
CASES.append(_conv2d_layer_book_init())
