"""Self-test of the chapter 5 cases: why batch sizes above one are needed (the catches are in ``test_mutants``)."""

from __future__ import annotations

import pytest

import parity_tests.mutants.conv as conv_mutants
import parity_tests.mutants.pooling as pooling_mutants
from parity_tests.registry import assert_case_passes, select

pytestmark = pytest.mark.ch5

MUTANTS = conv_mutants.MUTANTS + pooling_mutants.MUTANTS


def test_book_weight_gradient_bug_is_invisible_at_batch_one() -> None:
    # the book's batched weight gradient is right for N == 1, which is why batch > 1 cases exist
    mutant = next(m for m in MUTANTS if m.name == "conv_weight_grad_right_only_for_batch_1")
    (batch_one,) = select(["conv2d_n1_c2to3_6x6_k3_s1_same"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mutant.target, mutant.attribute, mutant.replacement)
        assert_case_passes(batch_one, "float64")
