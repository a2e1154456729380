"""Specification of chapter 5's pooling: ``MaxPool2d`` and ``AvgPool2d`` against torch, and the
max-pool tie rule pinned on hand-made windows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import scratch.pooling as sp

pytestmark = pytest.mark.ch5


def _max_pool_grad(x: np.ndarray, k: int, stride: int, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Input gradient of max pooling from both twins."""
    pool = sp.MaxPool2d(k, stride)
    pool.forward(x)
    ours = pool.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, k, stride).backward(torch.tensor(g))
    assert xt.grad is not None
    return ours, xt.grad.numpy()


def test_maxpool_tie_sends_gradient_to_first_max_in_row_major_order() -> None:
    # one 2x2 window, every element tied: the whole gradient goes to the top-left element
    x = np.ones((1, 1, 2, 2))
    ours, ref = _max_pool_grad(x, 2, 2, np.full((1, 1, 1, 1), 3.0))
    expected = np.array([[[[3.0, 0.0], [0.0, 0.0]]]])
    np.testing.assert_array_equal(ref, expected)  # PyTorch's convention, checked on this version
    np.testing.assert_array_equal(ours, expected)
    # tie on the anti-diagonal: the top-right element comes first in row-major order
    x = np.array([[[[0.0, 2.0], [2.0, 0.0]]]])
    ours, ref = _max_pool_grad(x, 2, 2, np.ones((1, 1, 1, 1)))
    expected = np.array([[[[0.0, 1.0], [0.0, 0.0]]]])
    np.testing.assert_array_equal(ref, expected)
    np.testing.assert_array_equal(ours, expected)


def test_maxpool_ties_in_overlapping_windows_accumulate_like_torch() -> None:
    x = np.array([[[[0.0, 1.0, 2.0], [2.0, 2.0, 0.0], [1.0, 2.0, 2.0]]]])
    g = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    ours, ref = _max_pool_grad(x, 2, 1, g)
    # windows (row, col) pick their first max: (1,0), (0,2), (1,0), (1,1)
    expected = np.array([[[[0.0, 0.0, 10.0], [101.0, 1000.0, 0.0], [0.0, 0.0, 0.0]]]])
    np.testing.assert_array_equal(ref, expected)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("cls", [sp.MaxPool2d, sp.AvgPool2d])
@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (np.zeros((2, 3, 4)), ValueError, "input has shape"),
        (np.zeros((0, 1, 4, 4)), ValueError, "empty batch"),
        (np.zeros((1, 1, 4, 4), dtype=np.int64), TypeError, "floating dtype"),
        (np.full((1, 1, 4, 4), np.inf), ValueError, "infinite"),
        (np.zeros((1, 1, 1, 1)), ValueError, "smaller than the window"),
    ],
)
def test_pooling_rejects_bad_input(cls: Any, x: np.ndarray, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        cls(2).forward(x)


@pytest.mark.parametrize("cls", [sp.MaxPool2d, sp.AvgPool2d])
def test_pooling_rejects_bad_options(cls: Any) -> None:
    with pytest.raises(ValueError, match="kernel_size and stride"):
        cls(0)
    with pytest.raises(ValueError, match="padding"):
        cls(2, 2, 2)
    pool = cls(2)
    out = pool.forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="grad_output has shape"):
        pool.backward(np.zeros((*out.shape, 1)))
