"""Specification: SoftmaxCrossEntropy matches F.cross_entropy; the book's variant differs in value only."""

import numpy as np
import pytest
import torch

import scratch.losses as sL
import torch_ref.losses as tL

pytestmark = pytest.mark.ch4


def _logits_and_onehot(seed: int, n: int = 6, c: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * 2.0, np.eye(c)[rng.integers(0, c, n)]


def test_one_hot_rows_and_class_indices_give_the_same_loss() -> None:
    x, y = _logits_and_onehot(1)
    a, b = sL.SoftmaxCrossEntropy(), sL.SoftmaxCrossEntropy()
    assert a.forward(x, y) == b.forward(x, y.argmax(axis=1))
    np.testing.assert_array_equal(a.backward(), b.backward())


def test_large_logits_do_not_overflow() -> None:
    x, y = _logits_and_onehot(2)
    loss = sL.SoftmaxCrossEntropy()
    reference = loss.forward(x, y)
    shifted = loss.forward(x + 1e4, y)  # softmax is shift-invariant; exp(1e4) would overflow
    assert np.isfinite(shifted)
    assert shifted == pytest.approx(reference, rel=1e-9)  # x + 1e4 rounds x at ~2e-12


def _numeric_grad(f: object, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        grad[i] = (f(x + e) - f(x - e)) / (2 * eps)  # type: ignore[operator]
    return grad


def test_book_gradient_is_the_cross_entropy_gradient_not_its_own() -> None:
    x, y = _logits_and_onehot(3)
    book, standard = sL.SoftmaxCrossEntropy(variant="book"), sL.SoftmaxCrossEntropy()
    book.forward(x, y)
    grad = book.backward()
    ce_grad = _numeric_grad(lambda z: standard.forward(z, y), x)
    own_grad = _numeric_grad(lambda z: book.forward(z, y), x)
    # central differences with eps=1e-6 on O(1) values: error ~1e-10
    np.testing.assert_allclose(grad, ce_grad, atol=1e-8)
    assert np.abs(grad - own_grad).max() > 1e-3


def test_book_value_exceeds_cross_entropy_by_the_binary_terms() -> None:
    x, y = _logits_and_onehot(4)
    book_value = sL.SoftmaxCrossEntropy(variant="book").forward(x, y)
    ce_value = sL.SoftmaxCrossEntropy().forward(x, y)
    p = torch.softmax(torch.tensor(x), dim=1).numpy()
    extra = -np.sum((1.0 - y) * np.log(1.0 - p)) / x.shape[0]
    assert book_value - ce_value == pytest.approx(extra, rel=1e-10)
    assert extra > 0.1 * ce_value


def test_sum_reduction_is_batch_size_times_mean() -> None:
    x, y = _logits_and_onehot(5)
    mean = sL.SoftmaxCrossEntropy("mean").forward(x, y)
    total = sL.SoftmaxCrossEntropy("sum").forward(x, y)
    assert total == pytest.approx(x.shape[0] * mean, rel=1e-14)


def test_bad_input_is_rejected_by_both_twins() -> None:
    x, y = _logits_and_onehot(6)
    for bad, match in [(y[:, :3], "target has shape"), (np.array([0, 1, 9, 0, 0, 0]), r"in \[0, 5\)")]:
        with pytest.raises(ValueError, match=match):
            sL.SoftmaxCrossEntropy().forward(x, bad)
        with pytest.raises(ValueError, match=match):
            tL.SoftmaxCrossEntropy()(torch.tensor(x), torch.tensor(bad))
    with pytest.raises(ValueError, match="expected \\(6,\\)"):
        sL.SoftmaxCrossEntropy().forward(x, np.zeros((6, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"\(N, C\) logits"):
        sL.SoftmaxCrossEntropy().forward(x[0], y[0])
    with pytest.raises(TypeError, match="floating"):
        sL.SoftmaxCrossEntropy().forward(x.astype(np.int64), y)
    with pytest.raises(ValueError, match="NaN"):
        sL.SoftmaxCrossEntropy().forward(np.full_like(x, np.nan), y)
    for twin in (sL.SoftmaxCrossEntropy, tL.SoftmaxCrossEntropy):
        with pytest.raises(ValueError, match="unknown reduction 'batchmean'"):
            twin("batchmean")
        with pytest.raises(ValueError, match="unknown SoftmaxCrossEntropy variant 'clipped'"):
            twin(variant="clipped")
