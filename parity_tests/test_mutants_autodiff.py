"""Self-test for ``autodiff``: every planted bug in ``NumberWithGrad`` is caught by its cases."""

from __future__ import annotations

from unittest import mock

import pytest

from parity_tests.mutants.autodiff import MUTANTS, book_backward
from parity_tests.mutation import Mutant, run_mutant
from scratch.autodiff import NumberWithGrad

pytestmark = pytest.mark.ch6


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_autodiff_mutant_is_caught(mutant: Mutant) -> None:
    result = run_mutant(mutant)
    assert result.caught, f"{mutant.name} slipped through {result.total_rows} rows"


def test_book_backward_reproduces_the_over_count() -> None:
    """The mutant is faithful to book bug 6: b = 4a, c = b + b gives a.grad = 12, not 8."""
    with mock.patch.object(NumberWithGrad, "backward", book_backward):
        a = NumberWithGrad(0.3)
        b = 4 * a
        c = b + b
        c.backward()
    assert a.grad == 12.0
