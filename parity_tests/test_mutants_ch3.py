"""Self-test: every planted chapter 3 bug (loss, SGD, operations, sigmoid, trainer) is caught."""

import pytest

from parity_tests.mutants.ch3 import MUTANTS
from parity_tests.mutation import Mutant, run_mutant

pytestmark = pytest.mark.ch3


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_chapter3_mutant_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught, f"{mutant.name} survived {result.total_rows} rows"
    assert result.caught_by_a_check, f"{mutant.name} was caught only by a crash: {result.evidence}"
