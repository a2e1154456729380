"""Specification: SGDMomentum (both forms) and learning-rate decay match torch.optim, and the two
momentum forms agree at a constant learning rate but not under decay."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from parity_tests.registry import all_cases
from scratch.module import Parameter

pytestmark = pytest.mark.ch4

CH4_OPTIMIZER_CASES = [pytest.param(c, id=c.name) for c in all_cases() if c.stem == "optimizers" and c.chapter == 4]


def _run_scratch(form: str, schedule: Callable[[so.Optimizer], Any] | None, steps: int = 20) -> np.ndarray:
    rng = np.random.default_rng(0)
    p = Parameter(rng.standard_normal(50))
    opt = so.SGDMomentum([p], lr=0.2, momentum=0.9, form=form)
    sched = schedule(opt) if schedule else None
    path = []
    for _ in range(steps):
        p.grad = rng.standard_normal(50)
        opt.step()
        if sched is not None:
            sched.step()
        path.append(p.data.copy())
    return np.array(path)


def test_momentum_forms_agree_at_constant_learning_rate() -> None:
    torch_form, book_form = _run_scratch("torch", None), _run_scratch("book", None)
    # v = lr * b exactly in real arithmetic; only rounding (a few ulps per step) separates them
    np.testing.assert_allclose(book_form, torch_form, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("decay", [so.LinearDecay, so.ExponentialDecay])
def test_momentum_forms_differ_under_decay(decay: type[so.LRScheduler]) -> None:
    torch_form = _run_scratch("torch", lambda opt: decay(opt, 0.05, 20))
    book_form = _run_scratch("book", lambda opt: decay(opt, 0.05, 20))
    assert np.abs(book_form - torch_form).max() > 1e-2


def test_momentum_forms_differ_under_decay_in_torch_too() -> None:
    paths = {}
    for form in ("torch", "book"):
        gen = torch.Generator().manual_seed(0)
        p = torch.nn.Parameter(torch.randn(50, generator=gen, dtype=torch.float64))
        opt = to.SGDMomentum([p], lr=0.2, form=form)
        sched = to.ExponentialDecay(opt, 0.05, 20)
        for _ in range(20):
            p.grad = torch.randn(50, generator=gen, dtype=torch.float64)
            opt.step()
            sched.step()
        paths[form] = p.detach().numpy().copy()
    assert np.abs(paths["torch"] - paths["book"]).max() > 1e-2


@pytest.mark.parametrize(
    ("s_cls", "t_cls", "closed_form"),
    [
        (so.LinearDecay, to.LinearDecay, lambda e: 0.15 - e * (0.15 - 0.05) / 49),
        (so.ExponentialDecay, to.ExponentialDecay, lambda e: 0.15 * (0.05 / 0.15) ** (e / 49)),
    ],
)
def test_each_epoch_uses_the_books_learning_rate_on_both_twins(
    s_cls: type[so.LRScheduler], t_cls: Any, closed_form: Callable[[int], float]
) -> None:
    s_opt = so.SGD([Parameter(np.zeros(2))], lr=0.15)
    t_opt = to.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.15)
    s_sched, t_sched = s_cls(s_opt, 0.05, 50), t_cls(t_opt, 0.05, 50)
    s_lrs, t_lrs = [], []
    for _ in range(50):
        s_lrs.append(s_opt.param_groups[0]["lr"])
        t_lrs.append(t_opt.param_groups[0]["lr"])
        t_opt.step()  # torch expects optimizer.step() before scheduler.step()
        s_sched.step()
        t_sched.step()
    expected = [closed_form(e) for e in range(50)]
    # recursive updates (the book's lr -= d, lr *= r) vs the closed form: ~50 roundings
    np.testing.assert_allclose(s_lrs, expected, rtol=1e-13)
    np.testing.assert_allclose(t_lrs, expected, rtol=1e-13)
    assert s_lrs[0] == 0.15 and s_lrs[-1] == pytest.approx(0.05, rel=1e-13)


def test_linear_decay_holds_at_the_final_rate_past_the_schedule_like_linear_lr() -> None:
    """A run longer than the schedule keeps lrF (torch's LinearLR after total_iters), never < 0."""
    s_opt = so.SGD([Parameter(np.zeros(2))], lr=0.15)
    t_opt = to.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.15)
    s_sched, t_sched = so.LinearDecay(s_opt, 0.05, 3), to.LinearDecay(t_opt, 0.05, 3)
    s_lrs, t_lrs = [], []
    for _ in range(6):
        s_lrs.append(s_opt.param_groups[0]["lr"])
        t_lrs.append(t_opt.param_groups[0]["lr"])
        t_opt.step()
        s_sched.step()
        t_sched.step()
    np.testing.assert_allclose(s_lrs, [0.15, 0.1, 0.05, 0.05, 0.05, 0.05], rtol=1e-14)
    np.testing.assert_allclose(t_lrs, s_lrs, rtol=1e-14)


def test_bad_options_are_rejected_by_both_twins() -> None:
    for mod, param in ((so, Parameter(np.zeros(2))), (to, torch.nn.Parameter(torch.zeros(2)))):
        with pytest.raises(ValueError, match="unknown SGDMomentum form 'nesterov'"):
            mod.SGDMomentum([param], lr=0.1, form="nesterov")
        with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
            mod.SGDMomentum([param], lr=0.1, momentum=1.5)
        with pytest.raises(ValueError, match="learning rate must be a positive number"):
            mod.SGDMomentum([param], lr=-0.1)
        opt = mod.SGD([param], lr=0.1)
        for decay in (mod.LinearDecay, mod.ExponentialDecay):
            with pytest.raises(ValueError, match="epochs >= 2"):
                decay(opt, 0.05, 1)
            with pytest.raises(ValueError, match="final_lr must be positive"):
                decay(opt, 0.0, 10)
