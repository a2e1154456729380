"""Specification of chapter 7's MNIST CNN and LSTM next-character model: every registry case
(operators and the short lockstep training runs) matches torch, the book's architecture and
state-dict keys, the carried state, clear errors for bad input, and the planted subtle bugs are
caught by the lockstep rows (and not before they are planted)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

import scratch.cnn7 as sc
import scratch.lstm7 as sl
import torch_ref.cnn7 as tc
import torch_ref.lstm7 as tl
from parity_tests.cases.lstm7 import NextCharData, small_text
from parity_tests.mutants.ch7_models import MUTANTS
from parity_tests.mutation import Mutant
from parity_tests.registry import Case, assert_case_passes, case_params, select
from parity_tests.trajectory import TrajectoryCase

pytestmark = pytest.mark.ch7


@pytest.mark.parametrize("case", case_params("cnn7") + case_params("lstm7"))
def test_chapter7_models_match_torch_float64(case: Case) -> None:
    assert_case_passes(case, "float64")


@pytest.mark.parametrize("case", case_params("cnn7") + case_params("lstm7"))
def test_chapter7_models_match_torch_float32(case: Case) -> None:
    assert_case_passes(case, "float32")


def test_cnn_has_the_books_architecture_in_both_twins() -> None:
    expected = {
        "conv1.weight": (14, 1, 5, 5),
        "conv1.bias": (14,),
        "conv2.weight": (7, 14, 5, 5),
        "conv2.bias": (7,),
        "dense1.weight": (32, 5488),
        "dense1.bias": (32,),
        "dense2.weight": (10, 32),
        "dense2.bias": (10,),
    }
    scratch = sc.MNISTConvNet(rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in scratch.state_dict().items()} == expected
    assert {k: tuple(v.shape) for k, v in tc.MNISTConvNet().state_dict().items()} == expected
    assert [d.p for d in scratch.dropout_layers()] == pytest.approx([0.2] * 3)  # keep 0.8, inverted
    assert [d.p for d in tc.MNISTConvNet().dropout_layers()] == pytest.approx([0.2] * 3)
    bound = 1 / np.sqrt(5488)  # PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(scratch.dense1.state_dict()["weight"]).max() <= bound


def test_lstm_carries_the_detached_batch_mean_of_h_and_c() -> None:
    rng = np.random.default_rng(3)
    scratch, twin = sl.NextCharLSTM(5, rng=rng), tl.NextCharLSTM(5).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in scratch.state_dict().items()})
    x = rng.standard_normal((4, 3, 5))
    logits = scratch.forward(x)
    assert logits.shape == (4, 5, 3)  # (batch, vocab, time), for nn.CrossEntropyLoss
    twin(torch.tensor(x))
    assert twin.state is not None and scratch.state is not None
    for ours, theirs in zip(scratch.state, twin.state, strict=True):
        assert ours.shape == (1, 1, 5) and not theirs.requires_grad
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-14)
    scratch.reset_state()
    assert scratch.state is None


def test_next_char_data_splits_80_20_and_cuts_disjoint_validation_chunks() -> None:
    text = small_text()
    data = NextCharData.from_text(text, batch_size=4, sequence_length=12)
    cut = int(len(text) * 0.8)
    assert len(data.windows.codes) == cut
    chunks = data.chunk_inputs
    assert chunks.shape == ((len(text) - cut - 1) // 12, 12)
    validation = data.windows.vocabulary.encode(text[cut:])
    np.testing.assert_array_equal(chunks.ravel(), validation[: chunks.size])  # contiguous, no overlap
    np.testing.assert_array_equal(data.chunk_targets.ravel(), validation[1 : chunks.size + 1])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: sc.MNISTConvNet(keep=0.0), "keep"),
        (lambda: tc.MNISTConvNet(keep=1.5), "keep"),
        (lambda: sc.MNISTConvNet(6).forward(np.zeros((2, 1, 5, 6))), "MNISTConvNet input"),
        (lambda: sl.NextCharLSTM(0), "vocab_size"),
        (lambda: tl.NextCharLSTM(4)(torch.zeros(2, 3, 5)), "NextCharLSTM input"),
        (lambda: sl.CrossEntropyLoss().forward(np.zeros((2, 3)), np.zeros(2, dtype=np.int64)), "(N, V, L)"),
    ],
)
def test_bad_input_is_a_clear_error(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_planted_subtle_bug_is_caught_by_the_lockstep_rows(mutant: Mutant) -> None:
    (case,) = select(list(mutant.components))
    assert isinstance(case, TrajectoryCase)
    clean = case.train(free=False).rows
    assert all(r["passed"] for r in clean)  # the baseline: the unmutated run passes
    with mock.patch.object(mutant.target, mutant.attribute, mutant.replacement):
        rows = case.train(free=False).rows
    caught = [r for r in rows if r["check"] == "lockstep" and not r["passed"]]
    assert caught, f"{mutant.name} survived every lockstep row"
    assert max(r["budget_used"] for r in caught) > 10  # clearly out of the rounding band
