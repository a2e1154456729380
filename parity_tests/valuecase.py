"""Value cases: twins whose outputs are already gradients, compared value for value.

Some twins return derivatives themselves: chapter 1's ``*_deriv`` and ``*_backward`` functions,
chapter 2's ``*_gradients``. On the torch side autograd computed them, so the harness has nothing
left to differentiate; a ``ValueCase`` draws the inputs as ``OpCase`` does, calls both sides and
emits one ``forward`` row per named output. An output that only one side returns fails its row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from parity_tests.harness import Comparison, RowLog, Tolerance, compare, np_dtype, tolerance_for
from parity_tests.opcase import Array, InputSpec, dtype_failure

ScratchOutputs = Callable[[dict[str, Array]], Mapping[str, Array]]
TorchOutputs = Callable[[dict[str, torch.Tensor]], Mapping[str, torch.Tensor]]


@dataclass
class ValueCase:
    """A registry case comparing the named outputs of both twins, one ``forward`` row each.

    Args:
        name, component, stem, chapter, op_class, inputs: as ``OpCase``.
        scratch_outputs: ``inputs -> {output name: array}`` on the scratch side.
        torch_outputs: ``tensors -> {output name: tensor}`` on the torch side (same names).
        tolerances: per-dtype overrides, each a ``Tolerance`` with its own reason.
    """

    name: str
    component: str
    stem: str
    chapter: int
    op_class: str
    inputs: dict[str, InputSpec]
    scratch_outputs: ScratchOutputs
    torch_outputs: TorchOutputs
    tolerances: dict[str, Tolerance] = field(default_factory=dict)

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        """Draw the inputs, call both twins, compare every output either side returns."""
        dt = np_dtype(dtype)
        rng = np.random.default_rng(seed)
        inputs = {n: spec.draw(rng).astype(dt) for n, spec in self.inputs.items()}
        shapes = " ".join(f"{n}{tuple(a.shape)}" for n, a in inputs.items())
        tol = self.tolerances.get(dtype) or tolerance_for(dtype, self.op_class)
        out_s = self.scratch_outputs(inputs)
        out_t = self.torch_outputs({n: torch.tensor(a, device=device) for n, a in inputs.items()})
        log = RowLog(self, seed, dtype, device, shapes)
        for key in [*out_s, *(k for k in out_t if k not in out_s)]:
            if key not in out_t:
                comparison = Comparison.failure(f"the torch twin returned no {key!r}")
            elif key not in out_s:
                comparison = Comparison.failure(f"the scratch twin returned no {key!r}")
            else:
                reference = out_t[key].detach().cpu().numpy()
                comparison = dtype_failure(out_s[key], dt) or compare(out_s[key], reference, tol)
            log.add("forward", key, comparison, tol)
        return log.rows
