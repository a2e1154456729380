"""The gate: every registry case, in float64 (the gate) and float32 (its own tolerances), passes.

One parametrised test for the whole registry (``parity_tests/cases``): operator cases, value cases
and training runs alike. Each case carries its chapter's marker, so ``pytest -m ch5`` runs chapter 5's
cases; ``--seeds N`` runs each over seeds 0..N-1 (``conftest.py``). The other test files hold what a
case cannot say: specifications, bad input, planted bugs.
"""

from __future__ import annotations

import pytest

from parity_tests.harness import DTYPES
from parity_tests.registry import Case, all_cases, assert_case_passes


def _params() -> list[object]:
    return [pytest.param(c, id=c.name, marks=getattr(pytest.mark, f"ch{c.chapter}")) for c in all_cases()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", _params())
def test_case_matches_torch(case: Case, dtype: str) -> None:
    assert_case_passes(case, dtype)
