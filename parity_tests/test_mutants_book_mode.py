"""Self-test: the planted bugs around the book-mode options are caught by a check row, not a crash."""

import pytest

from parity_tests.mutants.book_mode import MUTANTS
from parity_tests.mutation import Mutant, run_mutant

pytestmark = pytest.mark.ch4


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_book_mode_mutant_is_caught_by_a_check(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught_by_a_check, f"{mutant.name}: {result.failing_rows} failing rows, {result.crashed} crashes"
