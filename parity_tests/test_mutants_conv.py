"""Self-test of the chapter 5 cases: every planted conv and pooling bug is caught."""

from __future__ import annotations

import pytest

import parity_tests.mutants.conv as conv_mutants
import parity_tests.mutants.pooling as pooling_mutants
from parity_tests.mutation import Mutant, run_mutant
from parity_tests.registry import assert_case_passes, select

pytestmark = pytest.mark.ch5

MUTANTS = conv_mutants.MUTANTS + pooling_mutants.MUTANTS


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_conv_and_pooling_mutant_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught, f"{mutant.name} survived {result.total_rows} rows"


def test_book_weight_gradient_bug_is_invisible_at_batch_one() -> None:
    # the book's batched weight gradient is right for N == 1, which is why batch > 1 cases exist
    mutant = next(m for m in MUTANTS if m.name == "conv_weight_grad_right_only_for_batch_1")
    (batch_one,) = select(["conv2d_n1_c2to3_6x6_k3_s1_same"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mutant.target, mutant.attribute, mutant.replacement)
        assert_case_passes(batch_one, "float64")
