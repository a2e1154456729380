"""Registry cases for the chapter 6 optimizers: AdaGrad (both forms) and gradient clipping.

An ``UpdateCase`` gives both twins the same starting parameters and, at every step, the same
gradients, runs one update (clipping, then optionally an optimizer step) on each side, and compares
the gradients after clipping and the parameters after the step. Gradients span six orders of
magnitude (``g = z * 10^u``, ``u ~ U(-6, 0.5)``) so that epsilon placement matters and so that
some elements exceed the book's clip value of 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from parity_tests.harness import compare, make_row, np_dtype, tolerance_for
from scratch.module import Parameter

Step = Callable[[], object]
SHAPES = ((5, 4), (4,), (3, 5))


def _draw_grad(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape) * 10.0 ** rng.uniform(-6.0, 0.5, shape)


@dataclass
class UpdateCase:
    """Parity of an update rule over ``steps`` steps with shared random gradients.

    Args:
        build_scratch: scratch ``Parameter`` list -> ``step()`` (reads and may rewrite ``p.grad``).
        build_torch: ``nn.Parameter`` list -> ``step()``.
    """

    name: str
    component: str
    build_scratch: Callable[[list[Parameter]], Step]
    build_torch: Callable[[list[torch.nn.Parameter]], Step]
    steps: int = 6
    op_class: str = "elementwise"
    stem: str = "optimizers"
    chapter: int = 6

    def run(self, dtype: str = "float64", device: str = "cpu", seed: int = 0) -> list[dict[str, Any]]:
        dt = np_dtype(dtype)
        rng = np.random.default_rng(seed)
        tol = tolerance_for(dtype, self.op_class)
        start = [rng.standard_normal(s).astype(dt) for s in SHAPES]
        sp = [Parameter(a.copy()) for a in start]
        tp = [torch.nn.Parameter(torch.tensor(a, device=device)) for a in start]
        s_step, t_step = self.build_scratch(sp), self.build_torch(tp)
        shapes = " ".join(str(s) for s in SHAPES)
        rows = []
        for k in range(1, self.steps + 1):
            grads = [_draw_grad(rng, s).astype(dt) for s in SHAPES]
            for p, q, g in zip(sp, tp, grads, strict=True):
                p.grad = g.copy()
                q.grad = torch.tensor(g, device=device)
            s_step()
            t_step()
            # A rule that leaves the gradients alone hands both sides' grad rows the arrays they
            # were given: those rows compare a thing with itself (sanity, out of the pass totals).
            untouched = all(
                np.array_equal(p.grad, g) and np.array_equal(q.grad.detach().cpu().numpy(), g)
                for p, q, g in zip(sp, tp, grads, strict=True)
                if p.grad is not None and q.grad is not None
            )
            pairs = {
                "grad": (
                    [p.grad.ravel() for p in sp if p.grad is not None],
                    [q.grad.detach().cpu().numpy().ravel() for q in tp if q.grad is not None],
                ),
                "parameters": ([p.data.ravel() for p in sp], [q.detach().cpu().numpy().ravel() for q in tp]),
            }
            for target, (a, b) in pairs.items():
                flat_a, flat_b = np.concatenate(a), np.concatenate(b)
                rows.append(
                    make_row(
                        case=self,
                        seed=seed,
                        dtype=dtype,
                        device=device,
                        check=f"step_{k}",
                        target=target,
                        comparison=compare(flat_a, flat_b, tol),
                        tol=tol,
                        shapes=shapes,
                        kind="sanity" if target == "grad" and untouched else "parity",
                    )
                )
        return rows


def _adagrad(form: str, lr: float) -> UpdateCase:
    def scratch(params: list[Parameter]) -> Step:
        return so.AdaGrad(params, lr=lr, form=form).step

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        return to.AdaGrad(params, lr=lr, form=form).step

    return UpdateCase(f"adagrad_{form}_lr{lr:g}", "AdaGrad", scratch, torch_side)


def _clip_value(clip_value: float) -> UpdateCase:
    def scratch(params: list[Parameter]) -> Step:
        return lambda: so.clip_grad_value_(params, clip_value)

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        return lambda: to.clip_grad_value_(params, clip_value)

    return UpdateCase(f"clip_grad_value_{clip_value:g}", "clip_grad_value_", scratch, torch_side, steps=3)


def _clip_norm(max_norm: float) -> UpdateCase:
    def scratch(params: list[Parameter]) -> Step:
        return lambda: so.clip_grad_norm_(params, max_norm)

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        return lambda: to.clip_grad_norm_(params, max_norm)

    # the norm is a reduction over every gradient element before the elementwise scaling
    return UpdateCase(f"clip_grad_norm_{max_norm:g}", "clip_grad_norm_", scratch, torch_side, 3, "reduction")


def _clip_then_adagrad(form: str) -> UpdateCase:
    """The book's chapter 6 update: clip every element to [-2, 2], then an AdaGrad step."""

    def scratch(params: list[Parameter]) -> Step:
        opt = so.AdaGrad(params, lr=0.01, form=form)

        def step() -> None:
            so.clip_grad_value_(params, 2.0)
            opt.step()

        return step

    def torch_side(params: list[torch.nn.Parameter]) -> Step:
        opt = to.AdaGrad(params, lr=0.01, form=form)

        def step() -> None:
            to.clip_grad_value_(params, 2.0)
            opt.step()

        return step

    return UpdateCase(f"clip2_adagrad_{form}", "AdaGrad", scratch, torch_side)


CASES = [
    _adagrad("torch", 0.01),
    _adagrad("book", 0.01),
    _adagrad("torch", 0.5),
    _clip_value(2.0),
    _clip_value(0.1),
    _clip_norm(1.0),
    _clip_norm(100.0),
    _clip_then_adagrad("book"),
]
