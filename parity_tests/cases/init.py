"""Registry cases for ``init`` (chapter 4): weight initialisation by distribution.

Initial weights cannot be compared value by value (the twins use different random generators;
parity runs share weights through ``state_dict``). Each case instead checks, for one scheme:

- ``std``: the sample std of a large scratch draw against that of a large torch draw, where the
  torch side is ``torch.nn.init`` (``normal_``, ``xavier_normal_``, ``xavier_uniform_``) — so the
  scratch formula is checked against torch's, not against itself;
- ``mean``: both sample means are zero to sampling accuracy;
- ``scale``: the exact scale (std, or the bound of a uniform) each twin draws with, recovered
  from its own generator: a weight drawn from a seed, divided elementwise by a unit draw (standard
  normal, or uniform on [-1, 1]) from the same seed, is the scale to the last few bits. This row
  sees a relative error of 1e-7 in a scale, which no sampling statistic can;
- ``same_seed``: the same seed gives bit-identical weights, on each twin (a sanity row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.init as si
import torch_ref.init as ti
from parity_tests.harness import Comparison, Tolerance, compare, make_row

#: Fans of the book's MNIST first layer; the draw is repeated to reach ``SAMPLES`` values.
FAN_IN, FAN_OUT = 784, 89
SAMPLES = 400_000

_SD_STD = 1.0 / math.sqrt(2 * SAMPLES)  # relative sd of a sample std of n normals
STD_TOL = Tolerance(
    0.0,
    8 * math.sqrt(2) * _SD_STD,
    f"sampling error: each sample std of {SAMPLES} draws has relative sd 1/sqrt(2n) = {_SD_STD:.1e}; "
    "the difference of two has sqrt(2) times that; bound = 8 of those sds",
)
EXACT = Tolerance(0.0, 0.0, "same generator, same seed: identical bits")


def _mean_tol(std: float) -> Tolerance:
    return Tolerance(8 * std / math.sqrt(SAMPLES), 0.0, f"sampling error of a mean of {SAMPLES} draws: 8 sds")


def _scratch_sample(scheme: str, seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    reps = SAMPLES // (FAN_IN * FAN_OUT) + 1
    return np.concatenate([si.dense_init(scheme, FAN_IN, FAN_OUT, rng)[0].ravel() for _ in range(reps)])[:SAMPLES]


def _torch_sample(scheme: str, seed: int) -> np.ndarray[Any, Any]:
    gen = torch.Generator().manual_seed(seed)
    reps = SAMPLES // (FAN_IN * FAN_OUT) + 1
    with torch.no_grad():
        draws = [ti.dense_init(scheme, FAN_IN, FAN_OUT, gen)[0].double().ravel() for _ in range(reps)]
    return torch.cat(draws)[:SAMPLES].numpy()


SCALE_TOL = Tolerance(1e-15, 1e-13, "the same unit draw scaled: each ratio rounds a few times (~450 ulp allowed)")


def _ratio(weight: np.ndarray[Any, Any], unit: np.ndarray[Any, Any]) -> float:
    """The scale that turns ``unit`` into ``weight``: the median ratio where ``|unit| > 0.5`` (no tiny divisors)."""
    keep = np.abs(unit) > 0.5
    return float(np.median(weight[keep] / unit[keep]))


def _scratch_scale(scheme: str, seed: int) -> float:
    weight = si.draw(scheme, (FAN_OUT, FAN_IN), FAN_IN, FAN_OUT, np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    unit = rng.uniform(-1.0, 1.0, weight.shape) if scheme == "glorot_uniform" else rng.standard_normal(weight.shape)
    return _ratio(weight, unit)


def _torch_scale(scheme: str, seed: int) -> float:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the twin draws in the default dtype: make it exact
    try:
        weight = ti.draw(scheme, (FAN_OUT, FAN_IN), FAN_IN, FAN_OUT, torch.Generator().manual_seed(seed))
    finally:
        torch.set_default_dtype(previous)
    unit = torch.empty(weight.shape, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    unit = unit.uniform_(-1.0, 1.0, generator=gen) if scheme == "glorot_uniform" else unit.normal_(generator=gen)
    return _ratio(weight.numpy(), unit.numpy())


@dataclass(frozen=True)
class InitCase:
    """Parity of one initialisation scheme (rows: std, mean, scale, same_seed)."""

    scheme: str
    component: str = "dense_init"
    stem: str = "init"
    chapter: int = 4

    @property
    def name(self) -> str:
        return f"init_{self.scheme}"

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        shapes = f"weight({FAN_OUT}, {FAN_IN}) x{SAMPLES // (FAN_IN * FAN_OUT) + 1}"
        rows: list[dict[str, Any]] = []

        # The draws are float64 on both twins whatever ``dtype`` says: a float32 row repeats the
        # float64 one, so it is a sanity row that stays out of the pass totals.
        kind = "sanity" if dtype == "float32" else None

        def row(check: str, target: str, comp: Comparison, tol: Tolerance) -> None:
            rows.append(
                make_row(
                    case=self,
                    seed=seed,
                    dtype=dtype,
                    device=device,
                    check=check,
                    target=target,
                    comparison=comp,
                    tol=tol,
                    shapes=shapes,
                    kind=kind,
                )
            )

        s = _scratch_sample(self.scheme, seed)
        t = _torch_sample(self.scheme, seed + 1)
        row("std", "weight", compare(s.std(), t.std(), STD_TOL), STD_TOL)
        mean_tol = _mean_tol(float(t.std()))
        row("mean", "weight", compare([s.mean(), t.mean()], [0.0, 0.0], mean_tol), mean_tol)
        row(
            "scale",
            "weight",
            compare(_scratch_scale(self.scheme, seed), _torch_scale(self.scheme, seed), SCALE_TOL),
            SCALE_TOL,
        )
        again_s = si.dense_init(self.scheme, FAN_IN, FAN_OUT, np.random.default_rng(seed))[0].ravel()
        row("same_seed", "scratch", compare(again_s, s[: again_s.size], EXACT), EXACT)
        again_t = _torch_sample(self.scheme, seed + 1)
        row("same_seed", "torch", compare(again_t, t, EXACT), EXACT)
        return rows


CASES = [InitCase(scheme) for scheme in si.INIT_SCHEMES]
