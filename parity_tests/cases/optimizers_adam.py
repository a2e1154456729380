"""Registry cases for chapter 7's Adam: scratch from first principles against ``torch.optim.Adam``.

An ``AdamCase`` gives both twins the same starting parameters and, at every step, the same random
gradients (spanning six orders of magnitude, as in ``optimizers_ch6``, so that epsilon's place and
the bias correction both show), runs ``step()`` on each, and compares by state key: the updated
parameters, the update itself (``p_before - p_after``: a relative error in the step that would
drown in the parameter's size shows here), ``exp_avg``, ``exp_avg_sq`` and ``step``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from parity_tests.cases.optimizers_ch6 import SHAPES, _draw_grad
from parity_tests.harness import RowLog, compare, np_dtype, tolerance_for
from scratch.module import Parameter

#: The state buffers compared by key on both twins (``torch.optim.Adam``'s names).
STATE_KEYS = ("exp_avg", "exp_avg_sq", "step")


@dataclass
class AdamCase:
    """Adam's parity over ``steps`` steps with shared random gradients, one option set per case.

    Args:
        options: keyword arguments of both ``Adam`` constructors (lr, betas, eps, weight_decay).
    """

    name: str
    options: dict[str, Any]
    steps: int = 10
    component: str = "Adam"
    stem: str = "optimizers"
    chapter: int = 7
    op_class: str = "elementwise"

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        dt = np_dtype(dtype)
        rng = np.random.default_rng(seed)
        tol = tolerance_for(dtype, self.op_class)
        start = [rng.standard_normal(s).astype(dt) for s in SHAPES]
        sp = [Parameter(a.copy()) for a in start]
        tp = [torch.nn.Parameter(torch.tensor(a, device=device)) for a in start]
        s_opt, t_opt = so.Adam(sp, **self.options), to.Adam(tp, **self.options)
        log = RowLog(self, seed, dtype, device, " ".join(str(s) for s in SHAPES))
        for k in range(1, self.steps + 1):
            grads = [_draw_grad(rng, s).astype(dt) for s in SHAPES]
            before = [p.data.copy() for p in sp]
            t_before = [q.detach().cpu().numpy().copy() for q in tp]
            for p, q, g in zip(sp, tp, grads, strict=True):
                p.grad = g.copy()
                q.grad = torch.tensor(g, device=device)
            s_opt.step()
            t_opt.step()
            t_after = [q.detach().cpu().numpy() for q in tp]
            pairs: dict[str, tuple[list[Any], list[Any]]] = {
                "parameters": ([p.data for p in sp], t_after),
                "update": (
                    [b - p.data for b, p in zip(before, sp, strict=True)],
                    [b - a for b, a in zip(t_before, t_after, strict=True)],
                ),
            }
            for key in STATE_KEYS:
                pairs[key] = (
                    [np.asarray(s_opt.state[p][key]) for p in sp],
                    [t_opt.state[q][key].detach().cpu().numpy() for q in tp],
                )
            for target, (a, b) in pairs.items():
                flat_a = np.concatenate([x.ravel() for x in a])
                flat_b = np.concatenate([x.ravel() for x in b])
                log.add(f"step_{k}", target, compare(flat_a, flat_b, tol), tol)
        return log.rows


CASES = [
    AdamCase("adam_defaults", {}),
    AdamCase("adam_book_lstm", {"lr": 1e-3, "weight_decay": 1e-5}),  # the chapter 7 LSTM's settings
    AdamCase("adam_weight_decay_0.1", {"lr": 0.01, "weight_decay": 0.1}),
    AdamCase("adam_betas_0.5_0.9_eps_1e-3", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3}),
]
