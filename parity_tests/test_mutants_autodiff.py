"""Self-test for ``autodiff``: the planted book bug is faithful (its catch is in ``test_mutants``)."""

from __future__ import annotations

from unittest import mock

import pytest

from parity_tests.mutants.autodiff import book_backward
from scratch.autodiff import NumberWithGrad

pytestmark = pytest.mark.ch6


def test_book_backward_reproduces_the_over_count() -> None:
    """The mutant is faithful to book bug 6: b = 4a, c = b + b gives a.grad = 12, not 8."""
    with mock.patch.object(NumberWithGrad, "backward", book_backward):
        a = NumberWithGrad(0.3)
        b = 4 * a
        c = b + b
        c.backward()
    assert a.grad == 12.0
