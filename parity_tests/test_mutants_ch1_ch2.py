"""Specification: the harness catches every planted chapter 1 and chapter 2 bug (book bug 7 among them)."""

import pytest

from parity_tests.mutants import functions, regression
from parity_tests.mutation import Mutant, run_mutant

PARAMS = [pytest.param(m, id=m.name, marks=pytest.mark.ch1) for m in functions.MUTANTS] + [
    pytest.param(m, id=m.name, marks=pytest.mark.ch2) for m in regression.MUTANTS
]


@pytest.mark.parametrize("mutant", PARAMS)
def test_chapter_1_and_2_mutant_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught, f"{mutant.name} survived {result.total_rows} rows"
    assert result.caught_by_a_check, f"{mutant.name} was caught only by a crash: {result.evidence}"


@pytest.mark.ch2
def test_book_bug_7_is_planted() -> None:
    assert any(m.book_bug == 7 for m in regression.MUTANTS)
