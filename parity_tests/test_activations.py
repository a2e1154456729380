"""Specification: every activation matches torch (float64 gate, float32), plus ReLU at 0 and bad input."""

import numpy as np
import pytest
import torch

import scratch.activations as sa
import torch_ref.activations as ta


@pytest.mark.ch4
def test_relu_gradient_at_zero_is_zero_like_torch() -> None:
    x = np.array([[-1.5, 0.0, 0.0, 2.0]])
    g = np.array([[0.3, -0.7, 1.1, 0.9]])
    relu = sa.ReLU()
    relu.forward(x)
    t = torch.tensor(x, requires_grad=True)
    ta.ReLU()(t).backward(torch.tensor(g))
    assert t.grad is not None
    np.testing.assert_array_equal(relu.backward(g), t.grad.numpy())
    np.testing.assert_array_equal(relu.backward(g)[0, 1:3], [0.0, 0.0])


@pytest.mark.ch4
def test_tanh_saturates_without_overflow() -> None:
    x = np.array([[-800.0, 800.0]])
    tanh = sa.Tanh()
    np.testing.assert_array_equal(tanh.forward(x), [[-1.0, 1.0]])
    np.testing.assert_array_equal(tanh.backward(np.ones_like(x)), [[0.0, 0.0]])


@pytest.mark.ch4
@pytest.mark.parametrize("name", ["Tanh", "ReLU"])
def test_activation_rejects_bad_input(name: str) -> None:
    op = getattr(sa, name)()
    with pytest.raises(TypeError, match="floating"):
        op.forward(np.array([[1, 2]]))
    with pytest.raises(ValueError, match="NaN"):
        op.forward(np.array([[np.nan, 1.0]]))
    op.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="grad_output has shape"):
        op.backward(np.zeros((3, 2)))
