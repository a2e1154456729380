"""Registry cases for the book options of the chapter 6 recurrent model (stem ``charlm``).

- ``RecurrentLayer`` with the book's GRU (``reset_after=False``), with one bias per gate
  (``single_bias=True``: ``bias_hh_l0`` held at zero and absent from both twins' parameters and
  state dicts, so the bijection row also checks that it is gone on both sides) for each cell, and
  with every option together including the book's ``N(0, weight_scale)`` initial weights.
- ``CharLM`` of two such layers.
- ``RecurrentInitCase``: the ``N(0, s)`` initialisation by distribution (the twins draw from
  different generators): both twins' sample std against ``s``, both means against zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.charlm as sc
import torch_ref.charlm as tc
from parity_tests.harness import RowLog, Tolerance, compare
from parity_tests.opcase import Array, InputSpec, OpCase, TwinPair

N, L, I, H, O = 3, 6, 5, 4, 7  # batch, length, input, hidden, output
#: A scale far from PyTorch's U(-1/2, 1/2) at H = 4 (std 0.29), so a draw ignoring it would show.
SCALE = 0.05


def _pair(scratch: Any, twin: torch.nn.Module) -> TwinPair:
    def scratch_forward(ins: dict[str, Array]) -> Array:
        scratch.reset_state()
        return scratch.forward(ins["input"])

    def scratch_backward(v: Array) -> dict[str, Array]:
        return {"input": scratch.backward(v), **scratch.grads}

    def torch_forward(ins: dict[str, torch.Tensor]) -> torch.Tensor:
        twin.reset_state()  # type: ignore[operator]
        return twin(ins["input"])

    return TwinPair(scratch_forward, scratch_backward, torch_forward, scratch, twin)


def _layer_case(cell: str, **options: Any) -> OpCase:
    def build(rng: np.random.Generator) -> TwinPair:
        return _pair(sc.RecurrentLayer(cell, I, H, O, rng=rng, **options), tc.RecurrentLayer(cell, I, H, O, **options))

    suffix = "".join(
        [
            "_book_gru" if options.get("reset_after") is False else "",
            "_single_bias" if options.get("single_bias") else "",
            f"_scale{options['weight_scale']:g}" if options.get("weight_scale") else "",
        ]
    )
    return OpCase(
        name=f"recurrent_layer_{cell}{suffix}",
        component="RecurrentLayer",
        stem="charlm",
        chapter=6,
        op_class="recurrent",
        inputs={"input": InputSpec((N, L, I))},
        build=build,
    )


def _model_case() -> OpCase:
    options: dict[str, Any] = {"reset_after": False, "single_bias": True, "weight_scale": SCALE}

    def build(rng: np.random.Generator) -> TwinPair:
        return _pair(
            sc.CharLM(O, H, num_layers=2, cell="gru", rng=rng, **options),
            tc.CharLM(O, H, num_layers=2, cell="gru", **options),
        )

    return OpCase(
        "charlm_book_gru_single_bias_2layers",
        "CharLM",
        "charlm",
        6,
        "recurrent",
        {"input": InputSpec((N, L, O))},
        build,
    )


#: Draws per twin for the distribution rows (a hidden-64 GRU layer has ~13k weights and biases).
SAMPLES = 100_000
_SD = 1.0 / math.sqrt(2 * SAMPLES)  # relative sd of a sample std of n normals


@dataclass(frozen=True)
class RecurrentInitCase:
    """The book's ``N(0, s)`` initialisation of a ``RecurrentLayer`` on both twins, by distribution."""

    cell: str
    scale: float
    component: str = "RecurrentLayer"
    stem: str = "charlm"
    chapter: int = 6

    @property
    def name(self) -> str:
        return f"recurrent_init_{self.cell}_scale{self.scale:g}"

    def _draws(self, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed + 1)
        s_parts: list[Array] = []
        t_parts: list[Array] = []
        while sum(a.size for a in s_parts) < SAMPLES:
            s = sc.RecurrentLayer(self.cell, 32, 64, 32, rng=rng, weight_scale=self.scale)
            t = tc.RecurrentLayer(self.cell, 32, 64, 32, weight_scale=self.scale, generator=gen)
            s_parts += [p.data.ravel() for p in s.parameters()]
            t_parts += [p.detach().double().numpy().ravel() for p in t.parameters()]
        return np.concatenate(s_parts)[:SAMPLES], np.concatenate(t_parts)[:SAMPLES]

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        log = RowLog(self, seed, dtype, device, f"RecurrentLayer({self.cell}, 32, 64, 32) x{SAMPLES} draws")
        s, t = self._draws(seed)
        std_tol = Tolerance(0.0, 8 * _SD, f"sampling error of a std of {SAMPLES} normals: 8 sds")
        log.add("std", "scratch", compare(s.std(), self.scale, std_tol), std_tol)
        log.add("std", "torch", compare(t.std(), self.scale, std_tol), std_tol)
        mean_tol = Tolerance(8 * self.scale / math.sqrt(SAMPLES), 0.0, f"sampling error of a mean of {SAMPLES}: 8 sds")
        log.add("mean", "weight", compare([s.mean(), t.mean()], [0.0, 0.0], mean_tol), mean_tol)
        return log.rows


CASES: list[Any] = [
    _layer_case("gru", reset_after=False),
    _layer_case("rnn", single_bias=True),
    _layer_case("gru", single_bias=True),
    _layer_case("lstm", single_bias=True),
    _layer_case("gru", reset_after=False, single_bias=True, weight_scale=SCALE),
    _model_case(),
    RecurrentInitCase("lstm", 0.1),
    RecurrentInitCase("gru", 0.01),
]
