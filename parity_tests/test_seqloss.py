"""Specification of the chapter 6 sequence softmax cross-entropy (mean by default, the book's sum)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import scratch.losses as sl
import torch_ref.losses as tl
from parity_tests.cases import seqloss

pytestmark = pytest.mark.ch6

CASES = [pytest.param(c, id=c.name) for c in seqloss.CASES]


def _batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    logits = rng.standard_normal((2, 3, 4))
    target = np.eye(4)[rng.integers(0, 4, (2, 3))]
    return logits, target


def test_uniform_logits_cost_log_vocab_per_position() -> None:
    target = np.eye(5)[np.arange(6).reshape(2, 3) % 5]
    assert sl.SequenceSoftmaxCrossEntropy().forward(np.zeros((2, 3, 5)), target) == pytest.approx(np.log(5))
    assert sl.SequenceSoftmaxCrossEntropy("sum").forward(np.zeros((2, 3, 5)), target) == pytest.approx(6 * np.log(5))


def test_sum_gradient_is_softmax_minus_target() -> None:
    logits, target = _batch(np.random.default_rng(1))
    loss = sl.SequenceSoftmaxCrossEntropy("sum")
    loss.forward(logits, target)
    softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(loss.backward(), softmax - target, rtol=1e-12, atol=1e-15)


def test_large_logits_do_not_overflow() -> None:
    logits = np.array([[[1000.0, 0.0], [0.0, -1000.0]]])
    target = np.array([[[1.0, 0.0], [1.0, 0.0]]])
    value = sl.SequenceSoftmaxCrossEntropy().forward(logits, target)
    assert np.isfinite(value) and value == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("side", ["scratch", "torch"])
def test_sequence_cross_entropy_rejects_bad_input(side: str) -> None:
    logits, target = _batch(np.random.default_rng(0))
    if side == "scratch":
        make, conv = sl.SequenceSoftmaxCrossEntropy, (lambda a: a)
    else:
        make, conv = tl.SequenceSoftmaxCrossEntropy, torch.tensor  # type: ignore[assignment]
    with pytest.raises(ValueError, match="unknown reduction"):
        make("batchmean")
    loss = make()
    with pytest.raises(ValueError, match=r"expected non-empty \(N, L, V\)"):
        loss(conv(logits[0]), conv(target[0]))
    with pytest.raises(ValueError, match="target has shape"):
        loss(conv(logits), conv(target[:, :2]))
    with pytest.raises(TypeError):
        loss(conv(logits), conv(target.astype(np.int64)))
    if side == "scratch":
        with pytest.raises(ValueError, match="NaN"):
            loss(np.full_like(logits, np.nan), target)


def test_backward_before_forward_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="backward called before forward"):
        sl.SequenceSoftmaxCrossEntropy().backward()


def test_index_targets_give_the_one_hot_loss_and_gradient() -> None:
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((2, 5, 4))
    idx = rng.integers(0, 4, (2, 5))
    a, b = sl.SequenceSoftmaxCrossEntropy("sum"), sl.SequenceSoftmaxCrossEntropy("sum")
    assert a.forward(logits, idx) == pytest.approx(b.forward(logits, np.eye(4)[idx]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14)
    assert a.backward().shape == (2, 5, 4)


def test_book_variant_reports_a_larger_value_with_the_same_gradient() -> None:
    logits, target = _batch(np.random.default_rng(4))
    standard, book = sl.SequenceSoftmaxCrossEntropy("sum"), sl.SequenceSoftmaxCrossEntropy("sum", variant="book")
    assert book.forward(logits, target) > standard.forward(logits, target)
    np.testing.assert_allclose(book.backward(), standard.backward(), atol=1e-8)
