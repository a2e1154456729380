"""Specification: book bug 7 is among the planted chapter 2 bugs (every catch is in ``test_mutants``)."""

import pytest

from parity_tests.mutants import regression


@pytest.mark.ch2
def test_book_bug_7_is_planted() -> None:
    assert any(m.book_bug == 7 for m in regression.MUTANTS)
