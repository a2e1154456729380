"""Self-test: the harness catches every planted bug in the chapter 6 training pieces."""

from __future__ import annotations

import pytest

from parity_tests.mutants.ch6_training import MUTANTS
from parity_tests.mutation import Mutant, run_mutant

pytestmark = pytest.mark.ch6


@pytest.mark.parametrize("mutant", [pytest.param(m, id=m.name) for m in MUTANTS])
def test_harness_catches_ch6_training_mutant(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.total_rows > 0, f"{mutant.name} selected no rows"
    assert result.caught, f"{mutant.name} was not caught ({result.total_rows} rows all passed)"
