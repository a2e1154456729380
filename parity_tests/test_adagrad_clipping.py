"""Specification of the chapter 6 optimizers: AdaGrad (PyTorch's and the book's form) and clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratch.optimizers as so
import torch_ref.optimizers as to
from parity_tests.cases import optimizers_ch6
from scratch.layers import Dense
from scratch.module import Parameter

pytestmark = pytest.mark.ch6

CASES = [pytest.param(c, id=c.name) for c in optimizers_ch6.CASES]


def _param(values: list[float], grad: list[float]) -> Parameter:
    p = Parameter(np.array(values))
    p.grad = np.array(grad)
    return p


def test_adagrad_torch_form_first_step_moves_each_element_by_lr() -> None:
    # s = g^2 after one step, so the step is lr * g / (|g| + eps): lr in the direction of -g.
    p = _param([1.0, 1.0], [3.0, -0.5])
    so.AdaGrad([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.9, 1.1], rtol=1e-9)


def test_adagrad_book_form_accumulates_epsilon_inside_the_root() -> None:
    # two steps with g = 1e-4: s = 2 * (1e-7 + 1e-8), so the second step is lr * 1e-4 / sqrt(s)
    p = _param([0.0], [1e-4])
    opt = so.AdaGrad([p], lr=1.0, form="book")
    opt.step()
    first = -p.data.copy()
    p.grad = np.array([1e-4])
    opt.step()
    np.testing.assert_allclose(first, [1e-4 / np.sqrt(1.1e-7)], rtol=1e-12)
    np.testing.assert_allclose(-p.data - first, [1e-4 / np.sqrt(2.2e-7)], rtol=1e-12)


def test_adagrad_forms_differ_for_small_gradients() -> None:
    a, b = _param([0.0], [1e-6]), _param([0.0], [1e-6])
    so.AdaGrad([a], lr=1.0).step()
    so.AdaGrad([b], lr=1.0, form="book").step()
    assert abs(a.data[0]) > 100 * abs(b.data[0])


def test_clip_grad_value_bounds_every_element_of_a_module() -> None:
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    layer.forward(np.ones((4, 3)))
    layer.backward(np.full((4, 2), 10.0))
    so.clip_grad_value_(layer, 2.0)
    grads = layer.grads
    assert set(grads) == {"weight", "bias"}
    for g in grads.values():
        assert np.array_equal(g, np.full_like(g, 2.0))


def test_clip_grad_norm_rescales_to_max_norm_and_returns_the_old_norm() -> None:
    p, q = _param([0.0, 0.0], [3.0, 0.0]), _param([0.0], [4.0])
    total = so.clip_grad_norm_([p, q], 1.0)
    assert total == pytest.approx(5.0)
    assert p.grad is not None and q.grad is not None
    assert np.hypot(np.linalg.norm(p.grad), q.grad[0]) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(p.grad / q.grad[0], [0.75, 0.0])


def test_clip_grad_norm_leaves_small_gradients_alone() -> None:
    p = _param([0.0], [0.5])
    so.clip_grad_norm_([p], 1.0)
    assert p.grad is not None and p.grad[0] == 0.5


@pytest.mark.parametrize("module", [so, to])
def test_adagrad_rejects_bad_options(module: object) -> None:
    params = [Parameter(np.zeros(2))] if module is so else [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="unknown AdaGrad form"):
        module.AdaGrad(params, form="keras")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="learning rate"):
        module.AdaGrad(params, lr=0.0)  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        module.AdaGrad(params, eps=-1.0)  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        module.AdaGrad(params, eps=float("nan"))  # type: ignore[attr-defined]


def test_clipping_rejects_bad_arguments() -> None:
    p = _param([0.0], [1.0])
    with pytest.raises(ValueError, match="clip_value must be positive"):
        so.clip_grad_value_([p], 0.0)
    with pytest.raises(ValueError, match="max_norm must be positive"):
        so.clip_grad_norm_([p], -1.0)
    with pytest.raises(TypeError, match="scratch Parameters"):
        so.clip_grad_value_([np.zeros(2)], 2.0)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="clip_value must be positive"):
        so.clip_grad_value_([p], float("nan"))
    with pytest.raises(TypeError, match="clip_value must be a number"):
        so.clip_grad_value_([p], "2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_norm must be a number"):
        so.clip_grad_norm_([p], None)  # type: ignore[arg-type]
