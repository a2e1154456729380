"""Self-test: every planted chapter 4 bug (ReLU, softmax, momentum, dropout, decay, Glorot) is caught."""

import pytest

from parity_tests.mutants.ch4 import MUTANTS
from parity_tests.mutation import Mutant, run_mutant

pytestmark = pytest.mark.ch4


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_chapter4_mutant_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught, f"{mutant.name} survived {result.total_rows} rows"
