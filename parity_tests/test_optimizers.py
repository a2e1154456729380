"""Specification: the scratch SGD step equals ``torch.optim.SGD``'s, including lr changes between steps."""

import numpy as np
import pytest
import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from scratch.module import Parameter

pytestmark = pytest.mark.ch3

SHAPES = [(4, 3), (4,), (2, 5)]


def test_sgd_steps_match_torch_optim_sgd() -> None:
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s) for s in SHAPES]
    sp = [Parameter(a.copy()) for a in start]
    tp = [torch.nn.Parameter(torch.tensor(a)) for a in start]
    s_opt, t_opt = so.SGD(sp, lr=0.05), to.SGD(tp, lr=0.05)
    for step in range(4):
        for p, q in zip(sp, tp, strict=True):
            g = rng.standard_normal(p.shape)
            p.grad, q.grad = g, torch.tensor(g)
        if step == 2:  # a schedule changes the lr between steps through param_groups, on both twins
            s_opt.param_groups[0]["lr"] = t_opt.param_groups[0]["lr"] = 0.01
        s_opt.step()
        t_opt.step()
        for p, q in zip(sp, tp, strict=True):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-15, atol=1e-15)


def test_sgd_moves_against_the_gradient_by_lr() -> None:
    p = Parameter(np.array([1.0, -2.0]))
    p.grad = np.array([0.5, -1.0])
    so.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, np.array([1.0 - 0.05, -2.0 + 0.1]))


def test_sgd_skips_parameters_without_grad_and_zero_grad_clears() -> None:
    p, q = Parameter(np.ones(3)), Parameter(np.ones(2))
    p.grad = np.ones(3)
    opt = so.SGD([p, q], lr=0.5)
    opt.step()
    np.testing.assert_array_equal(q.data, np.ones(2))
    opt.zero_grad()
    assert p.grad is None


def test_sgd_updates_in_place_so_layers_see_the_step() -> None:
    data = np.zeros(2)
    p = Parameter(data)
    p.grad = np.ones(2)
    so.SGD([p], lr=1.0).step()
    assert p.data is data


@pytest.mark.parametrize("lr", [0.0, -0.1, "0.1", float("nan"), float("inf"), True])
def test_sgd_rejects_bad_learning_rate(lr: object) -> None:
    with pytest.raises(ValueError, match="learning rate"):
        so.SGD([Parameter(np.zeros(1))], lr=lr)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="learning rate"):
        to.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)  # type: ignore[arg-type]


def test_scratch_optimizer_rejects_empty_or_foreign_parameters() -> None:
    with pytest.raises(ValueError, match="empty"):
        so.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Parameter"):
        so.SGD([np.zeros(2)], lr=0.1)  # type: ignore[list-item]
