"""Specification: the harness catches every planted recurrent bug (book bugs 3 and 4 among them)."""

import pytest

from parity_tests.mutants.rnn import MUTANTS
from parity_tests.mutation import Mutant, run_mutant


@pytest.mark.ch6
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_rnn_mutant_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught, f"{mutant.name} survived {result.total_rows} rows"
